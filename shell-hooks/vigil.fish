# vigil hook for fish. Load it from ~/.config/fish/config.fish with:  vigil init fish | source
#
# fish_preexec hands the command line to `vigil hook start`; fish_postexec closes it with
# `vigil hook end`, whose output is the prompt segment, shown at the left of the right prompt.
# fish restores $status and $pipestatus after event handlers, so the person's prompt sees
# their command's status.

# Interactive shells only, once per shell (the guard is not exported: a nested fish gets its
# own session).
status is-interactive; or exit 0
set -q __vigil_loaded; and exit 0
set -g __vigil_loaded 1

set -g __vigil_bin __VIGIL_BIN__
set -g __vigil_session fish-$fish_pid-(random)(random)(random)
set -g __vigil_seq 0
set -g __vigil_running 0
# Exported, so that prompt tools run as programs (starship) can show it.
set -gx VIGIL_PROMPT_SEGMENT ''
# Which hook mechanism this shell uses, for `vigil doctor`.
set -gx VIGIL_HOOK 'fish: fish_preexec and fish_postexec events'
# fish has no coprocess, no socket and no read deadline: it cannot hold a channel open without
# risking a hang, so each command execs the client.
set -gx VIGIL_CHANNEL 'exec (fish cannot hold a channel open)'

function __vigil_preexec --on-event fish_preexec
    set -l cmd $argv[1]
    # A leading space means "do not record this one".
    if test -z "$cmd"; or string match -qr '^\s' -- "$cmd"
        return 0
    end
    test -x "$__vigil_bin"; or return 0
    set -g __vigil_seq (math "$__vigil_seq + 1")
    set -g __vigil_running 1
    # On a pipe, never in argv: any local user can read /proc/PID/cmdline. printf is a fish
    # builtin, which does not fork: the text is in no process's argv.
    printf '%s' "$cmd" | "$__vigil_bin" hook start --shell fish --session "$__vigil_session" \
        --seq "$__vigil_seq" --cwd "$PWD" --stdin
end

function __vigil_postexec --on-event fish_postexec
    set -l s $status
    if test "$__vigil_running" = 1
        set -g __vigil_running 0
        if test -x "$__vigil_bin"
            set -gx VIGIL_PROMPT_SEGMENT ("$__vigil_bin" hook end --shell fish --session "$__vigil_session" \
                --seq "$__vigil_seq" --exit "$s" --duration-ms "$CMD_DURATION" 2>/dev/null | string collect)
        end
    else
        set -gx VIGIL_PROMPT_SEGMENT ''
    end
end

# The second Enter ([score] confirm = "rules" or "unsafe", as config.toml said when this shell
# started): Enter on a line that hits a rule (or gets any unsafe verdict) shows the warning and
# waits; Enter again on the same line runs it unchanged; an edited line is checked again;
# Ctrl-C cancels as ever. The check execs the client (fish has no channel) on Enter only.
set -g __vigil_confirm __VIGIL_CONFIRM__
set -g __vigil_confirmed ''

function __vigil_enter
    set -l line (commandline | string collect)
    if string match -qr '\S' -- "$line"; and test "$line" != "$__vigil_confirmed"; and test "$VIGIL_WARN" != 0
        and test -x "$__vigil_bin"
        set -l r (printf '%s' "$line" | "$__vigil_bin" hook check --session "$__vigil_session" 2>/dev/null | string split \x1f)
        if test "$r[3]" = rule; or begin
                test "$__vigil_confirm" = unsafe; and test "$r[3]" = unsafe
            end
            set -g __vigil_confirmed "$line"
            set -l msg "$r[4]"
            test -n "$msg"; or set msg 'vigil: this line looks unsafe'
            printf '\n%s (press Enter again to run)\n' "$msg" >&2
            commandline -f repaint
            return 0
        end
    end
    set -g __vigil_confirmed ''
    commandline -f execute
end

function __vigil_forget_confirmed --on-event fish_prompt
    set -g __vigil_confirmed ''
end

# Ctrl-C cancels the line without a new prompt event: it forgets a held line too.
function __vigil_cancel
    set -g __vigil_confirmed ''
    commandline -f cancel-commandline
end

# fish sets its key bindings up after config.fish, and again when fish_key_bindings changes
# (vi mode): Enter is bound at the first prompt and after each such change.
function __vigil_bind_enter
    for mode in default insert
        bind -M $mode \r __vigil_enter 2>/dev/null
        bind -M $mode \n __vigil_enter 2>/dev/null
        bind -M $mode \cc __vigil_cancel 2>/dev/null
    end
end

if contains -- "$__vigil_confirm" rules unsafe
    function __vigil_bind_at_first_prompt --on-event fish_prompt
        functions -e __vigil_bind_at_first_prompt
        __vigil_bind_enter
    end
    function __vigil_bind_again --on-variable fish_key_bindings
        __vigil_bind_enter
    end
end

# The segment for a person's own prompt.
function vigil_prompt_segment
    printf '%s' "$VIGIL_PROMPT_SEGMENT"
end

if test "$VIGIL_PROMPT" != 0
    # Wrap the right prompt: ours first, then whatever was there.
    if functions -q fish_right_prompt; and not functions -q __vigil_orig_right_prompt
        functions -c fish_right_prompt __vigil_orig_right_prompt
    end
    function fish_right_prompt
        vigil_prompt_segment
        if functions -q __vigil_orig_right_prompt
            __vigil_orig_right_prompt
        end
    end
end
