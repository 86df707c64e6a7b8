"""Configuration files to the model: `load` for supervisord, `load_ctl` for supervisorctl,
`check` to list every problem of a file.

The order and rules are supervisord's ``ServerOptions.read_config`` and ``realize``:
``[include]``, ``[supervisord]`` (required), ``[rpcinterface:x]``, the process groups, then
the HTTP servers. Every problem found is reported at once, each with its file and line.
Unknown options and sections, which Supervisor silently ignores, load as warnings.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable, Mapping
from typing import TypeVar

from vigil.config import datatypes as dt
from vigil.config.ctlfile import (
    SUPERVISORCTL,
    ctl_view,
    environ_of,
    load_ctl,
    plugin_sections,
    read_main,
)
from vigil.config.env_files import env_file_paths, read_env_files
from vigil.config.errors import ConfigError, Problem, Severity
from vigil.config.expand import environment_names
from vigil.config.ini import Entry, IniDocument, read_with_includes
from vigil.config.model import (
    Config,
    CtlConfig,
    InetServerConfig,
    PluginConfig,
    SupervisordConfig,
    UnixServerConfig,
)
from vigil.config.programs import PROGRAM_SECTION_KEYS, GroupReader
from vigil.config.readiness_keys import check_across
from vigil.config.reading import OptionReader, ProblemLog, default_of
from vigil.config.server_limits import SERVER_LIMIT_KEYS, connection_limits

T = TypeVar("T")

SUPERVISORD = "supervisord"
RPCINTERFACE_FACTORY = "supervisor.rpcinterface_factory"
# The one RPC interface factory vigil provides (its supervisor.* namespace).
MAIN_RPCINTERFACE = "supervisor.rpcinterface:make_main_rpcinterface"

SUPERVISORD_KEYS = frozenset(f.name for f in dataclasses.fields(SupervisordConfig))
CTL_KEYS = frozenset(f.name for f in dataclasses.fields(CtlConfig))
CREDENTIAL_KEYS = frozenset({"username", "password", "readonly_username", "readonly_password"})
UNIX_SERVER_KEYS = frozenset({"file", "chmod", "chown"}) | CREDENTIAL_KEYS | SERVER_LIMIT_KEYS
INET_SERVER_KEYS = frozenset({"port", "certfile", "keyfile"}) | CREDENTIAL_KEYS | SERVER_LIMIT_KEYS


def load(path: str, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read a supervisord configuration file and its includes; ConfigError if unusable."""
    config, problems, _document = _load(path, environ)
    if config is None or problems.errors:
        raise ConfigError(problems.in_file_order(problems.errors))
    return config


def check(path: str, *, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem of a file, errors and warnings, as supervisord and supervisorctl see it."""
    return inspect(path, environ=environ).problems


@dataclasses.dataclass(frozen=True)
class Inspection:
    """What checking a file found: its problems, the model and the document, so that checks
    of the running environment can name each option's place. The model is None when the
    file could not be read at all; where an option has an error it holds the fallback."""

    problems: list[Problem]
    config: Config | None = None
    document: IniDocument | None = None

    def entry(self, section: str, option: str) -> Entry | None:
        return None if self.document is None else self.document.get(section, option)


def inspect(path: str, *, environ: Mapping[str, str] | None = None) -> Inspection:
    """`check`, keeping the model and the document read."""
    try:
        config, problems, document = _load(path, environ)
    except ConfigError as exc:
        return Inspection(list(exc.problems))
    ctl_problems = ProblemLog(path)
    ctl_view(read_main(path, ctl_problems), path, environ, ctl_problems)
    found = list(problems.items)
    found.extend(p for p in ctl_problems.items if p not in found)
    return Inspection(problems.in_file_order(found), config, document)


def _load(
    path: str, environ: Mapping[str, str] | None
) -> tuple[Config | None, ProblemLog, IniDocument]:
    environment = environment_names(environ_of(environ))
    here = os.path.abspath(os.path.dirname(path))
    host_node_name = os.uname().nodename  # what platform.node() reads, without its import
    problems = ProblemLog(path)
    if not os.path.exists(path):
        raise ConfigError.single(f"could not find config file {path}")
    try:
        read = read_with_includes(
            path, {"here": here, "host_node_name": host_node_name, **environment}
        )
    except OSError:
        raise ConfigError.single(f"could not read config file {path}") from None
    problems.extend(read.problems)
    document = read.document
    for repeated in document.duplicates:
        problems.warn(
            repeated.message,
            section=repeated.section,
            option=repeated.option,
            place=(repeated.file, repeated.line),
        )
    if not document.has_section(SUPERVISORD):
        problems.add(".ini file does not include supervisord section", place=("", 0))
        return None, problems, document
    reader = OptionReader(document, problems, environment)
    supervisord = _supervisord_section(reader, here, host_node_name)
    # From here on every option may use the [supervisord] environment as ENV_* names.
    environment.update(environment_names(dict(supervisord.environment)))
    rpcinterfaces = _rpcinterfaces(reader)
    groups = GroupReader(reader, here, host_node_name, dict(supervisord.environment)).groups()
    check_across(groups, reader)
    inet_servers = _inet_servers(reader)
    unix_servers = _unix_servers(reader, here)
    _warn_unknown(document, problems)
    # supervisord ignores [supervisorctl]; its problems are for supervisorctl to report.
    ctl, ctlplugins = ctl_view(document, path, environ, ProblemLog(path))
    config = Config(
        supervisord=supervisord,
        groups=tuple(groups),
        unix_servers=tuple(unix_servers),
        inet_servers=tuple(inet_servers),
        rpcinterfaces=tuple(rpcinterfaces),
        ctl=ctl,
        ctlplugins=ctlplugins,
        path=path,
        infos=tuple(read.infos),
        warnings=tuple(problems.log_lines),
    )
    return config, problems, document


# [supervisord]


def _supervisord_section(reader: OptionReader, here: str, host_node_name: str) -> SupervisordConfig:
    names = {"here": here}

    def setting(option: str, conv: Callable[[str], T]) -> T:
        fallback: T = default_of(SupervisordConfig, option)
        return reader.value(SUPERVISORD, option, conv, fallback, names)

    minfds = setting("minfds", dt.integer)
    minprocs = setting("minprocs", dt.integer)
    directory = reader.value(SUPERVISORD, "directory", dt.existing_directory, None, names)
    user = reader.value(SUPERVISORD, "user", str, None, names)
    umask = setting("umask", dt.octal)
    logfile = setting("logfile", dt.existing_dirpath)
    logfile_maxbytes = setting("logfile_maxbytes", dt.byte_size)
    logfile_backups = setting("logfile_backups", dt.integer)
    loglevel = setting("loglevel", dt.logging_level)
    pidfile = setting("pidfile", dt.existing_dirpath)
    identifier = setting("identifier", str)
    nodaemon = setting("nodaemon", dt.boolean)
    silent = setting("silent", dt.boolean)
    childlogdir = reader.value(
        SUPERVISORD, "childlogdir", dt.existing_directory, tempfile.gettempdir(), names
    )
    nocleanup = setting("nocleanup", dt.boolean)
    strip_ansi = setting("strip_ansi", dt.boolean)
    update_in_place = setting("update_in_place", dt.boolean)
    container = setting("container", dt.boolean)
    logformat = setting("logformat", dt.log_format)
    env_file: tuple[str, ...] = reader.value(
        SUPERVISORD, "env_file", lambda value: env_file_paths(value, here), (), names
    )
    environment = _env_file_variables(reader, env_file)
    environment.update(_supervisord_environment(reader, here, host_node_name))
    if user is not None:
        reader.converted(SUPERVISORD, "user", dt.name_to_uid, user, None)
    if logfile != "syslog":
        logfile = dt.normalize_path(logfile)
        if logfile_maxbytes > 0 and dt.is_stream_path(logfile):
            reader.error(
                SUPERVISORD,
                f"{logfile} is a stream (pipe, terminal or standard output) that cannot be "
                "rotated: set logfile_maxbytes = 0",
                "logfile",
            )
    return SupervisordConfig(
        logfile=logfile,
        logfile_maxbytes=logfile_maxbytes,
        logfile_backups=logfile_backups,
        loglevel=loglevel,
        pidfile=dt.normalize_path(pidfile),
        umask=umask,
        nodaemon=nodaemon,
        silent=silent,
        minfds=minfds,
        minprocs=minprocs,
        nocleanup=nocleanup,
        childlogdir=childlogdir,
        user=user,
        directory=directory,
        strip_ansi=strip_ansi,
        environment=tuple(environment.items()),
        identifier=identifier,
        update_in_place=update_in_place,
        container=container,
        logformat=logformat,
        env_file=env_file,
    )


def _env_file_variables(reader: OptionReader, paths: tuple[str, ...]) -> dict[str, str]:
    """``[supervisord] env_file``: the variables every environment starts from."""
    try:
        return read_env_files(paths)
    except dt.ConversionError as exc:
        reader.error(SUPERVISORD, str(exc), "env_file")
        return {}


def _supervisord_environment(
    reader: OptionReader, here: str, host_node_name: str
) -> dict[str, str]:
    """Supervisor expands ``[supervisord] environment`` twice: first as every option of the
    section (no host_node_name), then with host_node_name (so ``%%`` does not survive)."""
    text = reader.text(SUPERVISORD, "environment", {"here": here})
    if text is None:
        return {}
    names = {"here": here, "host_node_name": host_node_name}
    expanded = reader.expanded(SUPERVISORD, "environment", text, names, "environment")
    if expanded is None:
        return {}
    return reader.converted(SUPERVISORD, "environment", dt.dict_of_key_value_pairs, expanded, {})


# [rpcinterface:x] and [ctlplugin:x]


def _rpcinterfaces(reader: OptionReader) -> list[PluginConfig]:
    plugins = plugin_sections(reader, "rpcinterface:", RPCINTERFACE_FACTORY)
    for plugin in plugins:
        section = f"rpcinterface:{plugin.name}"
        if plugin.factory != MAIN_RPCINTERFACE:
            reader.error(
                section,
                f"{plugin.factory} cannot be resolved within [{section}]: vigil cannot load "
                f"Supervisor Python plugins; the only RPC interface factory is "
                f"{MAIN_RPCINTERFACE}",
                RPCINTERFACE_FACTORY,
            )
        elif plugin.kwargs:
            options = ", ".join(name for name, _ in plugin.kwargs)
            reader.error(
                section,
                f"{MAIN_RPCINTERFACE} takes no options, but [{section}] sets {options} "
                "(Supervisor fails at startup with a TypeError)",
                plugin.kwargs[0][0],
            )
    return plugins


# [inet_http_server] and [unix_http_server] (any section whose name starts so)


def _credentials(reader: OptionReader, section: str) -> tuple[str | None, str | None]:
    username = reader.value(section, "username", str, None)
    password = reader.value(section, "password", str, None)
    if (username is None) != (password is None):
        reader.error(
            section,
            f"Section [{section}] contains incomplete authentication: If a username or a "
            "password is specified, both the username and password must be specified",
        )
    return username, password


def _readonly_credentials(
    reader: OptionReader, section: str, username: str | None
) -> tuple[str | None, str | None]:
    """The read-only account's options: both or neither, and only beside a full account
    (without one everybody may act, and a read-only account would protect nothing)."""
    readonly_username = reader.value(section, "readonly_username", str, None)
    readonly_password = reader.value(section, "readonly_password", str, None)
    if (readonly_username is None) != (readonly_password is None):
        reader.error(
            section,
            f"Section [{section}] sets only one of readonly_username and readonly_password: "
            "both must be specified",
        )
    elif readonly_username is not None and username is None:
        reader.error(
            section,
            f"Section [{section}] sets readonly_username without username and password: "
            "without them every client may act, so a read-only account would protect nothing",
            "readonly_username",
        )
    elif readonly_username is not None and readonly_username == username:
        reader.error(
            section,
            f"Section [{section}] gives readonly_username the same name as username "
            f"({username!r}): the two accounts need different names",
            "readonly_username",
        )
    return readonly_username, readonly_password


def _tls_files(reader: OptionReader, section: str) -> tuple[str | None, str | None]:
    """HTTPS's certificate chain and key: both or neither, each a file the daemon can read."""
    certfile = reader.value(section, "certfile", dt.readable_file, None)
    keyfile = reader.value(section, "keyfile", dt.readable_file, None)
    given = reader.document.get(section, "certfile"), reader.document.get(section, "keyfile")
    if (given[0] is None) != (given[1] is None):
        reader.error(
            section,
            f"Section [{section}] sets only one of certfile and keyfile: HTTPS needs both",
        )
    return certfile, keyfile


def _inet_servers(reader: OptionReader) -> list[InetServerConfig]:
    servers: list[InetServerConfig] = []
    for section in reader.document.sections:
        if not section.startswith("inet_http_server"):
            continue
        username, password = _credentials(reader, section)
        port = reader.text(section, "port")
        if port is None:
            if reader.document.get(section, "port") is None:
                reader.error(section, f"section [{section}] has no port value")
            continue
        host, number = reader.converted(section, "port", dt.inet_address, port, ("", 0))
        limits = connection_limits(reader, section, InetServerConfig)
        ro_username, ro_password = _readonly_credentials(reader, section, username)
        certfile, keyfile = _tls_files(reader, section)
        servers.append(
            InetServerConfig(
                section,
                host,
                number,
                username,
                password,
                **limits,
                readonly_username=ro_username,
                readonly_password=ro_password,
                certfile=certfile,
                keyfile=keyfile,
            )
        )
    return servers


def _unix_servers(reader: OptionReader, here: str) -> list[UnixServerConfig]:
    servers: list[UnixServerConfig] = []
    for section in reader.document.sections:
        if not section.startswith("unix_http_server"):
            continue
        file = reader.text(section, "file", {"here": here})
        if file is None:
            if reader.document.get(section, "file") is None:
                reader.error(section, f"section [{section}] has no file value")
            continue
        username, password = _credentials(reader, section)
        chown_text = reader.text(section, "chown")
        chown = None
        if chown_text is not None:
            chown = reader.converted(
                section,
                "chown",
                dt.colon_separated_user_group,
                chown_text,
                None,
                f"Invalid sockchown value {chown_text}",
            )
        chmod_text = reader.text(section, "chmod")
        chmod = default_of(UnixServerConfig, "chmod")
        if chmod_text is not None:
            chmod = reader.converted(
                section, "chmod", dt.octal, chmod_text, chmod, f"Invalid chmod value {chmod_text}"
            )
        path = dt.normalize_path(file.strip())
        limits = connection_limits(reader, section, UnixServerConfig)
        ro_username, ro_password = _readonly_credentials(reader, section, username)
        servers.append(
            UnixServerConfig(
                section,
                path,
                chmod,
                chown,
                username,
                password,
                **limits,
                readonly_username=ro_username,
                readonly_password=ro_password,
            )
        )
    return servers


# [supervisorctl]


# options and sections Supervisor would silently ignore


def _known_options(section: str) -> frozenset[str] | None:
    """The options a section takes; None for sections taking any (plugin kwargs)."""
    if section == SUPERVISORD:
        return SUPERVISORD_KEYS
    if section == SUPERVISORCTL:
        return CTL_KEYS
    if section == "include":
        return frozenset({"files"})
    if section.startswith("unix_http_server"):
        return UNIX_SERVER_KEYS
    if section.startswith("inet_http_server"):
        return INET_SERVER_KEYS
    if section.startswith(("rpcinterface:", "ctlplugin:")):
        return None
    for prefix, keys in PROGRAM_SECTION_KEYS.items():
        if section.startswith(prefix):
            return keys
    return frozenset()


def _warn_unknown(document: IniDocument, problems: ProblemLog) -> None:
    every_known = SUPERVISORD_KEYS | CTL_KEYS | UNIX_SERVER_KEYS | INET_SERVER_KEYS | {"files"}
    for keys in PROGRAM_SECTION_KEYS.values():
        every_known |= keys
    for name, section in document.sections.items():
        known = _known_options(name)
        if known == frozenset():
            problems.warn(
                "not a section Supervisor knows: it is ignored" + _section_hint(name),
                section=name,
                place=(section.file, section.line),
            )
            continue
        for option, entry in section.options.items():
            if known is not None and option not in known:
                problems.warn(
                    f"unknown option {option!r} is ignored{_did_you_mean(option, known)}",
                    section=name,
                    option=option,
                    entry=entry,
                )
    for option, entry in document.defaults.options.items():
        if option not in every_known:
            problems.warn(
                f"unknown option {option!r} is ignored{_did_you_mean(option, every_known)}",
                section="DEFAULT",
                option=option,
                entry=entry,
            )


def _did_you_mean(word: str, choices: frozenset[str] | set[str]) -> str:
    """``; did you mean 'x'?`` for the closest known name, or nothing if none is close."""
    import difflib  # only a config with a misspelt name pays for the import

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


SECTION_PREFIXES = (
    SUPERVISORD,
    SUPERVISORCTL,
    "include",
    "unix_http_server",
    "inet_http_server",
    "rpcinterface:",
    "ctlplugin:",
    *PROGRAM_SECTION_KEYS,
)


def _section_hint(name: str) -> str:
    """A suggestion for a misspelt section: ``[programs:x]`` -> ``[program:x]``."""
    kind, colon, rest = name.partition(":")
    kinds = {prefix.rstrip(":"): bool(prefix.endswith(":")) for prefix in SECTION_PREFIXES}
    import difflib  # only a config with a misspelt name pays for the import

    close = difflib.get_close_matches(kind, sorted(kinds), n=1, cutoff=0.75)
    if not close:
        return ""
    suggestion = f"{close[0]}:{rest}" if colon and kinds[close[0]] else close[0]
    return f"; did you mean [{suggestion}]?"


__all__ = [
    "ConfigError",
    "Inspection",
    "Problem",
    "Severity",
    "check",
    "inspect",
    "load",
    "load_ctl",
]
