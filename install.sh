#!/usr/bin/env bash
# Builds vigil, installs `vigil` and `vigild`, and wires the hook into every shell present
# (bash, zsh, fish) with one marked block per rc file. Running it again changes nothing.
#
#   ./install.sh                 build (release) and install to ~/.local/bin
#   ./install.sh --uninstall     stop the agent, remove the blocks and the binaries; keep data
#   ./install.sh --uninstall --purge   ... and delete vigil's data, labels and config too
#
# --uninstall runs `vigil uninstall` (the same command a person can type).
# Options: --bin-dir DIR (default ~/.local/bin, or $VIGIL_BIN_DIR), --from DIR (install
# binaries already built in DIR instead of building), --build-only (build, print the folder).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin_dir=${VIGIL_BIN_DIR:-$HOME/.local/bin}
from=""
mode=install
purge=0

while [ $# -gt 0 ]; do
    case $1 in
        --uninstall) mode=uninstall ;;
        --purge) purge=1 ;;
        --bin-dir) bin_dir=$2; shift ;;
        --from) from=$2; shift ;;
        --build-only) mode=build ;;
        -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

begin='# >>> vigil >>>'
end='# <<< vigil <<<'

rc_files() {
    command -v bash >/dev/null 2>&1 && printf 'bash\t%s\n' "$HOME/.bashrc"
    command -v zsh >/dev/null 2>&1 && printf 'zsh\t%s\n' "${ZDOTDIR:-$HOME}/.zshrc"
    command -v fish >/dev/null 2>&1 && printf 'fish\t%s\n' "${XDG_CONFIG_HOME:-$HOME/.config}/fish/config.fish"
    return 0
}

# The block for one shell; quoted so that a path with spaces or quotes survives.
block() {
    local shell=$1 vigil=$2 q
    case $shell in
        fish)
            q=${vigil//\\/\\\\}
            q="'${q//\'/\\\'}'"
            printf '%s\nif test -x %s\n    %s init fish | source\nend\n%s\n' "$begin" "$q" "$q" "$end"
            ;;
        *)
            q="'${vigil//\'/\'\\\'\'}'"
            # The $(...) is meant for the rc file, not for now.
            # shellcheck disable=SC2016
            printf '%s\nif [ -x %s ]; then eval "$(%s init %s)"; fi\n%s\n' "$begin" "$q" "$q" "$shell" "$end"
            ;;
    esac
}

# Prints the file without our block.
without_block() {
    awk -v b="$begin" -v e="$end" '$0 == b { skip = 1; next } $0 == e { skip = 0; next } !skip' "$1"
}

write_block() {
    local shell=$1 rc=$2 vigil=$3 want current
    want=$(block "$shell" "$vigil")
    mkdir -p "$(dirname "$rc")"
    touch "$rc"
    current=$(awk -v b="$begin" -v e="$end" '$0 == b { on = 1 } on { print } $0 == e { on = 0 }' "$rc")
    if [ "$current" = "$want" ]; then
        echo "  $rc: already set up"
        return 0
    fi
    local tmp
    tmp=$(mktemp "$rc.vigil.XXXXXX")
    without_block "$rc" >"$tmp"
    printf '%s\n' "$want" >>"$tmp"
    cat "$tmp" >"$rc"
    rm -f "$tmp"
    echo "  $rc: hook added"
}

# Release build for this machine. On glibc Linux the binaries are linked statically: the
# hooks exec `vigil` twice per command, and a static binary starts as fast as /bin/true
# (the dynamic loader costs a quarter of a millisecond per exec). The explicit --target keeps
# the flag off build scripts and proc-macros.
build() {
    local host
    host=$(rustc -vV | sed -n 's/^host: //p')
    case $host in
        *-linux-gnu*) export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" ;;
    esac
    echo "building vigil (release, $host)..." >&2
    (cd "$here" && cargo build --release --locked --target "$host" -p vigil -p vigil-agent >&2)
    echo "$here/target/$host/release"
}

if [ "$mode" = build ]; then
    build
    exit 0
fi

if [ "$mode" = install ]; then
    if [ -z "$from" ]; then
        from=$(build)
    fi
    mkdir -p "$bin_dir"
    for b in vigil vigild; do
        # Replace atomically: a running agent or hook keeps its old inode.
        install -m 755 "$from/$b" "$bin_dir/.$b.new"
        mv -f "$bin_dir/.$b.new" "$bin_dir/$b"
    done
    echo "installed vigil and vigild in $bin_dir"
    while IFS=$'\t' read -r shell rc; do
        write_block "$shell" "$rc" "$bin_dir/vigil"
    done < <(rc_files)
    case ":$PATH:" in
        *":$bin_dir:"*) ;;
        *) echo "note: $bin_dir is not on your PATH; the hooks work anyway, but add it to type 'vigil'" ;;
    esac
    echo "open a new shell: the agent starts with your first command. 'vigil status' shows it."
else
    # `vigil uninstall` does the work (the same as typing it): stop the agent, take the
    # blocks out, delete the binaries, and the data too with --purge.
    if [ ! -x "$bin_dir/vigil" ]; then
        echo "install.sh: there is no vigil in $bin_dir (see --bin-dir); 'vigil uninstall' works from wherever vigil is" >&2
        exit 1
    fi
    args=()
    if [ "$purge" = 1 ]; then
        args+=(--purge)
    fi
    "$bin_dir/vigil" uninstall ${args[@]+"${args[@]}"}
fi
