"""supervisorctl's view of a configuration file: `[supervisorctl]` and `[ctlplugin:x]`.

Kept apart from the daemon's loader so that supervisorctl imports only what it reads; the
daemon's loader reuses these pieces for the same sections.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from vigil.config import datatypes as dt
from vigil.config.ctl_model import CtlConfig, PluginConfig
from vigil.config.errors import ConfigError
from vigil.config.expand import environment_names
from vigil.config.ini import IniDocument
from vigil.config.reading import OptionReader, ProblemLog, default_of

SUPERVISORCTL = "supervisorctl"
CTL_FACTORY = "supervisor.ctl_factory"
# The values of ``color`` (as supervisorctl's ``--color`` accepts them).
COLOR_MODES = ("auto", "always", "never")


def color_mode(value: str) -> str:
    """``auto``, ``always`` or ``never``, in any case."""
    mode = value.strip().lower()
    if mode not in COLOR_MODES:
        raise dt.ConversionError(
            f"invalid 'color' value {value!r} (expected auto, always or never)"
        )
    return mode


def load_ctl(
    path: str, *, environ: Mapping[str, str] | None = None
) -> tuple[CtlConfig, tuple[PluginConfig, ...]]:
    """Read supervisorctl's view of a file: ``[supervisorctl]`` (required) and
    ``[ctlplugin:x]`` sections. Includes are not processed, as in supervisorctl."""
    problems = ProblemLog(path)
    document = read_main(path, problems)
    ctl, plugins = ctl_view(document, path, environ, problems)
    if ctl is None:
        raise ConfigError.single(".ini file does not include supervisorctl section")
    if problems.errors:
        raise ConfigError(problems.in_file_order(problems.errors))
    return ctl, plugins


def environ_of(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def read_main(path: str, problems: ProblemLog) -> IniDocument:
    document = IniDocument()
    if not os.path.exists(path):
        raise ConfigError.single(f"could not find config file {path}")
    try:
        problems.items.extend(document.read_file(path))
    except OSError:
        raise ConfigError.single(f"could not read config file {path}") from None
    return document


def plugin_sections(reader: OptionReader, prefix: str, factory_key: str) -> list[PluginConfig]:
    plugins: list[PluginConfig] = []
    document = reader.document
    for section in document.sections:
        if not section.startswith(prefix):
            continue
        factory = reader.text(section, factory_key)
        if factory is None:
            if document.get(section, factory_key) is None:
                reader.error(section, f"section [{section}] does not specify a {factory_key}")
            continue
        kwargs = []
        for option in document.options(section):
            if option != factory_key:
                value = reader.text(section, option)
                kwargs.append((option, "" if value is None else value))
        plugins.append(PluginConfig(section.split(":", 1)[1], factory, tuple(kwargs)))
    return plugins


def _ctl_section(reader: OptionReader, here: str) -> CtlConfig:
    names = {"here": here}
    serverurl = reader.value(
        SUPERVISORCTL, "serverurl", str, default_of(CtlConfig, "serverurl"), names
    )
    if serverurl.startswith("unix://"):
        serverurl = "unix://" + dt.normalize_path(serverurl[7:])
    prompt = reader.value(SUPERVISORCTL, "prompt", str, default_of(CtlConfig, "prompt"))
    history_file = reader.value(SUPERVISORCTL, "history_file", str, None, names)
    cafile = reader.value(SUPERVISORCTL, "cafile", str, None, names)
    return CtlConfig(
        serverurl=serverurl,
        username=reader.value(SUPERVISORCTL, "username", str, None),
        password=reader.value(SUPERVISORCTL, "password", str, None),
        prompt=prompt,
        history_file=dt.normalize_path(history_file) if history_file else None,
        cafile=dt.normalize_path(cafile) if cafile else None,
        color=reader.value(SUPERVISORCTL, "color", color_mode, default_of(CtlConfig, "color")),
    )


def ctl_view(
    document: IniDocument,
    path: str,
    environ: Mapping[str, str] | None,
    problems: ProblemLog,
) -> tuple[CtlConfig | None, tuple[PluginConfig, ...]]:
    """``[supervisorctl]`` (None when absent) and the ``[ctlplugin:x]`` sections."""
    reader = OptionReader(document, problems, environment_names(environ_of(environ)))
    ctl = None
    if document.has_section(SUPERVISORCTL):
        ctl = _ctl_section(reader, os.path.dirname(dt.normalize_path(path)))
    return ctl, tuple(plugin_sections(reader, "ctlplugin:", CTL_FACTORY))
