# vigil hook for zsh. Load it from ~/.zshrc with:  eval "$(vigil init zsh)"
#
# preexec hands the command line to `vigil hook start`; precmd closes it with `vigil hook end`,
# whose output is the prompt segment, shown at the left of RPROMPT. $? and $pipestatus are
# read first and handed back untouched.
#
# The command line never goes into an argument of the client: any local user can read
# /proc/PID/cmdline. It goes on a pipe. The person's options (nounset, errexit) are turned
# off inside our functions only (localoptions): a failing hook command must not end the shell.

# Interactive shells only, once per shell (the guard is not exported: a nested zsh gets its
# own session).
[[ -o interactive ]] || return 0
(( ${+__vigil_loaded} )) && return 0
typeset -g __vigil_loaded=1

zmodload zsh/datetime 2>/dev/null
autoload -Uz add-zsh-hook

typeset -g __vigil_bin=__VIGIL_BIN__
typeset -g __vigil_session="zsh-$$-${EPOCHSECONDS:-$SECONDS}-$RANDOM$RANDOM"
typeset -gi __vigil_seq=0 __vigil_running=0
typeset -g __vigil_t0=''
typeset -g __vigil_rprompt_seg=''
# Exported, so that prompt tools run as programs (starship) can show it.
typeset -gx VIGIL_PROMPT_SEGMENT=''
# Which hook mechanism this shell uses, for `vigil doctor`.
typeset -gx VIGIL_HOOK='zsh: add-zsh-hook preexec and precmd'

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
    # Not a here-string: zsh writes <<< to a temporary file, on disk. `print` runs in a fork
    # of this shell, so the text is in no process's argv.
    print -rn -- "$cmd" | "$__vigil_bin" hook start --shell zsh --session "$__vigil_session" \
        --seq "$__vigil_seq" --cwd "$PWD" --stdin
    return 0
}

__vigil_precmd() {
    # Read the status first: anything run here replaces it.
    local -i s=$?
    local -a ps
    ps=("${pipestatus[@]}")
    emulate -L zsh
    setopt unset no_err_exit no_err_return
    if (( __vigil_running )); then
        __vigil_running=0
        local -a dur
        if [[ -n $__vigil_t0 && -n $EPOCHREALTIME ]]; then
            local -i ms=$(( (EPOCHREALTIME - __vigil_t0) * 1000 ))
            dur=(--duration-ms "$ms")
        fi
        if [[ -x $__vigil_bin ]]; then
            VIGIL_PROMPT_SEGMENT=$("$__vigil_bin" hook end --shell zsh --session "$__vigil_session" \
                --seq "$__vigil_seq" --exit "$s" "${dur[@]}") || VIGIL_PROMPT_SEGMENT=''
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

add-zsh-hook preexec __vigil_preexec
add-zsh-hook precmd __vigil_precmd
