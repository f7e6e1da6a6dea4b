# vigil hook for bash. Load it from ~/.bashrc with:  eval "$(vigil init bash)"
# shellcheck shell=bash
#
# How it works: a DEBUG trap sees the first command after each prompt (preexec) and hands
# the whole command line to vigil; the last entry of PROMPT_COMMAND (precmd) closes it, and
# vigil's answer is the prompt segment. With bash-preexec loaded first, its
# preexec_functions/precmd_functions are used instead.
#
# No fork, no exec per command: the shell starts one `vigil hook relay` coprocess and speaks
# the shell channel to it with `printf` and `read -t` (the protocol is in the client's
# `channel` module and the README); the relay talks to the agent, starts it, or spools. Where
# the relay cannot be used (it died three times, VIGIL_HOOK_CHANNEL=exec), the hook execs
# `vigil hook start|end` instead.
#
# The status the person's own prompt sees is left alone: the exit code and PIPESTATUS are
# read in the DEBUG trap before the first PROMPT_COMMAND command runs, and vigil's precmd
# runs last and returns the status it found.
#
# The command line never goes into an argument of the client: any local user can read
# /proc/PID/cmdline. It goes through a private file on tmpfs, or a pipe.
#
# The person's shell options hold here too: under `set -u` every expansion has a default
# (`${x-}`, `${a[@]+"${a[@]}"}` for arrays, which bash < 4.4 calls unbound when empty), and
# under `set -e` no command of the hook may fail where errexit sees it (a failing command in a
# trap or PROMPT_COMMAND ends the shell): failures are caught with `||` or `if`.
#
# No `return` at the top level: this script is eval'd inside the person's rc file, where a
# `return` would skip the rest of that file. The body sits inside one `if` instead.

# Interactive shells only, once per shell. The guard variable is not exported, so a nested
# shell loads the hook again and gets a session of its own.
if [[ $- == *i* && -z "${__vigil_loaded-}" ]]; then
__vigil_loaded=1

__vigil_bin=__VIGIL_BIN__
__vigil_session="bash-$$-${EPOCHSECONDS:-$SECONDS}-$RANDOM$RANDOM"
__vigil_seq=0
__vigil_ready=0      # 1 between a prompt and the person's next command
__vigil_running=0    # 1 while a recorded command runs
__vigil_exit=0       # status of the person's last command, as the DEBUG trap saw it
__vigil_t0=
__vigil_histnum=
# Exported, so that prompt tools run as programs (starship) can show it.
export VIGIL_PROMPT_SEGMENT=
# Which hook mechanism and channel this shell uses, for `vigil doctor`.
export VIGIL_HOOK="bash: own DEBUG trap and PROMPT_COMMAND"
export VIGIL_CHANNEL="exec (not opened yet)"
__vigil_relay_starts=0
__vigil_keep=
__vigil_reply=()
# An end written to the relay and not waited for (its segment came with the start's reply):
# its seq until the relay's `ended` reply goes by, and its status and duration, for the exec'd
# client if the relay is given up on first. Whether this command's start went to the relay, and
# the segment that came with it.
__vigil_unacked=
__vigil_unacked_end=()
__vigil_via=
__vigil_seg=
# [score] confirm, as config.toml said when this shell started; lines checked before they run
# are numbered apart from commands.
__vigil_confirm=__VIGIL_CONFIRM__
__vigil_confirmed=
__vigil_ask=0

# Starts the relay unless it runs; fails when the channel cannot be used.
__vigil_relay_open() {
    if [[ ${VIGIL_HOOK_CHANNEL-} == exec ]]; then
        VIGIL_CHANNEL="exec (VIGIL_HOOK_CHANNEL=exec)"
        return 1
    fi
    if [[ -n ${__VIGIL_RELAY_PID-} && -n ${__VIGIL_RELAY[0]-} && -n ${__VIGIL_RELAY[1]-} ]]; then return 0; fi
    # A relay that keeps dying is not started a fourth time in this shell.
    if ((__vigil_relay_starts >= 3)); then
        VIGIL_CHANNEL="exec (the relay failed three times)"
        return 1
    fi
    __vigil_relay_starts=$((__vigil_relay_starts + 1))
    # A new relay knows nothing of an end the old one did not answer.
    __vigil_settle
    # Ctrl-C and job-control signals are the person's commands', never the relay's. Disowned:
    # the relay is no job of the person's (`jobs`, `fg`, the "Done" line).
    coproc __VIGIL_RELAY { trap '' INT QUIT TSTP TTIN TTOU; exec "$__vigil_bin" hook relay 2>/dev/null; }
    if [[ -z ${__VIGIL_RELAY_PID-} ]]; then return 1; fi
    disown "$__VIGIL_RELAY_PID" 2>/dev/null || :
    # The shell holds a reader of the relay's input too (Linux: its own write end, opened again
    # through /proc for reading), so that a write to a relay that died and was not reaped yet
    # stays in the pipe instead of ending the shell with SIGPIPE; reading the reply then meets
    # the end of the relay's output, and the hook gives the relay up (and hands a kept end on).
    __vigil_keep_close
    if [[ -n ${__VIGIL_RELAY[1]-} ]]; then
        { exec {__vigil_keep}<"/proc/$$/fd/${__VIGIL_RELAY[1]}"; } 2>/dev/null || __vigil_keep=
    fi
    VIGIL_CHANNEL="coproc relay"
}

# Closes the shell's own reader of the relay's input, if it has one.
__vigil_keep_close() {
    if [[ -n ${__vigil_keep-} ]]; then eval "exec ${__vigil_keep}<&-"; fi
    __vigil_keep=
}

# Gives up on the relay (it is stuck or gone) for this command; the next one starts a new one.
__vigil_relay_drop() {
    VIGIL_CHANNEL="exec ($1)"
    if [[ -n ${__VIGIL_RELAY_PID-} ]]; then kill "$__VIGIL_RELAY_PID" 2>/dev/null || :; fi
    # Closing our ends lets a relay that was only slow see the end of its input and exit.
    if [[ -n ${__VIGIL_RELAY[1]-} ]]; then eval "exec ${__VIGIL_RELAY[1]}>&-"; fi
    if [[ -n ${__VIGIL_RELAY[0]-} ]]; then eval "exec ${__VIGIL_RELAY[0]}<&-"; fi
    unset __VIGIL_RELAY __VIGIL_RELAY_PID
    __vigil_keep_close
    __vigil_settle
}

# Hands an end the relay took but never answered (it died, or was given up on) to the exec'd
# client, before any other message. An end that arrives twice closes its event once.
__vigil_settle() {
    if [[ -z $__vigil_unacked ]]; then return 0; fi
    local seq=$__vigil_unacked
    __vigil_unacked=
    local -a dur=()
    if [[ -n ${__vigil_unacked_end[1]-} ]]; then dur=(--duration-ms "${__vigil_unacked_end[1]}"); fi
    if [[ -x $__vigil_bin ]]; then
        "$__vigil_bin" hook end --shell bash --session "$__vigil_session" --seq "$seq" \
            --exit "${__vigil_unacked_end[0]-0}" ${dur[@]+"${dur[@]}"} >/dev/null 2>&1 || :
    fi
}

# Reads the relay's reply of verb $1 for seq $2 (default: this command's) into __vigil_reply,
# skipping replies that came too late for earlier messages. The relay answers within its own
# deadline; this one only guards against a relay that hangs. It guards the first byte of a
# line only: under `read -t` bash makes a select and two signal-mask calls for every byte, and
# the relay writes each reply line whole, with one write.
__vigil_relay_read() {
    local fd=${__VIGIL_RELAY[0]-} seq=${2-$__vigil_seq} c
    if [[ -z $fd ]]; then return 1; fi
    while IFS= read -r -t 1 -N 1 -u "$fd" c; do
        IFS=$'\x1f' read -r -u "$fd" -a __vigil_reply || :
        __vigil_reply[0]=$c${__vigil_reply[0]-}
        if [[ -n $__vigil_unacked && ${__vigil_reply[0]-} == ended && ${__vigil_reply[1]-} == "$__vigil_unacked" ]]; then
            __vigil_unacked=
        fi
        if [[ ${__vigil_reply[0]-} == "$1" && ${__vigil_reply[1]-} == "$seq" ]]; then return 0; fi
    done
    __vigil_relay_drop "the relay did not answer"
    return 1
}

# Writes one message to the relay by running "$@" (builtins and functions only: they run in
# the shell itself, no fork) with its output on the relay's input. A relay bash has seen die is
# not written to (a new one is started): a write to its pipe could end the shell with SIGPIPE.
__vigil_relay_write() {
    __vigil_relay_open || return 1
    local fd=${__VIGIL_RELAY[1]-}
    if [[ -z $fd ]]; then return 1; fi
    if ! "$@" 2>/dev/null 1>&"$fd"; then
        __vigil_relay_drop "the relay closed the channel"
        return 1
    fi
}

# Writes one message to the relay ("$@" as for __vigil_relay_write), then reads the reply of
# verb $1 for seq $2.
__vigil_relay_send() {
    local verb=$1 seq=$2
    shift 2
    __vigil_relay_write "$@" && __vigil_relay_read "$verb" "$seq"
}

# The start message of the current command: $1 is `history` or `history-expected`, $2 the
# expected text; the line is `history 1` output, written by the shell itself.
__vigil_start_message() {
    printf 'start\0%s\0%s\0bash\0%s\0%s\0' "$__vigil_session" "$__vigil_seq" "$PWD" "$1" &&
        HISTTIMEFORMAT='' builtin history 1 && printf '\0%s\0' "${2-}"
}

# Hands the current command to the relay ($1 and $2 as for __vigil_start_message).
__vigil_relay_start() {
    __vigil_relay_send started "$__vigil_seq" __vigil_start_message "$1" "${2-}"
}

# Asks the relay for the verdict on $1, a line not run yet.
__vigil_relay_check() {
    __vigil_ask=$((__vigil_ask + 1))
    __vigil_relay_send scored "$__vigil_ask" printf 'check\0%s\0%s\0%s\0' "$__vigil_session" "$__vigil_ask" "$1"
}

# The second Enter ([score] confirm = "rules" or "unsafe"). Enter types two keys: the check
# below (bind -x, which sees READLINE_LINE), then \C-x\C-_, bound at that moment either to
# accept-line or, when the line waits for a second Enter, to redrawing it. Enter again on the
# same line runs it unchanged; an edited line is checked again; Ctrl-C cancels as ever. No
# relay, no check: vigil stays advisory and never holds a line for good.
__vigil_enter() {
    local hold=
    if [[ -n ${READLINE_LINE//[[:space:]]/} && $READLINE_LINE != "$__vigil_confirmed" && ${VIGIL_WARN-1} != 0 ]]; then
        if __vigil_relay_check "$READLINE_LINE"; then
            if [[ ${__vigil_reply[2]-} == rule || ($__vigil_confirm == unsafe && ${__vigil_reply[2]-} == unsafe) ]]; then
                hold=1
            fi
        fi
    fi
    local map
    if [[ -n $hold ]]; then
        __vigil_confirmed=$READLINE_LINE
        printf '%s (press Enter again to run)\n' "${__vigil_reply[3]:-vigil: this line looks unsafe}" >&2
        for map in emacs vi-insert; do bind -m "$map" '"\C-x\C-_": redraw-current-line'; done
    else
        __vigil_confirmed=
        for map in emacs vi-insert; do bind -m "$map" '"\C-x\C-_": accept-line'; done
    fi
}

if [[ $__vigil_confirm == rules || $__vigil_confirm == unsafe ]]; then
    for __vigil_map in emacs vi-insert; do
        {
            bind -m "$__vigil_map" -x '"\C-x\C-v": __vigil_enter'
            bind -m "$__vigil_map" '"\C-x\C-_": accept-line'
            bind -m "$__vigil_map" '"\C-m": "\C-x\C-v\C-x\C-_"'
            bind -m "$__vigil_map" '"\C-j": "\C-x\C-v\C-x\C-_"'
        } 2>/dev/null
    done
    unset __vigil_map
fi

# The end message of the current command: $1 is the status, $2 the duration (or empty).
__vigil_end_message() {
    local color=1
    if [[ -n ${NO_COLOR-} ]]; then color=0; fi
    printf 'end\0%s\0%s\0bash\0%s\0%s\0%s\0' "$__vigil_session" "$__vigil_seq" "$1" "$2" "$color"
}

# Hands the end of the command to the relay and waits for its segment ($1, $2 as above).
__vigil_relay_end() {
    __vigil_relay_send ended "$__vigil_seq" __vigil_end_message "$1" "$2"
}

# Writes the end to the relay without waiting for the answer ($1, $2 as above): its segment
# came with the start's reply, and the prompt does not wait for a second round trip. The end is
# kept until its reply goes by in __vigil_relay_read.
__vigil_relay_post() {
    __vigil_settle
    __vigil_relay_write __vigil_end_message "$1" "$2" || return 1
    __vigil_unacked=$__vigil_seq
    __vigil_unacked_end=("$1" "$2")
}

# A private in-memory folder (tmpfs) for the current command line. Capturing a builtin's
# output with $(...) costs a fork; a builtin with a redirection runs in the shell itself. So
# `history 1` goes to a file there, which the client reads and empties at once. Without such
# a folder (or with VIGIL_SCRATCH=0) the output goes to the client through a pipe, at the
# cost of a fork. The client creates the file 0600 in a 0700 folder of ours.
__vigil_scratch=$("$__vigil_bin" hook scratch --file "history.$$" 2>/dev/null) || __vigil_scratch=

# Hands the newest history entry to `vigil hook start`. $1, if set, is the text the entry must
# equal to be recorded: history did not take a new entry for this command. It follows the
# entry after a NUL byte, which no shell string can hold. Neither is ever an argument.
__vigil_start() {
    [[ -x $__vigil_bin ]] || return 0
    __vigil_seq=$((__vigil_seq + 1))
    __vigil_running=1
    __vigil_t0=${EPOCHREALTIME-}
    local mode=history
    if [[ -n ${1+set} ]]; then mode=history-expected; fi
    __vigil_via=
    if __vigil_relay_start "$mode" "${1-}" && [[ ${__vigil_reply[2]-} == 1 ]]; then
        __vigil_via=relay
        if [[ -n ${NO_COLOR-} ]]; then __vigil_seg=${__vigil_reply[6]-}; else __vigil_seg=${__vigil_reply[5]-}; fi
        # The notice (once per shell: what is wrong in config.toml), then the warning; both
        # come escaped. printf is a builtin.
        if [[ -n ${__vigil_reply[3]-} ]]; then printf '%s\n' "${__vigil_reply[3]}" >&2; fi
        if [[ -n ${__vigil_reply[4]-} && ${VIGIL_WARN-1} != 0 ]]; then printf '%s\n' "${__vigil_reply[4]}" >&2; fi
        return 0
    fi
    local -a args=(hook start --shell bash --session "$__vigil_session" --seq "$__vigil_seq" --cwd "$PWD")
    if [[ -n ${1+set} ]]; then args+=(--expected-follows); fi
    # A group command with a redirection runs in the shell itself: no fork. stderr goes
    # first, so that a folder gone read-only or missing leaves no message on the terminal.
    if [[ -n $__vigil_scratch ]] && { HISTTIMEFORMAT='' builtin history 1 && __vigil_expected "$@"; } 2>/dev/null >"$__vigil_scratch"; then
        "$__vigil_bin" "${args[@]}" --history-file "$__vigil_scratch" || :
        return 0
    fi
    # No scratch file: a pipe (its left side is a fork of this shell, builtins only). Not a
    # here-string: bash writes a long one to a temporary file, on disk.
    { HISTTIMEFORMAT='' builtin history 1; __vigil_expected "$@"; } | "$__vigil_bin" "${args[@]}" --history-stdin || :
    return 0
}

# Writes a NUL and $1, if $1 is set.
__vigil_expected() {
    if [[ -n ${1+set} ]]; then printf '\0%s' "$1"; fi
}

__vigil_end() {
    local status=$1
    if [[ $__vigil_running == 1 ]]; then
        __vigil_running=0
        local -a dur=()
        local ms=
        if [[ -n $__vigil_t0 && -n ${EPOCHREALTIME-} ]]; then
            local now=${EPOCHREALTIME//[.,]/} t0=${__vigil_t0//[.,]/}
            ms=$(((10#$now - 10#$t0) / 1000))
            dur=(--duration-ms "$ms")
        fi
        # No redirection here: with one, bash forks twice for the substitution. The client
        # writes nothing to stderr on this path. A failing client leaves no segment (and,
        # caught, does not end a shell under set -e).
        if [[ $__vigil_via == relay ]] && __vigil_relay_post "$status" "$ms"; then
            VIGIL_PROMPT_SEGMENT=$__vigil_seg
        elif __vigil_relay_end "$status" "$ms"; then
            VIGIL_PROMPT_SEGMENT=${__vigil_reply[2]-}
        elif [[ -x $__vigil_bin ]]; then
            VIGIL_PROMPT_SEGMENT=$("$__vigil_bin" hook end --shell bash --session "$__vigil_session" \
                --seq "$__vigil_seq" --exit "$status" ${dur[@]+"${dur[@]}"}) || VIGIL_PROMPT_SEGMENT=
        fi
    else
        VIGIL_PROMPT_SEGMENT=
    fi
    # A new prompt: a line held for a second Enter is forgotten (Ctrl-C, or it ran).
    __vigil_confirmed=
    # The literal '${VIGIL_PROMPT_SEGMENT}' goes into PS1, expanded at each prompt.
    # Re-applied each prompt: tools like starship rewrite PS1 at every prompt.
    # shellcheck disable=SC2016
    if [[ ${VIGIL_PROMPT-1} != 0 && ${PS1-} != *'${VIGIL_PROMPT_SEGMENT}'* ]]; then
        PS1='${VIGIL_PROMPT_SEGMENT}'${PS1-}
    fi
}

# The relay starts now, so that the first command costs no fork either.
__vigil_relay_open || :

if [[ -n "${bash_preexec_imported-}${__bp_imported-}" ]]; then
    # bash-preexec already owns the DEBUG trap and PROMPT_COMMAND: use its arrays.
    VIGIL_HOOK="bash: bash-preexec's preexec_functions and precmd_functions"
    __vigil_bp_preexec() { __vigil_start "${1-}"; }
    # Returns the status it found, for the functions after it; not under set -e, where a
    # function returning non-zero at a prompt would end the shell.
    __vigil_bp_precmd() {
        local s=$?
        __vigil_end "$s"
        if [[ $- == *e* ]]; then return 0; fi
        return "$s"
    }
    preexec_functions+=(__vigil_bp_preexec)
    precmd_functions+=(__vigil_bp_precmd)
else

# PROMPT_COMMAND's simple commands, one a line, so that the DEBUG trap can tell them from
# the person's with a single match. Rebuilt at each prompt: other tools edit PROMPT_COMMAND.
__vigil_pc_list=$'\n'
__vigil_index_prompt_command() {
    local entry part list=$'\n'
    for entry in ${PROMPT_COMMAND[@]+"${PROMPT_COMMAND[@]}"}; do
        entry=${entry//$'\n'/;}
        entry=${entry//&&/;}
        entry=${entry//||/;}
        entry=${entry//|/;}
        while [[ -n $entry ]]; do
            part=${entry%%;*}
            if [[ $entry == *\;* ]]; then entry=${entry#*;}; else entry=; fi
            part=${part#"${part%%[![:space:]]*}"}
            part=${part%"${part##*[![:space:]]}"}
            if [[ -n $part ]]; then list+=$part$'\n'; fi
        done
    done
    __vigil_pc_list=$list
}

# The DEBUG trap: `__vigil_debug "$?" "$_"`. The status is passed in the trap string itself,
# because anything run before we read it (another tool's wrapper) would replace it. Called
# without arguments (by another tool's wrapper around an older trap of ours) it does nothing.
__vigil_debug() {
    # Another tool's wrapper may call the trap it found (ours) by its first word only.
    (($# == 2)) || return 0
    local s=$1 last=$2
    __vigil_alive=1
    # A trap set inside a function fires for the rest of that function: not the person's.
    local depth=${#FUNCNAME[@]}
    if [[ ${FUNCNAME[1]-} == __vigil_debug_chain ]]; then depth=$((depth - 1)); fi
    ((depth == 1)) || return 0
    if [[ $__vigil_ready == 1 ]]; then
        # Completion functions and PROMPT_COMMAND (an empty line) are not the person's command.
        if [[ -z ${COMP_LINE-} && -z ${READLINE_LINE-} && $__vigil_pc_list != *$'\n'"$BASH_COMMAND"$'\n'* ]]; then
            __vigil_ready=0
            if [[ ${HISTCMD-} != "$__vigil_histnum" ]]; then
                # A new history entry: the command line, whole.
                __vigil_histnum=${HISTCMD-}
                __vigil_start
            elif [[ -o history ]]; then
                # No new entry: a repeat under ignoredups, or a command history was told to
                # drop (ignorespace, HISTIGNORE), which we drop too. A repeat is recorded when
                # the line is exactly this simple command, or when nothing but ignoredups can
                # have kept it out.
                if [[ ${HISTCONTROL-} != *ignorespace* && ${HISTCONTROL-} != *ignoreboth* && -z ${HISTIGNORE-} ]]; then
                    __vigil_start
                else
                    __vigil_start "$BASH_COMMAND"
                fi
            fi
            # The command may replace our trap (sourcing another tool): it has to show it is
            # still there by running again before the next prompt.
            __vigil_alive=
        fi
    elif [[ $__vigil_running == 1 && $__vigil_exit_seen == 0 && $__vigil_pc_list == *$'\n'"$BASH_COMMAND"$'\n'* ]]; then
        # The first PROMPT_COMMAND command after the person's command: its status is here.
        __vigil_exit=$s
        __vigil_exit_seen=1
    fi
    : "$last"
}
__vigil_exit_seen=0

# The last entry of PROMPT_COMMAND. Our trap marks itself alive each time it runs; if it
# did not run before this entry, another tool replaced or wrapped it, and the entry hands
# `trap -p DEBUG` to __vigil_precmd, which decides the trap to set. Reading and setting the
# trap happen here at top level: inside a function bash hides the DEBUG trap, and restores
# the old one when the function returns. (The status this leaves does not reach the prompt:
# bash shows the person's command's status in PS1 whatever PROMPT_COMMAND returns.)
# shellcheck disable=SC2016
__vigil_pc_entry='__vigil_precmd "${__vigil_alive:-$(trap -p DEBUG)}"; [[ -z $__vigil_new_trap ]] || trap -- "$__vigil_new_trap" DEBUG'
__vigil_alive=
__vigil_new_trap=

__vigil_precmd() {
    local s=$?
    __vigil_new_trap=
    [[ $1 == 1 ]] || __vigil_take_trap "$1"
    __vigil_alive=
    if [[ $__vigil_exit_seen == 1 ]]; then
        __vigil_end "$__vigil_exit"
    else
        __vigil_end "$s"
    fi
    __vigil_exit_seen=0
    # Other tools edit PROMPT_COMMAND at any prompt; unchanged since the last one, there is
    # nothing to redo (both steps cost more than the rest of the prompt's work).
    if [[ ${PROMPT_COMMAND[*]-} != "$__vigil_pc_seen" ]]; then
        __vigil_install
        __vigil_index_prompt_command
        __vigil_pc_seen=${PROMPT_COMMAND[*]-}
    fi
    __vigil_ready=1
}
__vigil_pc_seen=

# Puts __vigil_precmd last in PROMPT_COMMAND (a string, or an array in bash >= 5.1), keeping
# everything else in order. Called again at each prompt, as other tools append themselves;
# when it had to move us, another tool was loaded, and it may have wrapped our DEBUG trap too.
__vigil_install() {
    # Under set -u, ${#PROMPT_COMMAND[@]} is an error when it is unset, and in bash 5.2 when
    # it is a plain string too: count a copy, which is an array whatever it was.
    local -a pcs=(${PROMPT_COMMAND[@]+"${PROMPT_COMMAND[@]}"})
    local n=${#pcs[@]}
    if [[ $n -gt 0 && ${pcs[n - 1]} == *"$__vigil_pc_entry" ]]; then return 0; fi
    if [[ $(declare -p PROMPT_COMMAND 2>/dev/null) == "declare -a"* ]]; then
        local -a kept=()
        local e
        for e in ${PROMPT_COMMAND[@]+"${PROMPT_COMMAND[@]}"}; do
            [[ $e == "$__vigil_pc_entry" ]] || kept+=("$e")
        done
        PROMPT_COMMAND=(${kept[@]+"${kept[@]}"} "$__vigil_pc_entry")
    else
        local pc=${PROMPT_COMMAND-}
        pc=${pc//"$__vigil_pc_entry;"/}
        pc=${pc//$'\n'"$__vigil_pc_entry"/}
        pc=${pc//"$__vigil_pc_entry"/}
        # No separator may lead or trail: appending must never make ';;' or a leading ';'.
        while [[ $pc == [[:space:]\;]* ]]; do pc=${pc#?}; done
        while [[ $pc == *[[:space:]\;] ]]; do pc=${pc%?}; done
        # PROMPT_COMMAND is a plain string here; only its [@] form is read elsewhere.
        # shellcheck disable=SC2178
        PROMPT_COMMAND=${pc:+$pc$'\n'}$__vigil_pc_entry
    fi
}

# Decides our DEBUG trap (into __vigil_new_trap, for top-level code to set), given the current
# one as `trap -p DEBUG` prints it (quoted for reuse), running any other trap after ours. A tool that wrapped our trap in its own (as starship
# does) gets wrapped in turn, so that we read "$?" before its wrapper runs.
__vigil_take_trap() {
    local -a words
    eval "words=($1)"
    local current=${words[2]-}
    # The patterns are the literal trap strings, "$?" and all.
    # shellcheck disable=SC2016
    case $current in
        '__vigil_debug "$?" "$_"' | '__vigil_debug_chain "$?" "$_"') ;;
        '') __vigil_new_trap='__vigil_debug "$?" "$_"' ;;
        *)
            __vigil_prev_trap=$current
            __vigil_new_trap='__vigil_debug_chain "$?" "$_"'
            ;;
    esac
}

__vigil_debug_chain() {
    local last=$2
    __vigil_debug "$1" "$last"
    : "$last"
    eval "$__vigil_prev_trap"
}

# The newest history entry's number now; later ones come from $HISTCMD in the trap.
__vigil_histnum=$(HISTTIMEFORMAT='' builtin history 1)
__vigil_histnum=${__vigil_histnum#"${__vigil_histnum%%[![:space:]]*}"}
__vigil_histnum=${__vigil_histnum%%[!0-9]*}
__vigil_install
__vigil_index_prompt_command
# At top level, where `trap -p` sees a DEBUG trap set before us, and `trap` sets ours for good.
__vigil_take_trap "$(trap -p DEBUG)"
[[ -z $__vigil_new_trap ]] || trap -- "$__vigil_new_trap" DEBUG
fi
fi
