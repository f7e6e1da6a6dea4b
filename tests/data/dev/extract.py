#!/usr/bin/env python3
"""Extracts the commands of the EXAMPLES sections of the manual pages installed here.

Writes `candidates.tsv` (TOOL<TAB>COMMAND<TAB>SOURCE) beside this file: the raw material of
the development set `dev.tsv`, which `label.py` labels under RUBRIC.md. Deterministic: the
pages are read in sorted order, the pages of very large suites (gcloud) are sampled with a
fixed seed, and at most PER_PAGE commands are kept from one page.

    python3 extract.py [--mandir /usr/share/man]

Only what a person would type at a prompt is kept: an indented line of the EXAMPLES section
whose first word (after an optional `$ `/`# ` prompt) is a program with a manual page here or
a shell builtin; lines continued with a backslash are joined; `<placeholders>` are filled.
"""
import glob
import gzip
import os
import random
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PER_PAGE = 6
SAMPLE = {"gcloud": 260, "aws": 120}  # suites with thousands of pages: a seeded sample
BUILTINS = {"cd", "echo", "export", "set", "unset", "source", "eval", "exec", "kill", "time", "sudo", "env", "nohup", "nice", "timeout", "for", "while", "if"}

# <placeholder> -> value, by the placeholder's first word
FILL = {
    "file": "notes.txt", "filename": "report.txt", "files": "a.txt b.txt", "dir": "project", "directory": "project",
    "path": "data/input", "host": "server1.example.com", "hostname": "server1", "user": "alice", "username": "alice",
    "device": "/dev/sdb", "disk": "/dev/sdb", "partition": "/dev/sdb1", "port": "8080", "name": "demo", "url": "https://example.com/",
    "package": "htop", "pkg": "htop", "pattern": "error", "number": "3", "n": "3", "id": "42", "pid": "4242",
    "group": "staff", "interface": "eth0", "iface": "eth0", "address": "192.0.2.10", "ip": "192.0.2.10", "key": "mykey",
    "value": "1", "version": "1.2.3", "command": "ls", "cmd": "ls", "program": "ls", "project": "my-project", "zone": "us-central1-a",
    "region": "us-central1", "instance": "my-instance", "bucket": "my-bucket", "image": "debian:12", "service": "nginx",
}


def owners(mandir):
    """Manual page path -> Debian package, from dpkg's file lists."""
    out = {}
    for lst in glob.glob("/var/lib/dpkg/info/*.list"):
        pkg = os.path.basename(lst)[:-5].split(":")[0]
        try:
            with open(lst, encoding="utf-8", errors="replace") as f:
                for line in f:
                    line = line.strip()
                    if line.startswith(mandir):
                        out[line] = pkg
        except OSError:
            pass
    return out


def render(page):
    env = dict(os.environ, MANWIDTH="200", LC_ALL="C.UTF-8")
    try:
        text = subprocess.run(["man", "-l", page], capture_output=True, env=env, timeout=20).stdout
        text = subprocess.run(["col", "-b"], input=text, capture_output=True, timeout=20).stdout
    except (subprocess.TimeoutExpired, OSError):
        return ""
    return text.decode("utf-8", "replace")


def examples(text):
    """The lines of the EXAMPLE(S) section."""
    lines = text.splitlines()
    out, inside = [], False
    for line in lines:
        if re.match(r"^[A-Z][A-Z /-]+$", line):
            inside = bool(re.match(r"^(EXAMPLES?|USAGE EXAMPLES|EXAMPLE USAGE|EXAMPLES AND USAGE)\s*$", line))
            continue
        if inside:
            out.append(line.replace("\t", "        "))
    return out


def fill(cmd):
    def one(m):
        word = re.split(r"[^a-z]", m.group(1).lower())[0]
        return FILL.get(word, FILL.get(word.rstrip("s"), "demo"))
    cmd = re.sub(r"<([A-Za-z][A-Za-z0-9_ -]{0,30})>", one, cmd)
    cmd = re.sub(r"\s+", " ", cmd).strip()
    return cmd


def commands(lines, known):
    out, buf = [], None
    for raw in lines:
        line = raw.strip()
        if buf is not None:
            buf += " " + line.rstrip("\\").strip()
            if not line.endswith("\\"):
                out.append(buf)
                buf = None
            continue
        if not raw.startswith(" ") or not line:
            continue
        m = re.match(r"^(?:[$#%] +|\w*[$#] +)?(.*)$", line)
        cmd = m.group(1) if m else line
        first = cmd.split(" ", 1)[0]
        if first not in known or first.endswith(":"):
            continue
        if re.search(r"[.:]$", cmd) and len(cmd.split()) > 6 and re.search(r"\b(the|a|an|is|are|to|of)\b", cmd):
            continue  # a sentence that starts with a program's name
        if cmd.endswith("\\"):
            buf = cmd.rstrip("\\").strip()
        else:
            out.append(cmd)
    return out


def main():
    mandir = "/usr/share/man"
    if "--mandir" in sys.argv:
        mandir = sys.argv[sys.argv.index("--mandir") + 1]
    pages = sorted(glob.glob(f"{mandir}/man1/*") + glob.glob(f"{mandir}/man8/*"))
    known = {os.path.basename(p).split(".")[0] for p in pages} | BUILTINS
    rng = random.Random(20261203)
    chosen = []
    for suite, k in SAMPLE.items():
        mine = [p for p in pages if os.path.basename(p).startswith(suite + "_") or os.path.basename(p).startswith(suite + ".")]
        chosen += rng.sample(mine, min(k, len(mine)))
        pages = [p for p in pages if p not in set(mine)]
    chosen = sorted(pages + chosen)
    own = owners(mandir)
    seen = set()
    rows = []
    for page in chosen:
        name = os.path.basename(page)
        title = re.sub(r"\.(gz|xz|bz2)$", "", name)
        pkg = own.get(page, "unknown")
        got = commands(examples(render(page)), known)
        kept = 0
        for cmd in got:
            cmd = fill(cmd)
            if len(cmd) < 3 or len(cmd) > 300 or "\t" in cmd or cmd in seen:
                continue
            seen.add(cmd)
            tool = cmd.split(" ", 1)[0]
            rows.append((tool, cmd, f"man:{pkg}:{title}"))
            kept += 1
            if kept >= PER_PAGE:
                break
    with open(os.path.join(HERE, "candidates.tsv"), "w", encoding="utf-8") as f:
        f.write("# tool\tcommand\tsource -- EXAMPLES of Debian manual pages, from extract.py\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"{len(rows)} commands from {len(chosen)} pages", file=sys.stderr)


if __name__ == "__main__":
    main()
