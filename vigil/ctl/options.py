"""supervisorctl's command line, read with Supervisor's rules and error messages.

Options are parsed the way ``getopt.getopt`` does (stop at the first argument that is not an
option; long options may be abbreviated to a unique prefix), then applied in order: ``-h``
prints help at its turn, ``-s`` is checked to be a URL, an option given twice is an error.
The parser is our own so that ``supervisorctl status`` does not pay for importing ``getopt``
(and ``gettext`` and ``re`` behind it).
"""

from __future__ import annotations

HELP_TEXT = """supervisorctl -- control applications run by supervisord from the cmd line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default "http://localhost:9001").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like "tail" or "stop".  If -i is specified or no action is
specified on the command line, a "shell" interpreting actions typed
interactively is started.  Use the action "help" to find out about available
actions.
"""

# Short options as getopt spells them (a colon after a letter that takes a value), and the
# long ones ("=" after a name that takes a value). Supervisor documents --history-file but
# only accepts --history_file; so do we.
SHORT_OPTIONS = "h?c:is:u:p:r:"
LONG_OPTIONS = (
    "help",
    "configuration=",
    "interactive",
    "serverurl=",
    "username=",
    "password=",
    "history_file=",
)
# Which setting each option fills.
_SETTING_OF = {
    "-c": "configfile",
    "--configuration": "configfile",
    "-i": "interactive",
    "--interactive": "interactive",
    "-s": "serverurl",
    "--serverurl": "serverurl",
    "-u": "username",
    "--username": "username",
    "-p": "password",
    "--password": "password",
    "-r": "history_file",
    "--history_file": "history_file",
}
_HELP_OPTIONS = frozenset({"-h", "-?", "--help"})

# vigil's additions, matched only when a word is not a prefix of one of Supervisor's options
# (``--co`` stays ``--configuration``). Each takes an optional ``=VALUE``.
ADDED_LONG_OPTIONS = ("color", "version")
COLOR_MODES = ("auto", "always", "never")
# ``--color`` alone: colour whatever stdout is, as ``ls --color`` does.
COLOR_WITHOUT_VALUE = "always"


class UsageError(Exception):
    """A bad command line or configuration file: ``Error: <message>``, exit status 2."""


class HelpRequested(Exception):
    """``-h``: print the help text and exit 0."""


class VersionRequested(Exception):
    """``--version`` (vigil's; Supervisor's supervisorctl has none): print it and exit 0."""


class CommandLine:
    """What the command line said; None where it said nothing."""

    def __init__(self) -> None:
        self.configfile: str | None = None
        self.interactive: bool | None = None
        self.serverurl: str | None = None
        self.username: str | None = None
        self.password: str | None = None
        self.history_file: str | None = None
        self.color: str | None = None
        self.args: list[str] = []


def parse_command_line(argv: list[str]) -> CommandLine:
    """The options and the action words of ``argv`` (without the program name)."""
    pairs, args = split_options(argv)
    line = CommandLine()
    line.args = args
    for option, value in pairs:
        if option in _HELP_OPTIONS:
            raise HelpRequested()
        if option == "--version":
            raise VersionRequested()
        if option == "--color":
            if line.color is not None:
                raise UsageError(f"conflicting command line option {option!r}")
            line.color = color_value(value)
            continue
        setting = _SETTING_OF[option]
        value = value or ""
        if setting == "serverurl":
            problem = url_problem(value)
            if problem is not None:
                raise UsageError(f"invalid value for {option} {value!r}: {problem}")
        if getattr(line, setting) is not None:
            raise UsageError(f"conflicting command line option {option!r}")
        setattr(line, setting, True if setting == "interactive" else value)
    return line


def split_options(argv: list[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """(option, value) pairs up to the first non-option argument, and the arguments after.
    The value is None only for an added option given without ``=VALUE``."""
    pairs: list[tuple[str, str | None]] = []
    rest = list(argv)
    while rest and rest[0].startswith("-") and rest[0] != "-":
        word = rest.pop(0)
        if word == "--":
            break
        if word.startswith("--"):
            pairs.append(_long_option(word[2:], rest))
        else:
            pairs.extend(_short_options(word[1:], rest))
    return pairs, rest


def color_value(value: str | None) -> str:
    """The colour mode ``--color[=WHEN]`` asks for."""
    if value is None:
        return COLOR_WITHOUT_VALUE
    mode = value.lower()
    if mode not in COLOR_MODES:
        raise UsageError(f"invalid value for --color {value!r}: expected auto, always or never")
    return mode


def _long_option(text: str, rest: list[str]) -> tuple[str, str | None]:
    name, equals, value = text.partition("=")
    candidates = [spec for spec in LONG_OPTIONS if spec.startswith(name)]
    if not candidates:
        added = [spec for spec in ADDED_LONG_OPTIONS if spec.startswith(name)]
        if len(added) == 1:
            return "--" + added[0], value if equals else None
        raise UsageError(f"option --{name} not recognized")
    if name in candidates:
        takes_value = False
    elif name + "=" in candidates:
        takes_value = True
    elif len(candidates) > 1:
        raise UsageError(f"option --{name} not a unique prefix")
    else:
        takes_value = candidates[0].endswith("=")
        name = candidates[0].rstrip("=")
    if takes_value and not equals:
        if not rest:
            raise UsageError(f"option --{name} requires argument")
        value = rest.pop(0)
    elif not takes_value and equals:
        raise UsageError(f"option --{name} must not have an argument")
    return "--" + name, value


def _short_options(letters: str, rest: list[str]) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    while letters:
        letter, letters = letters[0], letters[1:]
        at = SHORT_OPTIONS.find(letter) if letter != ":" else -1
        if at < 0:
            raise UsageError(f"option -{letter} not recognized")
        value = ""
        if SHORT_OPTIONS.startswith(":", at + 1):
            if not letters:
                if not rest:
                    raise UsageError(f"option -{letter} requires argument")
                letters = rest.pop(0)
            value, letters = letters, ""
        pairs.append(("-" + letter, value))
    return pairs


_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")


# Schemes whose last path segment may carry ";parameters" (``urllib.parse.uses_params``).
_SCHEMES_WITH_PARAMS = frozenset(
    {
        "",
        "ftp",
        "hdl",
        "prospero",
        "http",
        "imap",
        "https",
        "shttp",
        "rtsp",
        "rtspu",
        "sip",
        "sips",
        "mms",
        "sftp",
        "tel",
    }
)


def _without_params(path: str) -> str:
    start = path.rfind("/") if "/" in path else 0
    end = path.find(";", start)
    return path if end < 0 else path[:end]


def split_scheme(value: str) -> tuple[str, str]:
    """(lower-cased scheme, rest) of a URL as ``urllib.parse`` finds them; no scheme: ""."""
    text = value.lstrip("".join(map(chr, range(33))))
    for unsafe in "\t\r\n":
        text = text.replace(unsafe, "")
    scheme, colon, remainder = text.partition(":")
    starts_well = bool(scheme) and scheme[0].isascii() and scheme[0].isalpha()
    if colon and starts_well and set(scheme) <= _SCHEME_CHARS:
        return scheme.lower(), remainder
    return "", text


def url_problem(value: str) -> str | None:
    """Why ``value`` is not a server URL by Supervisor's test, or None if it is one. The test
    wants a scheme, and a network location or a path, as ``urllib.parse.urlparse`` splits them.
    Bracketed IPv6 hosts and non-ASCII text, whose checks are intricate, go to urllib itself.
    """
    if "[" in value or "]" in value or not value.isascii():
        return _problem_by_urllib(value)
    scheme, remainder = split_scheme(value)
    netloc = ""
    if remainder.startswith("//"):
        end = len(remainder)
        for stop in "/?#":
            found = remainder.find(stop, 2)
            if found >= 0:
                end = min(end, found)
        netloc, remainder = remainder[2:end], remainder[end:]
    path = remainder.split("#", 1)[0].split("?", 1)[0]
    if scheme in _SCHEMES_WITH_PARAMS:
        path = _without_params(path)
    if scheme and (netloc or path):
        return None
    return f"value {value!r} is not a URL"


def _problem_by_urllib(value: str) -> str | None:
    from urllib.parse import urlparse

    try:
        parts = urlparse(value)
    except ValueError as error:
        return str(error)
    if parts.scheme and (parts.netloc or parts.path):
        return None
    return f"value {value!r} is not a URL"
