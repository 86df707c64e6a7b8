"""Completion scripts for bash, zsh and fish: ``supervisorctl completion bash|zsh|fish``.

Each completes the options, the actions, and each action's arguments: process names
(``name``, ``group:name``, ``group:*``, ``all``) or group names, asked of the server when Tab
is pressed by running ``supervisorctl status`` with the server options already typed
(``-c``, ``-s``, ``-u``, ``-p``); ``--json`` and the other flags where an action takes them;
channels after ``tail``'s name; signal names after ``signal``. The word lists come from the
actions themselves, so a script always matches the supervisorctl that printed it.
"""

from __future__ import annotations

from vigil.ctl.actions.base import COMPLETE_GROUPS, COMPLETE_PROCESSES

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from collections.abc import Mapping

    from vigil.ctl.actions.base import Action

SHELLS = ("bash", "zsh", "fish")
SIGNALS = ("HUP", "INT", "QUIT", "KILL", "TERM", "USR1", "USR2", "STOP", "CONT")
# Flags of particular actions besides --json.
ACTION_FLAGS = {
    "tail": ("-f",),
    "maintail": ("-f",),
    "version": ("-v", "--verbose"),
    "status": ("--stats",),
    "restart": ("--rolling", "--batch", "--pause"),
}
OPTIONS = (
    *("-c", "--configuration", "-h", "--help", "-i", "--interactive", "-s", "--serverurl"),
    *("-u", "--username", "-p", "--password", "-r", "--history_file", "--color"),
)
# States as ``status`` prints them: lines without one are not processes (errors, prompts).
_STATES = "STOPPED|STARTING|RUNNING|BACKOFF|STOPPING|EXITED|FATAL|UNKNOWN"
# awk programs from ``status`` output to the names a process argument takes (each process,
# each group as ``group:*``, and ``all``) and to group names. Colour codes are dropped first,
# for ``color = always``.
_AWK_NAMES = (
    r'{ gsub(/\033\[[0-9;]*m/, "") } $2 ~ /^(' + _STATES + r")$/ { print $1;"
    r' n = index($1, ":"); if (n) g[substr($1, 1, n - 1) ":*"] = 1 }'
    r' END { for (k in g) print k; print "all" }'
)
_AWK_GROUPS = (
    r'{ gsub(/\033\[[0-9;]*m/, "") } $2 ~ /^(' + _STATES + r")$/ {"
    r' n = index($1, ":"); g[n ? substr($1, 1, n - 1) : $1] = 1 }'
    r" END { for (k in g) print k }"
)


class WordLists:
    """What the scripts complete, from the actions."""

    def __init__(self, actions: Mapping[str, Action]) -> None:
        self.commands = sorted(name for name in actions if name != "EOF")
        self.processes = sorted(
            name for name, action in actions.items() if action.completes == COMPLETE_PROCESSES
        )
        self.groups = sorted(
            name for name, action in actions.items() if action.completes == COMPLETE_GROUPS
        )
        self.json = sorted(name for name, action in actions.items() if action.speaks_json)

    def flags(self, command: str) -> list[str]:
        return [*ACTION_FLAGS.get(command, ()), *(["--json"] if command in self.json else [])]


def script(shell: str, actions: Mapping[str, Action]) -> str:
    """The completion script for ``shell`` (one of `SHELLS`)."""
    words = WordLists(actions)
    builder = {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell]
    return builder(words)


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    return template


def _values(words: WordLists) -> dict[str, str]:
    flagged = sorted(set(words.json) | set(ACTION_FLAGS))
    return {
        "COMMANDS": " ".join(words.commands),
        "PROCESS_COMMANDS": "|".join(words.processes),
        "GROUP_COMMANDS": "|".join(words.groups),
        "OPTIONS": " ".join(OPTIONS),
        "SIGNALS": " ".join(SIGNALS),
        "SHELLS": " ".join(SHELLS),
        "AWK_NAMES": f"'{_AWK_NAMES}'",
        "AWK_GROUPS": f"'{_AWK_GROUPS}'",
        "FLAG_CASES": "\n".join(
            f'            {command}) flags="{" ".join(words.flags(command))}" ;;'
            for command in flagged
        ),
        "ZSH_FLAG_CASES": "\n".join(
            f"      ({command}) flags=({' '.join(words.flags(command))}) ;;" for command in flagged
        ),
    }


_BASH = r"""# bash completion for supervisorctl (vigil), printed by `supervisorctl completion bash`.
# Process and group names are asked of the server (`supervisorctl status`) at each Tab.

_supervisorctl_list() {
    # "names" or "groups", from the server the options typed so far name
    "${_supervisorctl_prog:-supervisorctl}" "${_supervisorctl_server[@]}" status 2>/dev/null |
        if [[ $1 == names ]]; then
            awk @AWK_NAMES@
        else
            awk @AWK_GROUPS@
        fi
}

_supervisorctl() {
    local line=${COMP_LINE:0:COMP_POINT}
    local -a words
    read -r -a words <<< "$line"
    local cur=""
    if [[ $line != *[[:space:]] && ${#words[@]} -gt 0 ]]; then
        cur=${words[${#words[@]}-1]}
        unset "words[${#words[@]}-1]"
    fi
    _supervisorctl_prog=${words[0]}
    _supervisorctl_server=()
    local i=1 word command="" prev=""
    while (( i < ${#words[@]} )); do
        word=${words[i]/#\~\//$HOME/}
        case $word in
            --con*=*|--ser*=*|--use*=*|--pas*=*|-[csup]?*) _supervisorctl_server+=("$word") ;;
            -c|-s|-u|-p|--con*|--ser*|--use*|--pas*)
                _supervisorctl_server+=("$word" "${words[i+1]/#\~\//$HOME/}")
                (( i++ )) ;;
            --his*=*) ;;
            -r|--his*) (( i++ )) ;;
            -*) ;;
            *) command=$word; (( i++ )); break ;;
        esac
        (( i++ ))
    done
    local -a args=("${words[@]:i}")
    (( ${#words[@]} > 0 )) && prev=${words[${#words[@]}-1]}
    local candidates="" flags=""
    if [[ -z $command ]]; then
        case $prev in
            -c|--con*)
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                return ;;
            -s|-u|-p|-r|--ser*|--use*|--pas*|--his*) COMPREPLY=(); return ;;
        esac
        if [[ $cur == -* ]]; then
            candidates="@OPTIONS@"
        else
            candidates="@COMMANDS@"
        fi
    else
        case $command in
@FLAG_CASES@
        esac
        if [[ $cur == -* ]]; then
            candidates=$flags
        else
            case $command in
                help) candidates="@COMMANDS@" ;;
                completion) candidates="@SHELLS@" ;;
                signal)
                    local -a named=()
                    for word in "${args[@]}"; do [[ $word == -* ]] || named+=("$word"); done
                    if (( ${#named[@]} == 0 )); then
                        candidates="@SIGNALS@"
                    else
                        candidates=$(_supervisorctl_list names)
                    fi ;;
                tail)
                    candidates=$(_supervisorctl_list names)
                    for word in "${args[@]}"; do
                        [[ $word == -* ]] || { candidates+=" stdout stderr"; break; }
                    done ;;
                @PROCESS_COMMANDS@) candidates=$(_supervisorctl_list names) ;;
                @GROUP_COMMANDS@) candidates="$(_supervisorctl_list groups) all" ;;
            esac
        fi
    fi
    mapfile -t COMPREPLY < <(compgen -W "$candidates" -- "$cur")
    # bash splits words at ':' (COMP_WORDBREAKS): complete only what follows the last one.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local colon_prefix=${cur%"${cur##*:}"}
        local index
        for index in "${!COMPREPLY[@]}"; do
            COMPREPLY[index]=${COMPREPLY[index]#"$colon_prefix"}
        done
    fi
}

complete -F _supervisorctl supervisorctl
"""


def _bash(words: WordLists) -> str:
    return _fill(_BASH, _values(words))


_ZSH = r"""#compdef supervisorctl
# zsh completion for supervisorctl (vigil), printed by `supervisorctl completion zsh`.
# Process and group names are asked of the server (`supervisorctl status`) at each Tab.

_supervisorctl_list() {
  # "names" or "groups", from the server the options typed so far name
  local -a lines
  if [[ $1 == names ]]; then
    lines=(${(f)"$(${~words[1]} ${~_supervisorctl_server} status 2>/dev/null | awk @AWK_NAMES@)"})
  else
    lines=(${(f)"$(${~words[1]} ${~_supervisorctl_server} status 2>/dev/null | awk @AWK_GROUPS@)"})
  fi
  print -rl -- $lines
}

_supervisorctl() {
  local -a _supervisorctl_server args flags named
  local i=2 word command=""
  while (( i < CURRENT )); do
    word=${words[i]}
    case $word in
      (-c|-s|-u|-p|--con*|--ser*|--use*|--pas*)
        if [[ $word == *=* ]]; then
          _supervisorctl_server+=($word)
        else
          _supervisorctl_server+=($word ${words[i+1]})
          (( i++ ))
        fi ;;
      (-r|--his*) [[ $word == *=* ]] || (( i++ )) ;;
      (-[csup]?*) _supervisorctl_server+=($word) ;;
      (-*) ;;
      (*) command=$word; (( i++ )); break ;;
    esac
    (( i++ ))
  done
  if [[ -z $command ]]; then
    case ${words[CURRENT-1]} in
      (-c|--con*) _files; return ;;
      (-s|-u|-p|-r|--ser*|--use*|--pas*|--his*) return 1 ;;
    esac
    if [[ $PREFIX == -* ]]; then
      compadd -- @OPTIONS@
    else
      compadd -- @COMMANDS@
    fi
    return
  fi
  args=(${words[i,CURRENT-1]})
  case $command in
@ZSH_FLAG_CASES@
  esac
  if [[ $PREFIX == -* ]]; then
    (( ${#flags} )) && compadd -- $flags
    return
  fi
  named=(${args:#-*})
  case $command in
    (help) compadd -- @COMMANDS@ ;;
    (completion) compadd -- @SHELLS@ ;;
    (signal)
      if (( ${#named} == 0 )); then
        compadd -- @SIGNALS@
      else
        compadd -- ${(f)"$(_supervisorctl_list names)"}
      fi ;;
    (tail)
      compadd -- ${(f)"$(_supervisorctl_list names)"}
      (( ${#named} )) && compadd -- stdout stderr ;;
    (@PROCESS_COMMANDS@) compadd -- ${(f)"$(_supervisorctl_list names)"} ;;
    (@GROUP_COMMANDS@) compadd -- ${(f)"$(_supervisorctl_list groups)"} all ;;
  esac
}

if [[ $funcstack[1] == _supervisorctl ]]; then
  # autoloaded from a file _supervisorctl in $fpath
  _supervisorctl "$@"
else
  # sourced (source <(supervisorctl completion zsh)), after compinit
  compdef _supervisorctl supervisorctl
fi
"""


def _zsh(words: WordLists) -> str:
    return _fill(_ZSH, _values(words))


_FISH = r"""# fish completion for supervisorctl (vigil), printed by `supervisorctl completion fish`.
# Process and group names are asked of the server (`supervisorctl status`) at each Tab.

function __supervisorctl_parse
    # "server": the options that name the server; "command" and "args": the action typed
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l server
    while set -q tokens[1]
        switch $tokens[1]
            case '--con*=*' '--ser*=*' '--use*=*' '--pas*=*' '-c?*' '-s?*' '-u?*' '-p?*'
                set -a server $tokens[1]
            case -c -s -u -p '--con*' '--ser*' '--use*' '--pas*'
                set -a server $tokens[1..2]
                set -e tokens[1]
            case -r '--his*'
                string match -q -- '*=*' $tokens[1]; or set -e tokens[1]
            case '-*'
            case '*'
                break
        end
        set -e tokens[1]
    end
    switch $argv[1]
        case server
            set -q server[1]; and printf '%s\n' $server
        case command
            set -q tokens[1]; and printf '%s\n' $tokens[1]
        case args
            set -e tokens[1]
            set -q tokens[1]; and printf '%s\n' $tokens
    end
end

function __supervisorctl_needs_command
    set -l command (__supervisorctl_parse command)
    test -z "$command"
end

function __supervisorctl_using
    set -l command (__supervisorctl_parse command)
    test -n "$command"; and contains -- $command $argv
end

function __supervisorctl_named
    # whether as many arguments (not flags) as $argv[1] follow the action
    test (count (string match -v -- '-*' (__supervisorctl_parse args))) -eq $argv[1]
end

function __supervisorctl_list
    set -l prog (commandline -opc)[1]
    if test "$argv[1]" = names
        $prog (__supervisorctl_parse server) status 2>/dev/null | awk @AWK_NAMES@
    else
        $prog (__supervisorctl_parse server) status 2>/dev/null | awk @AWK_GROUPS@
        echo all
    end
end

complete -c supervisorctl -f
complete -c supervisorctl -n __supervisorctl_needs_command -a '@COMMANDS@'
complete -c supervisorctl -n __supervisorctl_needs_command -s c -l configuration -r -F \
    -d 'configuration file'
complete -c supervisorctl -n __supervisorctl_needs_command -s s -l serverurl -x -d 'server URL'
complete -c supervisorctl -n __supervisorctl_needs_command -s u -l username -x -d 'user name'
complete -c supervisorctl -n __supervisorctl_needs_command -s p -l password -x -d 'password'
complete -c supervisorctl -n __supervisorctl_needs_command -s r -l history_file -r -F \
    -d 'readline history file'
complete -c supervisorctl -n __supervisorctl_needs_command -s i -l interactive \
    -d 'shell after the action'
complete -c supervisorctl -n __supervisorctl_needs_command -s h -l help -d 'usage'
complete -c supervisorctl -n __supervisorctl_needs_command -l color -a 'auto always never' \
    -d 'colour'
complete -c supervisorctl -n '__supervisorctl_using help' -a '@COMMANDS@'
complete -c supervisorctl -n '__supervisorctl_using completion' -a '@SHELLS@'
complete -c supervisorctl -n '__supervisorctl_using @PROCESS_COMMANDS_FISH@' \
    -a '(__supervisorctl_list names)'
complete -c supervisorctl -n '__supervisorctl_using @GROUP_COMMANDS_FISH@' \
    -a '(__supervisorctl_list groups)'
complete -c supervisorctl -n '__supervisorctl_using signal; and __supervisorctl_named 0' \
    -a '@SIGNALS@'
complete -c supervisorctl -n '__supervisorctl_using signal; and not __supervisorctl_named 0' \
    -a '(__supervisorctl_list names)'
complete -c supervisorctl -n '__supervisorctl_using tail; and not __supervisorctl_named 0' \
    -a 'stdout stderr'
complete -c supervisorctl -n '__supervisorctl_using @JSON_COMMANDS_FISH@' -l json -d 'print JSON'
complete -c supervisorctl -n '__supervisorctl_using tail maintail' -s f -d 'follow'
complete -c supervisorctl -n '__supervisorctl_using version' -s v -l verbose \
    -d 'which supervisorctl and supervisord'
complete -c supervisorctl -n '__supervisorctl_using status' -l stats \
    -d 'CPU, memory and restarts'
complete -c supervisorctl -n '__supervisorctl_using restart' -l rolling \
    -d 'one at a time, the next once it is back'
complete -c supervisorctl -n '__supervisorctl_using restart' -l batch -x \
    -d 'processes at a time (--rolling)'
complete -c supervisorctl -n '__supervisorctl_using restart' -l pause -x \
    -d 'seconds between batches (--rolling)'
"""


def _fish(words: WordLists) -> str:
    values = _values(words)
    processes = [name for name in words.processes if name not in ("signal",)]
    values["PROCESS_COMMANDS_FISH"] = " ".join(processes)
    values["GROUP_COMMANDS_FISH"] = " ".join(words.groups)
    values["JSON_COMMANDS_FISH"] = " ".join(words.json)
    return _fill(_FISH, values)
