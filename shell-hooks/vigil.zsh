# vigil hook for zsh. Load it from ~/.zshrc with:  eval "$(vigil init zsh)"
#
# preexec hands the command line to the agent; precmd closes it, and the agent's answer is the
# prompt segment, shown at the left of RPROMPT. $? and $pipestatus are read first and handed
# back untouched.
#
# No fork, no exec: the shell keeps one connection to the agent's socket for its lifetime
# (zsh/net/socket) and speaks the shell channel over it with `print` and `read -t` (the
# protocol is in the client's `channel` module and ARCHITECTURE.md). Where the socket cannot
# be used (no agent yet, a broken connection, a missed deadline) the same message goes to a
# relay coprocess started with the shell, which spools or starts the agent; without either (no
# zsh/net/socket, VIGIL_HOOK_CHANNEL=exec, a relay that died twice) the hook execs `vigil hook
# start|end`. The connection is opened again at the next command. An agent that does not
# answer within the deadline gets a rest: for a second, then two, four... up to 30, messages
# go to the relay, which spools them (VIGIL_HOOK_REST_SECS sets the first rest; 0, none).
#
# The command line never goes into an argument of the client: any local user can read
# /proc/PID/cmdline. It goes on the channel, or on a pipe. The person's options (nounset, errexit) are turned
# off inside our functions only (localoptions): a failing hook command must not end the shell.

# Interactive shells only, once per shell (the guard is not exported: a nested zsh gets its
# own session).
[[ -o interactive ]] || return 0
(( ${+__vigil_loaded} )) && return 0
typeset -g __vigil_loaded=1

zmodload zsh/datetime 2>/dev/null
autoload -Uz add-zsh-hook

typeset -g __vigil_bin=__VIGIL_BIN__
typeset -g __vigil_sock=__VIGIL_SOCKET__
# The channel's file descriptor (-1: closed), until when the agent gets a rest, and how long
# the next rest lasts.
typeset -gi __vigil_fd=-1 __vigil_away_until=0 __vigil_missed=0
typeset -ga __vigil_reply
# [score] live and confirm, as config.toml said when this shell started.
typeset -g __vigil_live=__VIGIL_LIVE__ __vigil_confirm=__VIGIL_CONFIRM__
# Lines scored without running them (live mark, second Enter) are numbered apart from commands.
typeset -gi __vigil_ask=0 __vigil_watched=-1
# Bytes of live lines sent since the agent last answered one.
typeset -gi __vigil_unanswered=0
typeset -g __vigil_sent='' __vigil_marked='' __vigil_confirmed='' __vigil_live_seen=''
# An end written to the socket and not waited for (its segment came with the start's reply):
# its seq until its `ended` reply goes by, and its fields, to hand it over again the next way
# if the channel breaks first. Where this command's start went (socket, relay), and the segment
# that came with it.
typeset -g __vigil_unacked='' __vigil_via='' __vigil_seg=''
typeset -ga __vigil_unacked_msg
zmodload zsh/net/socket 2>/dev/null && typeset -gi __vigil_can_socket=1
typeset -g __vigil_session="zsh-$$-${EPOCHSECONDS:-$SECONDS}-$RANDOM$RANDOM"
typeset -gi __vigil_seq=0 __vigil_running=0
typeset -g __vigil_t0=''
typeset -g __vigil_rprompt_seg=''
# Exported, so that prompt tools run as programs (starship) can show it.
typeset -gx VIGIL_PROMPT_SEGMENT=''
# Which hook mechanism and channel this shell uses, for `vigil doctor`.
typeset -gx VIGIL_HOOK='zsh: add-zsh-hook preexec and precmd'
typeset -gx VIGIL_CHANNEL='exec (not opened yet)'

# The deadline for the agent's answer, in seconds (VIGIL_HOOK_TIMEOUT_MS when the shell
# started, 1 to 5000, or 15).
() {
    emulate -L zsh
    local ms=${VIGIL_HOOK_TIMEOUT_MS-15}
    [[ $ms == <1-5000> ]] || ms=15
    typeset -gF __vigil_deadline=$(( ms / 1000.0 ))
}

# Opens the channel unless it is open; fails when it cannot be used now.
__vigil_open() {
    (( __vigil_fd >= 0 )) && return 0
    if [[ ${VIGIL_HOOK_CHANNEL-} == exec ]]; then
        VIGIL_CHANNEL='exec (VIGIL_HOOK_CHANNEL=exec)'
        return 1
    fi
    if (( ! ${__vigil_can_socket-0} )) || [[ -z $__vigil_sock ]]; then
        VIGIL_CHANNEL='exec (zsh/net/socket is not available)'
        return 1
    fi
    (( EPOCHSECONDS >= __vigil_away_until )) || return 1
    # A new connection knows nothing of an end the old one did not answer.
    __vigil_settle
    # The socket's folder must be ours and closed to others (a symbolic link is not a folder
    # here): commands are never handed to a socket someone else could have planted.
    local -a ok
    ok=( ${__vigil_sock:h}(N/Uf:go-rwx:) )
    (( $#ok )) || return 1
    zsocket -- "$__vigil_sock" 2>/dev/null || return 1
    __vigil_fd=$REPLY
    VIGIL_CHANNEL='zsocket to the agent'
}

__vigil_close() {
    if (( __vigil_watched >= 0 )); then
        zle -F $__vigil_watched 2>/dev/null
        __vigil_watched=-1
    fi
    (( __vigil_fd >= 0 )) && exec {__vigil_fd}>&-
    __vigil_fd=-1
    __vigil_unanswered=0
}

# The relay, a `vigil hook relay` coprocess started with the shell: where messages go while
# the agent's socket cannot take them (the agent frozen, gone, or not started yet). It answers
# at once, spools, warns on rule hits, and starts an agent that is gone, so that such a command
# costs no exec; without it (it died twice) the hook execs the client.
typeset -gi __vigil_rw=-1 __vigil_rr=-1 __vigil_relay_starts=0

__vigil_relay_open() {
    (( __vigil_rw >= 0 && __vigil_rr >= 0 )) && return 0
    [[ ${VIGIL_HOOK_CHANNEL-} != exec && -x $__vigil_bin ]] || return 1
    (( __vigil_relay_starts < 2 )) || return 1
    __vigil_relay_starts=$((__vigil_relay_starts + 1))
    # Not a job of the person's (no job number printed, disowned: nothing in `jobs`, no
    # "running jobs" at exit), deaf to Ctrl-C and job-control signals.
    setopt local_options no_monitor no_notify
    coproc { trap '' INT QUIT TSTP TTIN TTOU; exec "$__vigil_bin" hook relay 2>/dev/null }
    exec {__vigil_rw}>&p {__vigil_rr}<&p
    disown %+ 2>/dev/null
}

__vigil_relay_close() {
    (( __vigil_rw >= 0 )) && exec {__vigil_rw}>&-
    (( __vigil_rr >= 0 )) && exec {__vigil_rr}<&-
    __vigil_rw=-1 __vigil_rr=-1
}

# Reads from fd $3, within $4 seconds a line, the reply of verb $1 for seq $2 into
# __vigil_reply, skipping replies to earlier messages that came after their deadline.
__vigil_read_reply() {
    local line us=$'\x1f'
    while IFS= read -r -t $4 -u $3 line; do
        __vigil_reply=( "${(@ps:$us:)line}" )
        [[ -n $__vigil_unacked && ${__vigil_reply[1]-} == ended && ${__vigil_reply[2]-} == "$__vigil_unacked" ]] &&
            __vigil_unacked=''
        [[ ${__vigil_reply[1]-} == "$1" && ${__vigil_reply[2]-} == "$2" ]] && return 0
    done
    return 1
}

# Sends one message (its fields, each ended by a NUL) and reads the reply for it into
# __vigil_reply: the reply's verb is $1, its seq $2. To the agent's socket, or, when that cannot
# take it (closed, gone, a missed deadline: then the agent gets a rest, and the relay is told),
# to the relay. Fails when neither answers.
__vigil_send() {
    local verb=$1 seq=$2
    shift 2
    local f msg=''
    for f in "$@"; do msg+=$f$'\0'; done
    if (( __vigil_missed != seq )) && __vigil_open; then
        if print -rn -- "$msg" 2>/dev/null >&$__vigil_fd; then
            if __vigil_read_reply $verb $seq $__vigil_fd $__vigil_deadline; then
                __vigil_away=$__vigil_rest
                __vigil_via=socket
                return 0
            fi
            __vigil_close
            # This command's end is not offered to the agent either: a frozen agent costs a
            # command one deadline, not two.
            __vigil_missed=$seq
            local rest=$__vigil_away
            # VIGIL_HOOK_REST_SECS=0: no rest, every command tries the agent.
            if (( __vigil_away > 0 )); then
                __vigil_away_until=$(( EPOCHSECONDS + __vigil_away ))
                (( __vigil_away = __vigil_away < 16 ? __vigil_away * 2 : 30 ))
            fi
            # At least this command's messages: the relay must not wait for the agent again.
            __vigil_relay_open && print -rn -- "rest"$'\0'"$(( rest > 0 ? rest : 1 ))"$'\0' 2>/dev/null >&$__vigil_rw
            VIGIL_CHANNEL='relay (the agent did not answer in time)'
        else
            __vigil_close
            VIGIL_CHANNEL='relay (the agent closed the channel)'
        fi
    fi
    # An end the socket did not answer goes first: it must come before this message.
    __vigil_settle
    __vigil_via=''
    __vigil_relay_open || return 1
    if print -rn -- "$msg" 2>/dev/null >&$__vigil_rw && __vigil_read_reply $verb $seq $__vigil_rr 1; then
        [[ $VIGIL_CHANNEL == relay* ]] || VIGIL_CHANNEL='relay (the agent socket cannot be used now)'
        __vigil_via=relay
        return 0
    fi
    __vigil_relay_close
    VIGIL_CHANNEL='exec (the relay did not answer)'
    return 1
}

# Writes an end (its fields) to the socket without waiting for the answer: the prompt does not
# wait for a second round trip. The end is kept until its reply goes by (__vigil_read_reply,
# __vigil_live_reply). Fails, the socket closed, when the write does.
__vigil_post() {
    __vigil_settle
    local f msg=''
    for f in "$@"; do msg+=$f$'\0'; done
    if ! print -rn -- "$msg" 2>/dev/null >&$__vigil_fd; then
        __vigil_close
        return 1
    fi
    __vigil_unacked=$3
    __vigil_unacked_msg=( "$@" )
}

# Hands over again an end the socket took but never answered (the agent closed the channel or
# missed a deadline, or a new connection opens): to the relay, else to the exec'd client. An
# end that arrives twice closes its event once.
__vigil_settle() {
    [[ -n $__vigil_unacked ]] || return 0
    local seq=$__vigil_unacked f msg=''
    local -a m dur
    m=( "${__vigil_unacked_msg[@]}" )
    __vigil_unacked=''
    for f in "${m[@]}"; do msg+=$f$'\0'; done
    if __vigil_relay_open && print -rn -- "$msg" 2>/dev/null >&$__vigil_rw &&
        __vigil_read_reply ended $seq $__vigil_rr 1; then
        return 0
    fi
    __vigil_relay_close
    # The fields: end SESSION SEQ SHELL EXIT DURATION_MS COLOR.
    [[ -n ${m[6]-} ]] && dur=(--duration-ms "${m[6]}")
    [[ -x $__vigil_bin ]] && "$__vigil_bin" hook end --shell zsh --session "${m[2]-}" --seq "$seq" \
        --exit "${m[5]-0}" "${dur[@]}" >/dev/null 2>&1
    return 0
}

# The first rest after a timeout, in seconds: VIGIL_HOOK_REST_SECS when the shell started,
# 0 to 30, or 1.
() {
    emulate -L zsh
    local r=${VIGIL_HOOK_REST_SECS-1}
    [[ $r == <0-30> ]] || r=1
    typeset -gi __vigil_rest=$r __vigil_away=$r
}

# Arguments for the exec'd client: while the agent gets a rest, straight to the spool. Only
# while its process lives (the pid in its lock file, probed with the kill builtin: a connection
# would sit in a frozen agent's backlog): a dead agent is started again by the client.
__vigil_exec_mode() {
    reply=()
    (( EPOCHSECONDS < __vigil_away_until || __vigil_missed == __vigil_seq )) || return 0
    local pid=''
    { read -r pid <"${__vigil_sock:h}/vigild.lock" } 2>/dev/null
    if [[ $pid == <1-> ]] && kill -0 "$pid" 2>/dev/null; then
        reply=(--spool-only)
    fi
}

__vigil_preexec() {
    emulate -L zsh
    setopt unset no_err_exit no_err_return
    local cmd=$1
    # A leading space means "do not record this one".
    [[ -z $cmd || $cmd == [[:space:]]* ]] && return 0
    [[ -x $__vigil_bin ]] || return 0
    __vigil_seq=$((__vigil_seq + 1))
    __vigil_running=1
    __vigil_t0=$EPOCHREALTIME
    if __vigil_send started $__vigil_seq start "$__vigil_session" $__vigil_seq zsh "$PWD" line "$cmd" '' \
        && [[ ${__vigil_reply[3]-} == 1 ]]; then
        if [[ -n ${NO_COLOR-} ]]; then __vigil_seg=${__vigil_reply[7]-}; else __vigil_seg=${__vigil_reply[6]-}; fi
        # The notice (once per shell: what is wrong in config.toml), then the warning; both
        # come escaped.
        [[ -n ${__vigil_reply[4]-} ]] && print -r -- "${__vigil_reply[4]}" >&2
        [[ -n ${__vigil_reply[5]-} && ${VIGIL_WARN-1} != 0 ]] && print -r -- "${__vigil_reply[5]}" >&2
        return 0
    fi
    __vigil_via=''
    __vigil_exec_mode
    # Not a here-string: zsh writes <<< to a temporary file, on disk. `print` runs in a fork
    # of this shell, so the text is in no process's argv.
    print -rn -- "$cmd" | "$__vigil_bin" hook start --shell zsh --session "$__vigil_session" \
        --seq "$__vigil_seq" --cwd "$PWD" --stdin "${reply[@]}"
    return 0
}

__vigil_precmd() {
    # Read the status first: anything run here replaces it.
    local -i s=$?
    local -a ps
    ps=("${pipestatus[@]}")
    emulate -L zsh
    setopt unset no_err_exit no_err_return
    # A new line: a line held for a second Enter (it ran, or Ctrl-C) and the live state go.
    __vigil_confirmed=''
    __vigil_sent=''
    __vigil_marked=''
    if (( __vigil_running )); then
        __vigil_running=0
        local -a dur
        local ms=''
        if [[ -n $__vigil_t0 && -n $EPOCHREALTIME ]]; then
            local -i msi=$(( (EPOCHREALTIME - __vigil_t0) * 1000 ))
            ms=$msi
            dur=(--duration-ms "$ms")
        fi
        local -a end
        end=(end "$__vigil_session" $__vigil_seq zsh $s "$ms" "${${NO_COLOR:+0}:-1}")
        # Its segment came with the start's reply: on the socket the end is only written.
        if [[ $__vigil_via == socket ]] && (( __vigil_fd >= 0 && __vigil_missed != __vigil_seq )) &&
            __vigil_post "${end[@]}"; then
            VIGIL_PROMPT_SEGMENT=$__vigil_seg
        elif __vigil_send ended $__vigil_seq "${end[@]}"; then
            VIGIL_PROMPT_SEGMENT=${__vigil_reply[3]-}
        elif [[ -x $__vigil_bin ]]; then
            __vigil_exec_mode
            VIGIL_PROMPT_SEGMENT=$("$__vigil_bin" hook end --shell zsh --session "$__vigil_session" \
                --seq "$__vigil_seq" --exit "$s" "${dur[@]}" "${reply[@]}") || VIGIL_PROMPT_SEGMENT=''
        fi
    else
        VIGIL_PROMPT_SEGMENT=''
    fi
    if [[ ${VIGIL_PROMPT-1} != 0 ]]; then
        # Swap our previous segment at the left of RPROMPT for the new one, leaving the
        # rest of RPROMPT (the person's, or another tool's) as it is.
        local rest=${RPROMPT-}
        [[ -n $__vigil_rprompt_seg && $rest == "$__vigil_rprompt_seg"* ]] && rest=${rest#"$__vigil_rprompt_seg"}
        __vigil_rprompt_seg=$VIGIL_PROMPT_SEGMENT
        RPROMPT=$__vigil_rprompt_seg$rest
    fi
    # Hand $? and $pipestatus back as they were.
    pipestatus=("${ps[@]}")
    return $s
}

# The live mark: while a line is typed, each change is sent as `live` (a write, never a wait);
# the agent answers once typing pauses, and zle calls __vigil_live_reply when the answer is
# there (zle -F). An unsafe line shows the warning under the prompt; a safe one shows nothing.
# Only the last line before a pause is answered, so unanswered lines are normal while typing;
# a frozen agent gets at most 64 KB of them (far below a socket's buffer: a write must never
# block a keystroke), then nothing more until it answers.
__vigil_live_redraw() {
    emulate -L zsh
    setopt unset no_err_exit no_err_return
    [[ $__vigil_live == 1 && ${VIGIL_LIVE-1} != 0 ]] || return 0
    # Keys still waiting (a paste, fast typing): typing has not paused, the next redraw sends.
    (( PENDING > 0 )) && return 0
    [[ $BUFFER == "$__vigil_sent" ]] && return 0
    __vigil_sent=$BUFFER
    if [[ -z ${BUFFER//[[:space:]]/} || ${#BUFFER} -gt 4096 ]]; then
        __vigil_mark ''
        return 0
    fi
    (( __vigil_unanswered < 65536 )) || return 0
    __vigil_open || return 0
    __vigil_ask=$((__vigil_ask + 1))
    if ! print -rn -- "live"$'\0'"$__vigil_session"$'\0'"$__vigil_ask"$'\0'"$BUFFER"$'\0' 2>/dev/null >&$__vigil_fd; then
        __vigil_close
        return 0
    fi
    __vigil_unanswered=$((__vigil_unanswered + ${#BUFFER} + 32))
    if (( __vigil_watched != __vigil_fd )); then
        zle -F -w $__vigil_fd __vigil_live_reply 2>/dev/null && __vigil_watched=$__vigil_fd
    fi
}

# zle -F's handler, a widget: one reply line is waiting on the channel.
__vigil_live_reply() {
    emulate -L zsh
    setopt unset no_err_exit no_err_return
    local line us=$'\x1f'
    local -a r
    if ! IFS= read -r -t 0 -u $__vigil_fd line; then
        # The agent closed the channel: stop watching it; the next command opens a new one.
        __vigil_close
        return 0
    fi
    r=( "${(@ps:$us:)line}" )
    # The answer to an end written without waiting: that end is delivered.
    [[ -n $__vigil_unacked && ${r[1]-} == ended && ${r[2]-} == "$__vigil_unacked" ]] && __vigil_unacked=''
    # Only the answer for the line as it is now; a late reply to a command is dropped.
    [[ ${r[1]-} == scored && ${r[2]-} == "$__vigil_ask" ]] || return 0
    __vigil_unanswered=0
    # The line the last answer was for, and its verdict (for tests and curious people).
    __vigil_live_seen="${r[3]-}: $BUFFER"
    if [[ ${r[3]-} == (rule|unsafe) && -n ${r[4]-} ]]; then
        __vigil_mark "${r[4]}"
    else
        __vigil_mark ''
    fi
}

# Shows $1 under the prompt (empty: nothing).
__vigil_mark() {
    [[ $1 == "$__vigil_marked" ]] && return 0
    __vigil_marked=$1
    zle -M -- "$1"
}

# The second Enter ([score] confirm = "rules" or "unsafe"): Enter on a line that hits a rule (or
# gets any unsafe verdict) shows the warning and waits; Enter again on the same line runs it
# unchanged; an edited line is checked again; Ctrl-C cancels as ever. No channel, no check:
# vigil stays advisory and never holds a line for good.
__vigil_accept_line() {
    emulate -L zsh
    setopt unset no_err_exit no_err_return
    if [[ -n ${BUFFER//[[:space:]]/} && $BUFFER != "$__vigil_confirmed" && ${VIGIL_WARN-1} != 0 ]]; then
        __vigil_ask=$((__vigil_ask + 1))
        if __vigil_send scored $__vigil_ask check "$__vigil_session" $__vigil_ask "$BUFFER"; then
            local v=${__vigil_reply[3]-}
            if [[ $v == rule || ( $__vigil_confirm == unsafe && $v == unsafe ) ]]; then
                __vigil_confirmed=$BUFFER
                __vigil_marked=''
                __vigil_mark "${__vigil_reply[4]:-vigil: this line looks unsafe} (press Enter again to run)"
                return 0
            fi
        fi
    fi
    __vigil_confirmed=''
    zle __vigil_orig_accept_line -- "$@"
}

# zle's hook widgets: ours when no other tool has one (add-zle-hook-widget's dispatcher costs
# a keystroke some 50 µs), joined through add-zle-hook-widget when one has.
__vigil_zle_hook() {
    if (( ${+widgets[zle-$1]} )); then
        autoload -Uz add-zle-hook-widget 2>/dev/null && add-zle-hook-widget "$1" "$2"
    else
        zle -N "zle-$1" "$2"
    fi
}
zmodload zsh/zleparameter 2>/dev/null
zle -N __vigil_live_reply
if [[ $__vigil_live == 1 ]]; then
    # No line-finish hook: zle clears what is under the line when it is accepted (a message
    # cleared from line-finish leaves zle's idea of the screen behind, and the next prompt is
    # drawn over the command's last line of output).
    __vigil_zle_hook line-pre-redraw __vigil_live_redraw
fi
if [[ $__vigil_confirm == (rules|unsafe) ]]; then
    zle -A accept-line __vigil_orig_accept_line
    zle -N accept-line __vigil_accept_line
fi

# The relay starts with the shell, so that it is ready (its rules built) when it is needed.
__vigil_relay_open

add-zsh-hook preexec __vigil_preexec
add-zsh-hook precmd __vigil_precmd
