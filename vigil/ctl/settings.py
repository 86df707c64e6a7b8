"""The settings supervisorctl runs with: command line over ``[supervisorctl]`` over defaults."""

from __future__ import annotations

import os

from vigil.ctl.options import CommandLine, UsageError

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.config.ctl_model import CtlConfig, PluginConfig
    from vigil.config.errors import ConfigError


class ClientSettings:
    """Where the server is, who we are, and how the shell looks. The server URL and the
    credentials change during a session (``open``, the password prompt)."""

    def __init__(
        self,
        *,
        serverurl: str,
        username: str | None,
        password: str | None,
        prompt: str,
        history_file: str | None,
        interactive: bool,
        color: str = "never",
        cafile: str | None = None,
    ) -> None:
        self.serverurl = serverurl
        self.username = username
        self.password = password
        self.prompt = prompt
        self.history_file = history_file
        self.interactive = interactive
        self.color = color  # "auto", "always" or "never": see CtlConfig.color
        self.cafile = cafile  # what an https:// server's certificate is checked against

    @classmethod
    def defaults(cls) -> ClientSettings:
        """The settings without configuration file or options."""
        return cls(
            serverurl=DEFAULT_SERVERURL,
            username=None,
            password=None,
            prompt=DEFAULT_PROMPT,
            history_file=None,
            interactive=False,
            color=DEFAULT_COLOR,
        )


# What supervisorctl uses without a configuration file: CtlConfig's defaults (a test holds
# them equal), repeated so that a run without a file does not import the config package.
DEFAULT_SERVERURL = "http://localhost:9001"
DEFAULT_PROMPT = "supervisor"
DEFAULT_COLOR = "never"


def resolve_settings(line: CommandLine, argv0: str) -> tuple[ClientSettings, list[str]]:
    """The settings, and warnings to show. ``-c`` names the file, else the first file of the
    default search; with no file at all the defaults apply. A file that cannot be used is a
    `UsageError`."""
    path = line.configfile
    if path is None:
        from vigil.config.search import find_config

        path = find_config(argv0)
    settings = ClientSettings.defaults()
    settings.interactive = bool(line.interactive) or not line.args
    warnings: list[str] = []
    if path:
        ctl, plugins = _read_file(path)
        settings.serverurl = ctl.serverurl
        settings.username = ctl.username
        settings.password = ctl.password
        settings.prompt = ctl.prompt
        settings.history_file = ctl.history_file
        settings.color = ctl.color
        settings.cafile = ctl.cafile
        if plugins:
            warnings.append(plugin_warning(plugins))
    # The command line wins over the file. (Supervisor 4.3.0 accepts -r but never uses it.)
    settings.serverurl = line.serverurl or settings.serverurl
    if line.username is not None:
        settings.username = line.username
    if line.password is not None:
        settings.password = line.password
    if line.history_file:
        settings.history_file = os.path.abspath(os.path.expanduser(line.history_file))
    if line.color is not None:
        settings.color = line.color
    return settings, warnings


def _read_file(path: str) -> tuple[CtlConfig, tuple[PluginConfig, ...]]:
    from vigil.config.ctlfile import load_ctl
    from vigil.config.errors import ConfigError

    try:
        return load_ctl(path)
    except ConfigError as error:
        raise UsageError(config_error_text(error)) from None


def config_error_text(error: ConfigError) -> str:
    """Supervisor's wording for problems of the whole file ("could not find config file x");
    a problem at a line also says where it is."""
    return "\n".join(
        problem.message if not problem.line else str(problem) for problem in error.problems
    )


def plugin_warning(plugins: tuple[PluginConfig, ...]) -> str:
    sections = ", ".join(f"[ctlplugin:{plugin.name}]" for plugin in plugins)
    return (
        f"Warning: ignoring {sections}: this supervisorctl cannot load Supervisor's Python "
        "plugins; the built-in actions work as usual."
    )
