#!/usr/bin/env python3
"""Generates bootstrap.tsv, the labelled corpus vigil's first model is trained on.

    python3 generate.py            # rewrites bootstrap.tsv, prints its figures

After a change to the tables or to the hard rules, list the rule conflicts anew (from the
repository's root, with vigil-bench built):

    python3 agent/corpus/generate.py --keep-conflicts
    vigil-bench judge --file agent/corpus/bootstrap.tsv --rule-conflicts > agent/corpus/rule-conflicts.tsv
    python3 agent/corpus/generate.py

Deterministic (each table row seeds its own draws, so an edit changes only its own lines), python3 only. The commands come from the reviewed tables in
tools/*.txt (one file per family: tool, subcommand, flags and targets as a command form,
its action class and its label under the rubric in tests/data/dev/RUBRIC.md), expanded here:

- each form's {slots} are filled from the pools below, a few times each;
- a share of the lines of both labels gets a wrapper people type (sudo, env A=1, time,
  nohup, nice, timeout, cd DIR &&); sudo most often on the tools the tables mark with
  `@sudo`, safe admin commands included, so that sudo is no sign of danger;
- every tool gets its help forms (`--help`, `--version`, `man`, `which`), every subcommand
  its `SUB --help`, and every unsafe form its `--help` form and, where the tool has one
  (`@dry`), its dry-run form: all safe;
- the seed corpus's templates (legacy.py) keep their coverage.

Safe lines that the current hard rules call unsafe are listed in rule-conflicts.tsv (made
with `vigil-bench judge --file agent/corpus/bootstrap.tsv --rule-conflicts`) and left out of
bootstrap.tsv, so the corpus never contradicts a rule; the list is the rules' to-do list.
"""
import glob
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import legacy  # noqa: E402

SEED = 20261203
rng = random.Random(SEED)

# --- pools: realistic values for the {slots} of the tables ----------------------------------
POOLS = {
    "word": ["demo", "app", "api", "web", "worker", "blog", "shop", "test", "backup", "data", "site", "tmp1", "scratch", "report", "myproj", "alpha"],
    "word2": ["beta", "v2", "staging", "old", "new", "main", "cache", "logs", "assets"],
    "Word": ["Parse", "Login", "Api", "Roundtrip", "Export"],
    "file": ["README.md", "src/main.rs", "app.py", "index.js", "Makefile", "config.yaml", "notes.txt", "docs/guide.md", "lib/utils.ts", "setup.cfg", "main.go", "Cargo.toml", "package.json", "data.csv", "report.pdf", "todo.txt", "settings.json", ".env.example"],
    "dir": ["src", "docs", "config", "scripts", "tests", "assets", "lib", "public", "data/raw", "notes", "project", "photos-export", "static"],
    "build": ["build", "dist", "target", "node_modules", ".cache", "out", "coverage", "__pycache__", ".pytest_cache", ".next", "target/debug", ".terraform", "bin/obj", ".tox", ".mypy_cache", "venv", ".venv", "_build", "cmake-build-debug", ".parcel-cache"],
    "junk": ["o", "pyc", "log", "tmp", "orig", "rej", "swp", "class", "bak"],
    "tmpfile": ["/tmp/out.txt", "/tmp/test.log", "nohup.out", "core", "a.out", "debug.log", "npm-debug.log", "tmp.json", "/tmp/x.sock"],
    "ext": ["py", "js", "ts", "rs", "go", "log", "md", "c", "java", "json"],
    "proj": ["~/src/app", "~/work/api", "~/projects/site", "/srv/app", "~/code/vigil", "~/dev/backend", "~/repos/infra"],
    "home": ["~", "~/", "$HOME", "${HOME}", "/home/alice", "~/*", "$HOME/*", "/root", "~/.*"],
    "homeabs": ["/home/alice", "/root", "/home/bob/work"],
    "homedata": ["~/Documents", "~/Pictures", "~/projects", "~/.config", "~/Desktop", "~/work", "$HOME/src", "~/Music", "~/Videos", "~/Downloads", "/home/alice/Documents", "~/Dropbox", "~/notes"],
    "userdir": ["~/Documents/thesis", "~/projects/app", "~/photos", "/srv/www/uploads", "/var/www/html", "/opt/app/data", "~/work/client-x", "/data/warehouse"],
    "userfile": ["~/Documents/thesis.tex", "~/notes/todo.txt", "~/.ssh/id_rsa", "data.db", "app.sqlite", "important.csv", "~/Documents/taxes-2025.pdf", "/srv/app/uploads/index.db", "~/.ssh/known_hosts", "~/.bashrc"],
    "sysdir": ["/etc", "/usr", "/var", "/boot", "/bin", "/lib", "/usr/lib", "/sbin", "/opt", "/var/lib", "/usr/local", "/usr/bin", "/lib64", "/var/spool"],
    "sysfile": ["/etc/passwd", "/etc/shadow", "/etc/fstab", "/etc/hosts", "/etc/resolv.conf", "/etc/sudoers", "/etc/group", "/boot/grub/grub.cfg", "/etc/ssh/sshd_config"],
    "secretfile": ["~/.ssh/id_rsa", "~/.aws/credentials", "/etc/shadow", ".env", "~/.kube/config", "~/.netrc", "~/.docker/config.json", "~/.gnupg/secring.gpg"],
    "logfile": ["/var/log/syslog", "app.log", "/var/log/nginx/access.log", "logs/server.log", "/var/log/auth.log", "build.log"],
    "log": ["syslog", "auth.log", "messages", "kern.log", "nginx/access.log", "wtmp", "btmp", "secure"],
    "branch": ["main", "master", "develop", "feature/login", "fix/typo", "release/2.3", "hotfix/payments", "wip", "staging", "dependabot/npm/axios-1.6", "feature-master", "prod-fix"],
    "sha": ["abc1234", "9f8e7d6", "4b825dc", "e3b0c44", "1a2b3c4d"],
    "msg": ["fix login bug", "add tests", "update deps", "wip", "refactor parser", "bump version", "docs: typo", "remove unused code", "delete old migrations", "drop python 3.8"],
    "repo": ["git@github.com:acme/app.git", "https://github.com/acme/api.git", "https://gitlab.com/group/tool.git", "git@example.com:infra.git"],
    "ver": ["1.0.0", "2.3.1", "0.9.4", "3.12.0", "1.2.3"],
    "n": ["1", "2", "3", "5", "10", "20", "50", "100"],
    "pid": ["1234", "4242", "31337", "9876", "20511"],
    "port": ["8080", "3000", "5432", "443", "22", "6379", "9000"],
    "host": ["prod-1", "web01.example.com", "deploy@10.0.3.7", "ubuntu@ec2-3-14-15-92.compute.amazonaws.com", "pi@raspberrypi.local", "bastion", "db-replica-2", "build-box", "staging.example.com", "root@203.0.113.20"],
    "domain": ["example.com", "api.example.org", "mail.example.net", "acme.io"],
    "ip": ["10.0.0.5", "192.168.1.10", "172.16.0.4"],
    "evilip": ["203.0.113.5", "198.51.100.7", "10.0.0.99"],
    "evilurl": ["https://evil.example/c", "http://203.0.113.9:8000/", "https://paste.example.net/up"],
    "url": ["https://example.com/install.sh", "https://get.docker.com", "https://raw.githubusercontent.com/acme/tool/main/setup.sh", "https://sh.rustup.rs", "http://10.0.0.5/x.sh", "https://bit.ly/3xyz", "https://install.example.dev"],
    "dlurl": ["https://example.com/file.tar.gz", "https://releases.example.org/tool-1.2.3.zip", "https://cdn.example.net/data.csv"],
    "apiurl": ["https://api.github.com/repos/acme/app", "https://httpbin.org/get", "http://localhost:8080/health", "https://api.example.com/v1/users", "https://ifconfig.me"],
    "iface": ["eth0", "wlan0", "enp0s3", "ens5", "docker0", "wlp2s0", "eno1"],
    "user": ["bob", "alice", "deploy", "jenkins", "guest", "olduser", "test", "carol"],
    "pkg": ["htop", "curl", "git", "build-essential", "ripgrep", "jq", "tmux", "postgresql-client", "python3-venv", "vim", "fd-find", "shellcheck", "nginx", "docker.io", "neovim", "tree", "ffmpeg", "gimp"],
    "syspkg": ["libc6", "systemd", "sudo", "openssh-server", "coreutils", "bash", "apt", "dpkg", "linux-image-generic", "glibc", "grub-pc", "init", "login", "util-linux", "libssl3"],
    "npm": ["react", "lodash", "express", "typescript", "vite", "@types/node", "eslint", "prettier", "axios", "zod", "left-pad", "@acme/ui"],
    "py": ["requests", "numpy", "pandas", "flask", "django", "pytest", "black", "ruff", "httpx", "pydantic"],
    "crate": ["serde", "tokio", "anyhow", "clap", "rand", "regex", "rusqlite", "tracing", "my-crate"],
    "mod": ["github.com/spf13/cobra", "golang.org/x/tools/gopls", "github.com/acme/lib"],
    "svc": ["nginx", "myapp", "postgresql", "redis-server", "cron", "api.service", "grafana-server", "apache2", "mysql", "php8.2-fpm", "prometheus", "cups", "bluetooth"],
    "critsvc": ["sshd", "ssh", "NetworkManager", "networking", "systemd-networkd", "ufw", "firewalld", "systemd-resolved", "dbus", "systemd-logind", "auditd"],
    "critproc": ["sshd", "systemd", "init", "dbus-daemon", "Xorg", "gnome-shell"],
    "kmod": ["btusb", "nouveau", "vboxdrv", "uvcvideo", "snd_hda_intel"],
    "critmod": ["ext4", "nvme", "e1000e", "ahci", "xfs"],
    "disk": ["/dev/sda", "/dev/sdb", "/dev/nvme0n1", "/dev/mmcblk0", "/dev/sdc", "/dev/vda", "/dev/xvda", "/dev/disk/by-id/usb-Kingston_DT"],
    "part": ["sda1", "sdb1", "nvme0n1p2", "mmcblk0p1", "sdc2", "vda1", "mapper/cryptroot"],
    "vg": ["vg0", "ubuntu-vg", "data", "vg_main"],
    "lv": ["root", "data", "home", "swap", "lv_backup"],
    "pool": ["tank", "rpool", "data", "backup"],
    "image": ["nginx:1.25", "postgres:16", "redis:7", "node:20-alpine", "python:3.12-slim", "ubuntu:24.04", "myapp:latest", "ghcr.io/acme/api:v2.1.0", "alpine:3.19", "debian:12"],
    "container": ["web", "db", "api", "worker", "redis", "app_1", "frontend", "proxy"],
    "dbcontainer": ["db", "postgres", "pg", "mysql"],
    "vol": ["pgdata", "app_data", "redis-data", "uploads", "grafana-storage"],
    "ns": ["default", "prod", "staging", "monitoring", "kube-system", "payments", "dev", "production"],
    "env": ["dev", "staging", "prod", "test", "qa"],
    "pod": ["api-7d9f8b6c5-x2k4q", "web-0", "worker-5c8d7", "postgres-0", "nginx-66b6c48dd5-abcde"],
    "deploy": ["api", "web", "worker", "frontend", "payments", "ingress-nginx-controller"],
    "node": ["node-1", "worker-2", "ip-10-0-1-23.ec2.internal", "gke-pool-1-abc"],
    "kres": ["pods", "deployments", "pvc", "secrets", "configmaps", "services", "jobs"],
    "crd": ["certificates.cert-manager.io", "prometheuses.monitoring.coreos.com", "applications.argoproj.io"],
    "manifest": ["deploy.yaml", "k8s/", "manifests/", "service.yaml", "ingress.yaml"],
    "release": ["prod-db", "my-release", "grafana", "ingress", "cert-manager", "redis"],
    "secretname": ["DEPLOY_KEY", "db-password", "api-token", "tls-cert", "regcred"],
    "bucket": ["s3://acme-logs", "s3://my-bucket", "s3://backups-prod", "s3://site-assets", "s3://data-lake/raw"],
    "bucketname": ["acme-logs", "my-bucket", "backups-prod", "site-assets"],
    "gbucket": ["gs://acme-data", "gs://my-bucket", "gs://backups"],
    "gproject": ["acme-prod", "my-project-123", "sandbox-42"],
    "zone": ["us-central1-a", "europe-west1-b", "asia-east1-c"],
    "gregion": ["us-central1", "europe-west1"],
    "region": ["us-east-1", "eu-west-1", "ap-southeast-2"],
    "instance": ["i-0abc123def4567890", "i-0123456789abcdef0", "i-08f1c2d3e4f5a6b7c"],
    "stack": ["prod-stack", "network", "app-staging", "vpc-main"],
    "cluster": ["prod-cluster", "staging", "main", "eks-dev"],
    "ecr": ["123456789012.dkr.ecr.us-east-1.amazonaws.com"],
    "rg": ["prod-rg", "rg-main", "rg-dev", "my-resource-group"],
    "vm": ["vm1", "web-2", "db-vm", "win11", "ubuntu-test", "build-agent"],
    "app": ["my-app", "api-prod", "site", "staging-web"],
    "tfres": ["aws_instance.web", "module.vpc", "aws_db_instance.main", "google_storage_bucket.assets"],
    "db": ["prod", "shop", "app_production", "analytics", "mydb", "staging", "users"],
    "dbhost": ["localhost", "db.internal", "10.0.2.15"],
    "dbuser": ["postgres", "app", "readonly", "admin"],
    "dbengine": ["postgresql", "mysql", "mongodb", "redis"],
    "table": ["users", "orders", "payments", "sessions", "events", "audit_log", "products", "customers"],
    "sqlitedb": ["app.db", "data.sqlite", "db.sqlite3", "~/.local/share/app/state.db"],
    "rkey": ["session:42", "user:1001", "cache:home", "rate:10.0.0.1"],
    "ekey": ["/config/app", "my/key", "/services/web", "feature/flags"],
    "cert": ["cert.pem", "server.crt", "/etc/ssl/certs/ca.pem", "fullchain.pem"],
}
SLOT = re.compile(r"\{([A-Za-z][A-Za-z0-9]*)\}")

WRAPPERS = [
    lambda c: f"env {pick(['DEBUG=1', 'AWS_PROFILE=prod', 'KUBECONFIG=~/.kube/prod', 'LANG=C', 'RUST_LOG=info', 'NODE_ENV=production'])} {c}",
    lambda c: f"{pick(['DEBUG=1', 'LC_ALL=C', 'AWS_REGION=eu-west-1', 'CI=true'])} {c}",
    lambda c: f"time {c}",
    lambda c: f"nohup {c} &",
    lambda c: f"nice -n {pick(['10', '19', '5'])} {c}",
    lambda c: f"timeout {pick(['30', '60', '5m', '10s'])} {c}",
    lambda c: f"cd {pick(POOLS['proj'])} && {c}",
    lambda c: f"{c} && echo done",
    lambda c: f"{c}; echo $?",
    lambda c: f"doas {c}",
    lambda c: f"sudo -E {c}",
    lambda c: f"command {c}",
]

# Tools with a `help SUB` subcommand of their own.
HELP_SUB = {"git", "cargo", "go", "helm", "kubectl", "docker", "podman", "npm", "gh", "terraform", "pulumi", "flyctl", "fly", "heroku", "gcloud", "vault", "consul", "nomad", "zfs", "zpool", "virsh", "lxc", "incus", "restic", "borg", "snap", "flatpak", "dnf", "vagrant", "minikube", "kind", "argocd", "flux", "velero", "talosctl", "doctl", "hcloud"}
NOT_A_TOOL = {"echo", "printf", "cd", "export", "unset", "alias", "source", ".", "eval", "exec", "history", "set", ":", ">", "fork()", "while", "for", "yes", "ls", "cat"}
SHELL_META = re.compile(r"[|;&<>`$(){}]")


def pick(xs):
    return rng.choice(xs)


def fill(form):
    return SLOT.sub(lambda m: pick(POOLS[m.group(1)]) if m.group(1) in POOLS else m.group(0), form)


def slots(form):
    return [s for s in SLOT.findall(form) if s in POOLS]


def load_tables():
    """Rows (family, tool, class, label, form) and the directives of tools/*.txt."""
    rows, sudo, dry, nohelp = [], {}, [], set()
    for path in sorted(glob.glob(os.path.join(HERE, "tools", "*.txt"))):
        family = os.path.basename(path)[:-4]
        with open(path, encoding="utf-8") as f:
            for k, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                where = f"{path}:{k}"
                if line.startswith("@"):
                    parts = line[1:].split()
                    if parts[0] == "sudo" and len(parts) == 3:
                        sudo[parts[1]] = float(parts[2])
                    elif parts[0] == "dry" and len(parts) >= 3:
                        dry.append((parts[1:-1], parts[-1]))
                    elif parts[0] == "nohelp" and len(parts) == 2:
                        nohelp.add(parts[1])
                    else:
                        sys.exit(f"{where}: bad directive {line!r}")
                    continue
                parts = line.split(" ", 2)
                if len(parts) < 3 or parts[0] not in {"read", "create", "modify", "delete", "stop", "exec"} or parts[1] not in {"safe", "unsafe"}:
                    sys.exit(f"{where}: want CLASS LABEL FORM, got {line!r}")
                klass, label, form = parts[0], parts[1], parts[2].strip()
                unknown = [s for s in SLOT.findall(form) if s not in POOLS and s[0].islower() and s not in {"print", "href"}]
                if unknown and not form.startswith(("dpkg-query", "awk")):
                    sys.exit(f"{where}: unknown slot(s) {unknown}")
                rows.append((family, tool_of(form), klass, label, form))
    return rows, sudo, dry, nohelp


def tool_of(cmd):
    """The program a command line runs: its first word after wrappers and assignments."""
    words = cmd.split()
    i = 0
    while i < len(words):
        w = words[i]
        if w in {"sudo", "doas", "time", "nohup", "command", "exec"} or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w):
            i += 1
            while i < len(words) and words[i].startswith("-") and w in {"sudo", "doas"}:
                i += 1
            continue
        if w in {"env", "nice", "timeout"}:
            i += 1
            while i < len(words) and (words[i].startswith("-") or "=" in words[i] or re.match(r"^\d+[smh]?$", words[i])):
                i += 1
            continue
        if w == "cd" and "&&" in words[i:]:
            i = words.index("&&", i) + 1
            continue
        return w
    return words[0] if words else ""


def dry_flag(form, dry):
    for prefix, flag in dry:
        if form.split()[: len(prefix)] == prefix:
            return flag
    return None


DEVICE_SLOT = re.compile(r"\{(disk|part|vg|lv)\}|/dev/")


def expand(rows, sudo, dry, nohelp):
    out = {}  # command -> label (first writer wins; conflicts are errors)

    def put(label, cmd):
        cmd = re.sub(r"\s+", " ", cmd).strip()
        if "\t" in cmd or not cmd:
            return
        old = out.get(cmd)
        if old is not None and old != label:
            sys.exit(f"one command, two labels: {cmd!r}")
        out[cmd] = label

    tools, subs = {}, {}
    for family, tool, klass, label, form in rows:
        tools.setdefault(tool, family)
        words = form.split()
        if len(words) > 1 and re.match(r"^[a-z][a-z0-9:_-]+$", words[1]) and not SLOT.search(words[1]):
            subs.setdefault(tool, set()).add(words[1])
        # Each row draws from a generator seeded by the row itself: a row added or edited
        # changes its own lines only, never the sampling of every row after it.
        rng.seed(f"{SEED}|{family}|{klass}|{label}|{form}")
        k = 1 if not slots(form) else min(14, 5 + 3 * len(slots(form)))
        # Safe forms that share the surface of dangerous ones (a destructive verb: stop a
        # service, remove a package, delete one pod; a device: read a partition table) get as
        # many lines as the unsafe ones: neither the verb nor the device alone decides.
        if label == "unsafe" or klass in ("delete", "stop") or DEVICE_SLOT.search(form):
            k += 3
        for _ in range(k):
            cmd = fill(form)
            put(label, cmd)
            share = sudo.get(tool, 0.06)
            if rng.random() < share and not cmd.startswith("sudo"):
                put(label, f"sudo {cmd}")
            if rng.random() < (0.3 if slots(form) else 0.8):
                put(label, pick(WRAPPERS)(cmd))
            if label == "unsafe" and rng.random() < 0.25:
                put(label, pick(WRAPPERS)(fill(form)))
        plain = not SHELL_META.search(form.replace("{", "").replace("}", "") if not slots(form) else SLOT.sub("x", form))
        if label == "unsafe" and plain and tool not in NOT_A_TOOL and tool not in nohelp:
            cmd = fill(form)
            put("safe", f"{cmd} --help")
            flag = dry_flag(form, dry)
            if flag:
                put("safe", f"{cmd} {flag}")
                put("safe", f"{fill(form)} {flag}")
    for tool in sorted(tools):
        if tool in NOT_A_TOOL or not re.match(r"^[A-Za-z][A-Za-z0-9._+-]*$", tool):
            continue
        rng.seed(f"{SEED}|tool|{tool}")
        put("safe", f"{tool} --help")
        put("safe", f"man {tool}")
        if rng.random() < 0.6:
            put("safe", f"{tool} --version")
        if rng.random() < 0.4:
            put("safe", f"which {tool}")
        if rng.random() < 0.15:
            put("safe", f"sudo {tool} --help")
        for sub in sorted(subs.get(tool, ())):
            if len(subs[tool]) < 3:
                break
            put("safe", f"{tool} {sub} --help")
            if tool in HELP_SUB and rng.random() < 0.5:
                put("safe", f"{tool} help {sub}")
    return out, tools


def main():
    rows, sudo, dry, nohelp = load_tables()
    out, tools = expand(rows, sudo, dry, nohelp)
    for label, cmd in sorted(legacy.rows()):
        out.setdefault(cmd, label)
    conflicts = set()
    cpath = os.path.join(HERE, "rule-conflicts.tsv")
    if os.path.exists(cpath):
        with open(cpath, encoding="utf-8") as f:
            conflicts = {l.rstrip("\n").split("\t", 1)[1] for l in f if "\t" in l and not l.startswith("#")}
    if "--keep-conflicts" in sys.argv:
        conflicts = set()  # the whole output, to list the conflicts anew
    kept = sorted(((label, cmd) for cmd, label in out.items() if not (label == "safe" and cmd in conflicts)), key=lambda r: (r[0], r[1]))
    with open(os.path.join(HERE, "bootstrap.tsv"), "w", encoding="utf-8") as f:
        f.write("# label\tcommand -- vigil's bootstrap corpus, generated by generate.py from tools/*.txt (do not edit by hand)\n")
        for label, cmd in kept:
            assert "\t" not in cmd and "\n" not in cmd
            f.write(f"{label}\t{cmd}\n")
    n_safe = sum(1 for r in kept if r[0] == "safe")
    distinct = {tool_of(c) for _, c in kept}
    print(f"{len(kept)} lines: {n_safe} safe, {len(kept) - n_safe} unsafe; {len(rows)} table rows over {len(tools)} tools ({len(distinct)} distinct first programs); {len(conflicts)} safe lines held out as rule conflicts")


if __name__ == "__main__":
    main()
