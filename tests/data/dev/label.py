#!/usr/bin/env python3
"""Builds the development set dev.tsv from candidates.tsv (manual pages' EXAMPLES, see
extract.py) and people.tsv (commands as people type them, written and labelled by hand).

    python3 label.py

Each manual-page command gets the label RUBRIC.md gives it: `propose()` below writes the
rubric's cases down as patterns, and overrides.tsv holds the labels a reading by hand put
right where the patterns were wrong (it wins). Lines identical to a line of the bootstrap
corpus are left out, so the set stays disjoint from the corpus (a test checks it), and so
are lines that are not commands (shell syntax fragments, prose).
Output: LABEL<TAB>TOOL_FAMILY<TAB>COMMAND<TAB>SOURCE, sorted by family then command.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

FAMILIES = {
    "vcs": "git gh hg svn git-cherry tig",
    "files": "rm mv cp ln mkdir rmdir chmod chown chgrp touch find ls stat du df tree rename install shred truncate fallocate realpath readlink basename dirname mktemp mkfifo mknod namei fuser lsof unlink sync chattr lsattr setfacl getfacl rsync",
    "text": "cat grep sed awk sort uniq cut tr head tail less more wc paste join comm nl fold fmt od xxd hexdump iconv column numfmt seq printf echo look tac tee diff cmp patch strings base64 split csplit expand unexpand pr jq yq groff troff tbl pic grog nroff man lexgrog pod2man zipinfo zipnote luit",
    "archive": "tar zip unzip gzip gunzip zcat xz unxz bzip2 zstd 7z cpio ar funzip gpgtar gpg-zip",
    "pkg": "apt apt-get apt-cache apt-mark aptitude dpkg dpkg-deb dpkg-query dpkg-divert dpkg-name dpkg-architecture debconf debconf-copydb debconf-apt-progress add-apt-repository pip pip3 npm cargo gem update-alternatives ucf ucfr ucfq snap flatpak pkgconf pkg-config",
    "system": "systemctl journalctl service shutdown reboot halt poweroff init telinit kill killall pkill pgrep skill snice ps top renice nice nohup timeout loginctl hostnamectl timedatectl localectl sysctl dmesg crontab at useradd userdel usermod passwd chsh su sudo login id whoami w users groups run-parts start-stop-daemon systemd-run systemd-analyze systemd-escape systemd-notify systemd-inhibit systemd-cat systemd-delta systemd-socket-activate systemd-ask-password systemd-creds systemd-measure systemd-cryptenroll busctl gdbus dbus-monitor dbus-update-activation-environment coredumpctl prlimit setpriv unshare setarch chmem readprofile script scriptreplay scriptlive time watch env date locale localedef validlocale update-locale pivot_root logger tmux screen uptime free",
    "disk": "dd mkfs mkfs.ext4 mke2fs mkswap fdisk sfdisk gdisk sgdisk parted wipefs blkid lsblk findmnt mount umount swapon swapoff losetup partx blkdeactivate dmsetup dmstats zramctl lvcreate lvremove vgremove pvremove lvs vgs pvs cryptsetup mdadm zpool zfs btrfs e2fsck fsck tune2fs resize2fs e2freefrag badblocks hdparm smartctl blkdiscard qemu-img qemu-nbd qemu-storage-daemon fstab-decode",
    "net": "ip tc ss netstat ping traceroute curl wget ssh scp sftp ssh-keyscan nc ncat socat iptables ip6tables nft ufw ifconfig route arp arpd devlink rdma tipc lnstat rtmon bridge dig host nslookup nmcli iw ethtool vdpa dcb",
    "security": "openssl gpg gpgv gpgsm gpg-connect-agent watchgnupg gpg-wks-server ssh-keygen ssh-add xauth fakeroot certtool",
    "db": "psql pg_dump pg_dumpall pg_restore pg_ctl pg_basebackup pg_isready pg_verifybackup pg_receivewal pg_virtualenv pg_buildext createdb dropdb createuser dropuser vacuumdb reindexdb clusterdb oid2name postgres mysql mysqldump sqlite3 redis-cli mongosh",
    "cloud": "gcloud gsutil bq aws az terraform",
    "container": "kubectl helm docker podman",
    "dev": "make gcc g++ cc clang ld as objdump nm size readelf llvm-symbolizer llvm-cxxfilt llvm-strings llc perl python python3 node ruby php h2xs gdb perf memusage memusagestat pldd rpcgen jps java fc-match fc-list gapplication tput tsget edit uconv bash sh",
}
FAMILY = {t: f for f, ts in FAMILIES.items() for t in ts.split()}

SYS = r"(/|/\*|/etc|/usr|/var|/boot|/bin|/sbin|/lib|/lib64|/opt|/root|/home|~|\$HOME)/?(\s|$)"
UNSAFE = [
    r"\brm\s+(-\S*[rRf]\S*\s+)+" + SYS,
    r"\bdd\b.*\bof=/dev/(?!null|stdout)",
    r"\bmkfs(\.\w+)?\s+(-\S+\s+)*/dev/", r"\bmke2fs\s+(-\S+\s+\S+\s+)*/dev/", r"\bmkswap\s+/dev/",
    r"\bwipefs\s+(.*\s)?(-a|--all|-o|--offset)\b(?!.*(-n|--no-act))",
    r"\bsgdisk\s+.*(-Z|--zap|-o\b|--clear|-d\s|--delete|-n\s|--new|-g\b|--mbrtogpt|-l\s|--load-backup)",
    r"\bsfdisk\s+(?!.*(-l|--list|-d|--dump|-J|--json|-s|--show-size|--verify|-V|--help|--backup-file))\S*\s*/dev/\S+\s*(<|$)|\bsfdisk\s+.*--delete",
    r"\bparted\s+.*\b(mklabel|mkpart|rm|resizepart)\b", r"\bblkdiscard\b", r"\bcryptsetup\s+(luksFormat|erase|luksErase|luksKillSlot|reencrypt)",
    r"\b(lvremove|vgremove|pvremove)\b(?!.*--test)", r"\bdmsetup\s+(remove_all|wipe_table)", r"\bswapoff\s+-a",
    r"\bzpool\s+(destroy|labelclear)", r"\bzfs\s+destroy(?!.*\s-n)", r"\bbtrfs\s+(subvolume|device)\s+delete",
    r"\bchmod\s+(-R\s+)?(777|a\+w|o\+w|666)\s+" + SYS, r"\bchown\s+-R\s+\S+\s+" + SYS,
    r"\bkill\s+-(9|KILL|s\s+KILL)\s+-1\b", r"\bkillall5\b", r"\bskill\s+-(KILL|9)\s", r"\bpkill\s+(-9\s+)?-u\b",
    r"^(sudo\s+)?(shutdown|reboot|halt|poweroff)(\s+(?!(-k|--help|-c|--version|-w|--wtmp-only)\b)\S+)*\s*$", r"^(sudo\s+)?(telinit|init)\s+[0156sS]\b",
    r"\bsystemctl\s+(poweroff|reboot|halt|kexec|isolate|emergency|rescue|suspend|hibernate|soft-reboot)\b",
    r"\bsystemctl\s+(stop|kill|mask|disable)\s+(.*\s)?(ssh|sshd|networking|NetworkManager|systemd-networkd|firewalld|ufw|dbus|systemd-logind)\b",
    r"\bgit\s+push\s+(.*\s)?(-f|--force|--mirror|--delete|-d|--prune)(\s|$)", r"\bgit\s+push\s+\S+\s+(\+|:)\S", r"\bgit\s+reset\s+(.*\s)?--hard",
    r"\bgit\s+clean\s+(-\S*f)", r"\bgit\s+checkout\s+(-f|--\s+\.|\.$)", r"\bgit\s+branch\s+(-D|--delete\s+--force)", r"\bgit\s+stash\s+(clear|drop)",
    r"\bgit\s+reflog\s+expire", r"\bgit\s+gc\s+.*--prune=now", r"\bgit\s+filter-branch", r"\bgit\s+update-ref\s+-d",
    r"\bgcloud\s+.*\s(delete|destroy|purge|remove|reset|wipe|stop|disable|undelete-no|abandon|cancel|rollback|revoke|drop|detach|deprovision)(\s|$)",
    r"\bgcloud\s+.*--member=(allUsers|allAuthenticatedUsers)",
    r"\b(DROP|TRUNCATE)\s+(TABLE|DATABASE|SCHEMA|INDEX|ROLE|USER)?\b", r"\bDELETE\s+FROM\s+\w+\s*(;|'|\"|$)(?!.*WHERE)",
    r"^(sudo\s+)?(dropdb|dropuser)\b", r"\bpg_restore\s+.*(-c|--clean)\b", r"\bpg_ctl\s+.*-m\s+(immediate|i)\b",
    r"\biptables\s+(-F|--flush|-X|-P\s+\w+\s+ACCEPT)", r"\bnft\s+flush\s+ruleset", r"\bufw\s+(disable|reset)",
    r"\bip\s+link\s+set\s+(dev\s+)?(eth0|enp\S+|ens\S+|eno\S+|wlan0|em1|lo)\s+down", r"\bifconfig\s+\S+\s+down", r"\bip\s+route\s+flush\s+(table\s+main|all)",
    r"^(sudo\s+)?(userdel|deluser|groupdel)\b", r"\bpasswd\s+-d\b", r"\bcrontab\s+-r\b", r"\bhistory\s+-c\b",
    r"\bshred\b", r"\bdevlink\s+dev\s+flash\b", r"\bcurl\b.*\|\s*(sudo\s+)?(ba|z)?sh\b", r"\bwget\b.*\|\s*(sudo\s+)?(ba)?sh\b",
    r"\bfind\s+(/|~|\$HOME)\s.*(-delete|-exec\s+rm)", r"\b(rm|shred)\s+.*\.ssh/id_", r"\bredis-cli\s+.*\b(flushall|flushdb)\b",
    r"\bdpkg\s+.*--force-(remove-essential|all)", r"\bapt(-get)?\s+(remove|purge)\s+.*\b(libc6|systemd|dpkg|apt|bash|coreutils|sudo)\b",
    r"\bumount\s+-a\b", r"\bmount\s+.*remount,ro\s+/\s*$", r"\bsysctl\s+-w\s+kernel\.(panic|sysrq)",
    r"echo\s+[bcos]\s*>\s*/proc/sysrq-trigger", r">\s*/etc/(passwd|shadow|sudoers|fstab|hosts|group)\b",
    r"\bssh-keygen\s+.*-f\s+~?/?\.ssh/id_\w+\s+.*-N\s+''.*<<<\s*y",
]
UNSAFE = [re.compile(p, re.I if "DROP" in p or "DELETE" in p else 0) for p in UNSAFE]


def propose(cmd):
    return "unsafe" if any(p.search(cmd) for p in UNSAFE) else "safe"


def junk(cmd):
    first = cmd.split(" ", 1)[0]
    if first in {"if", "for", "while", "print", "case", "do", "done", "then", "else", "fi", "function", "{", "}", "set", "unset", "export", "edit", "test"} and len(cmd.split()) < 3:
        return True
    if first in {"if", "for", "while", "print"}:
        return True
    if re.search(r"(\|\||&&|\||\\|\{|\(|,)\s*$", cmd) or re.search(r"\(\d\)$", cmd):
        return True
    if cmd.count("'") % 2 or cmd.count('"') % 2:
        return True
    if re.search(r"\.\.\.(\s|$)|\[[A-Z_ |-]+\]|\bFOO\b.*\bBAR\b", cmd):
        return True  # synopsis notation, not a command
    return False


def read_tsv(path, cols):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != cols:
                sys.exit(f"{path}: want {cols} columns: {line!r}")
            out.append(parts)
    return out


def main():
    corpus = set()
    with open(os.path.join(ROOT, "agent", "corpus", "bootstrap.tsv"), encoding="utf-8") as f:
        for line in f:
            if "\t" in line and not line.startswith("#"):
                corpus.add(line.rstrip("\n").split("\t", 1)[1])
    overrides = {c: l for l, c in read_tsv(os.path.join(HERE, "overrides.tsv"), 2)}
    rows, seen = [], set()
    for tool, cmd, source in read_tsv(os.path.join(HERE, "candidates.tsv"), 3):
        if junk(cmd) or cmd in corpus or cmd in seen:
            continue
        label = overrides.get(cmd, propose(cmd))
        if label == "drop":
            continue
        seen.add(cmd)
        family = FAMILY.get(tool, "cloud" if tool in {"gcloud", "aws", "az"} else "other")
        rows.append((label, family, cmd, source))
    for label, family, cmd, source in read_tsv(os.path.join(HERE, "people.tsv"), 4):
        if cmd in corpus or cmd in seen:
            continue
        seen.add(cmd)
        rows.append((label, family, cmd, source))
    rows.sort(key=lambda r: (r[1], r[2]))
    with open(os.path.join(HERE, "dev.tsv"), "w", encoding="utf-8") as f:
        f.write("# label\tfamily\tcommand\tsource -- vigil's development set, built by label.py under RUBRIC.md (do not edit by hand)\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    n_unsafe = sum(1 for r in rows if r[0] == "unsafe")
    fams = {}
    for r in rows:
        fams[r[1]] = fams.get(r[1], 0) + 1
    print(f"{len(rows)} lines, {n_unsafe} unsafe; families {dict(sorted(fams.items()))}", file=sys.stderr)


if __name__ == "__main__":
    main()
