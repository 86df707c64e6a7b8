"""Process groups from ``[group:x]``, ``[program:x]``, ``[eventlistener:x]``, ``[fcgi-program:x]``.

Follows supervisord's ``process_groups_from_parser``: heterogeneous groups first (their
programs stop being groups of their own), then programs, listener pools and FastCGI
programs, all sorted by (priority, name). Each place sees the ``%(...)s`` names Supervisor
gives it: group-level keys only ``here`` and ``ENV_*``; a program's keys also
``program_name``, ``group_name`` and ``host_node_name``; the keys read once per process
(command, environment, directory, logs, process_name) also ``process_num``, ``numprocs``
and the program's own environment as ``ENV_*``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from vigil.config import datatypes as dt
from vigil.config import probes
from vigil.config.datatypes import SYSLOG, ConversionError
from vigil.config.env_files import env_file_paths, read_env_files
from vigil.config.errors import Problem
from vigil.config.expand import environment_names
from vigil.config.fcgi import read_fcgi_socket
from vigil.config.host_keys import HOST_OPTIONS, merged_environment, user_environment
from vigil.config.ini import Entry, IniDocument
from vigil.config.model import (
    AUTO,
    Auto,
    GroupConfig,
    GroupKind,
    KillMode,
    Logfile,
    ProcessConfig,
    Source,
)
from vigil.config.readiness_keys import PLUGIN_KEYS, READINESS_OPTIONS, read_plugin_keys
from vigil.config.reading import OptionReader, ProblemLog, default_of
from vigil.event_types import SUBSCRIBABLE

T = TypeVar("T")

# Options of a program that the model does not hold as fields.
DEFAULT_PROCESS_NAME = "%(program_name)s"
DEFAULT_NUMPROCS = 1
DEFAULT_NUMPROCS_START = 0
# Far above any real pool (each process needs three pipes); Supervisor has no limit and
# would try to build them all.
NUMPROCS_LIMIT = 10_000
DEFAULT_GROUP_PRIORITY = default_of(ProcessConfig, "priority")
LISTENER_GROUP_PRIORITY = -1  # listeners start first and stop last

PROGRAM_KEYS = (
    frozenset(
        {f.name for f in dataclasses.fields(ProcessConfig)}
        - {"name", "group", "uid", "user_environment", "source"}
    )
    | {"process_name", "numprocs", "numprocs_start"}
    | PLUGIN_KEYS
)
LISTENER_KEYS = PROGRAM_KEYS | {"events", "buffer_size", "result_handler"}
FCGI_KEYS = PROGRAM_KEYS | {"socket", "socket_backlog", "socket_owner", "socket_mode"}
GROUP_KEYS = frozenset({"programs", "priority"})
# Durations and counts Supervisor takes below zero without a word (startretries = -1 is
# vigil's "retry forever", so only below -1 is warned about).
NEGATIVE_WARNED = ("startsecs", "startretries", "stopwaitsecs")
RETRY_FOREVER = -1
# vigil's opt-in restart policy (issue 15), read once per section.
POLICY_OPTIONS: tuple[tuple[str, Callable[[str], Any]], ...] = (
    ("type", dt.program_type),
    ("backoff", dt.backoff),
    ("backoff_delay", dt.seconds),
    ("backoff_max", dt.seconds),
    ("backoff_jitter", dt.fraction),
    ("backoff_reset", dt.seconds),
    ("restart_delay", dt.seconds),
    ("start_limit", dt.start_limit),
    ("fatal_retry", dt.seconds),
    ("hook_timeout", probes.positive_seconds),
    ("update_strategy", dt.update_strategy),
)

PROGRAM_SECTION_KEYS: dict[str, frozenset[str]] = {
    "program:": PROGRAM_KEYS,
    "eventlistener:": LISTENER_KEYS,
    "fcgi-program:": FCGI_KEYS,
    "group:": GROUP_KEYS,
}


def _process_default(name: str) -> Any:
    return default_of(ProcessConfig, name)


class GroupReader:
    """Builds every process group of a document (one instance per load)."""

    def __init__(
        self,
        reader: OptionReader,
        here: str,
        host_node_name: str,
        base_environment: Mapping[str, str],
    ) -> None:
        self.reader = reader
        self.here = here
        self.host_node_name = host_node_name
        self.base_environment = base_environment  # [supervisord] environment
        self.sections = list(reader.document.sections)
        self.in_groups: set[str] = set()

    def groups(self) -> list[GroupConfig]:
        found: list[GroupConfig] = []
        for prefix, build in (
            ("group:", self._heterogeneous),
            ("program:", self._homogeneous),
            ("eventlistener:", self._listener_pool),
            ("fcgi-program:", self._fcgi_program),
        ):
            for section in self.sections:
                if section.startswith(prefix) and section not in self.in_groups:
                    found.append(build(section))
        found.sort(key=lambda group: (group.priority, group.name))
        return self._first_of_each_name(found)

    def _first_of_each_name(self, groups: list[GroupConfig]) -> list[GroupConfig]:
        """supervisord adds groups in sorted order and ignores a name already added."""
        kept: dict[str, GroupConfig] = {}
        for group in groups:
            if group.name in kept:
                self.reader.problems.warn(
                    f"group name {group.name!r} is used by more than one section; "
                    f"this one is ignored (as in Supervisor, the first in start order wins)",
                    place=(group.source.file, group.source.line),
                )
                continue
            kept[group.name] = group
        return list(kept.values())

    # helpers

    def source(self, section: str) -> Source:
        file, line = self.reader.place(section)
        return Source(file, line, section)

    def _group_names(self) -> dict[str, object]:
        return {"here": self.here}

    def section_name(self, section: str) -> str:
        raw = section.split(":", 1)[1]
        name = self.reader.converted(section, None, dt.process_or_group_name, raw, raw.strip())
        if not name:
            self.reader.error(section, f"[{section}] has an empty name")
        return name

    def _group_value(self, section: str, option: str, conv: Callable[[str], T], fallback: T) -> T:
        return self.reader.value(section, option, conv, fallback, self._group_names())

    # the four kinds of section

    def _heterogeneous(self, section: str) -> GroupConfig:
        name = self.section_name(section)
        programs = dt.list_of_strings(
            self.reader.text(section, "programs", self._group_names()) or ""
        )
        priority = self._group_value(section, "priority", dt.integer, DEFAULT_GROUP_PRIORITY)
        processes: list[ProcessConfig] = []
        for program in programs:
            member = self._group_member(section, program)
            if member is not None:
                self.in_groups.add(member)
                processes.extend(self._processes(member, name))
        return GroupConfig(name, priority, tuple(processes), source=self.source(section))

    def _group_member(self, section: str, program: str) -> str | None:
        as_program, as_fcgi = f"program:{program}", f"fcgi-program:{program}"
        exists = [s for s in (as_program, as_fcgi) if s in self.sections]
        if not exists:
            self.reader.error(
                section, f"[{section}] names unknown program or fcgi-program {program}", "programs"
            )
            return None
        if len(exists) == 2:
            self.reader.error(
                section,
                f"[{section}] name {program} is ambiguous (exists as program and fcgi-program)",
                "programs",
            )
            return None
        if exists[0] == as_fcgi:
            self.reader.problems.warn(
                f"[{section}] lists [{as_fcgi}]: as in Supervisor, it runs in the group as a "
                "plain program, without its socket",
                section=section,
                option="programs",
                entry=self.reader.document.get(section, "programs"),
            )
        return exists[0]

    def _homogeneous(self, section: str) -> GroupConfig:
        name = self.section_name(section)
        priority = self._group_value(section, "priority", dt.integer, DEFAULT_GROUP_PRIORITY)
        processes = self._processes(section, name)
        return GroupConfig(name, priority, tuple(processes), source=self.source(section))

    def _listener_pool(self, section: str) -> GroupConfig:
        pool = section.split(":", 1)[1]
        priority = self._group_value(section, "priority", dt.integer, LISTENER_GROUP_PRIORITY)
        buffer_size = self._group_value(
            section, "buffer_size", dt.integer, default_of(GroupConfig, "buffer_size")
        )
        if buffer_size < 1:
            self.reader.error(
                section,
                f"[{section}] section sets invalid buffer_size ({buffer_size})",
                "buffer_size",
            )
        result_handler = self._group_value(
            section, "result_handler", str, default_of(GroupConfig, "result_handler")
        )
        if result_handler != default_of(GroupConfig, "result_handler"):
            self.reader.error(
                section,
                f"{result_handler} cannot be resolved within [{section}]: vigil cannot load "
                "Supervisor Python plugins; only the default result_handler "
                f"{default_of(GroupConfig, 'result_handler')} is available",
                "result_handler",
            )
        events = self._events(section)
        if self._group_value(section, "redirect_stderr", dt.boolean, False):
            self.reader.error(
                section,
                f"[{section}] section sets redirect_stderr=true but this is not allowed "
                "because it will interfere with the eventlistener protocol",
                "redirect_stderr",
            )
        processes = self._processes(section, pool)
        return GroupConfig(
            pool,
            priority,
            tuple(processes),
            kind=GroupKind.EVENTLISTENER,
            events=events,
            buffer_size=buffer_size,
            result_handler=result_handler,
            source=self.source(section),
        )

    def _events(self, section: str) -> tuple[str, ...]:
        text = self.reader.text(section, "events", self._group_names())
        names = {name.upper() for name in dt.list_of_strings(text or "")}
        if not names:
            if text is not None or self.reader.document.get(section, "events") is None:
                self.reader.error(section, f'[{section}] section requires an "events" line')
            return ()
        for unknown in sorted(names - SUBSCRIBABLE):
            self.reader.error(
                section, f"Unknown event type {unknown} in [{section}] events", "events"
            )
        return tuple(sorted(names))

    def _fcgi_program(self, section: str) -> GroupConfig:
        name = self.section_name(section)
        priority = self._group_value(section, "priority", dt.integer, DEFAULT_GROUP_PRIORITY)
        socket = read_fcgi_socket(self.reader, section, self._group_names(), name)
        processes = self._processes(section, name)
        return GroupConfig(
            name,
            priority,
            tuple(processes),
            kind=GroupKind.FCGI,
            fcgi_socket=socket,
            source=self.source(section),
        )

    # processes of one program section

    def _processes(self, section: str, group_name: str) -> list[ProcessConfig]:
        return ProgramReader(self, section, group_name).processes()


class ProgramReader:
    """The processes of one program-like section (supervisord's processes_from_section)."""

    def __init__(self, groups: GroupReader, section: str, group_name: str) -> None:
        self.reader = groups.reader
        self.section = section
        self.base_environment = groups.base_environment
        program_name = groups.section_name(section)
        # One table, as in supervisord: per-process names are added to it as processes are
        # built, so the options read per process see everything read before them.
        self.names: dict[str, object] = {
            "here": groups.here,
            "program_name": program_name,
            "host_node_name": groups.host_node_name,
            "group_name": group_name,
        }
        self.group_name = group_name
        self.source = groups.source(section)
        self.here = groups.here
        # what `env_file` adds to every process's environment (read once)
        self.env_file_values: dict[str, str] = {}

    def _value(self, option: str, conv: Callable[[str], T], fallback: T) -> T:
        return self.reader.value(self.section, option, conv, fallback, self.names)

    def _setting(self, option: str, conv: Callable[[str], T]) -> T:
        fallback: T = _process_default(option)
        return self._value(option, conv, fallback)

    def processes(self) -> list[ProcessConfig]:
        settings = self._section_settings()
        numprocs = self._value("numprocs", dt.integer, DEFAULT_NUMPROCS)
        numprocs_start = self._value("numprocs_start", dt.integer, DEFAULT_NUMPROCS_START)
        environment = self.reader.text(self.section, "environment", do_expand=False) or ""
        process_name = self._process_name_template()
        numprocs = self._checked(settings, numprocs, process_name)
        built: dict[str, ProcessConfig] = {}
        for process_num in range(numprocs_start, numprocs_start + numprocs):
            process = self._process(process_num, numprocs, environment, process_name, settings)
            if process is None:
                continue
            if process.name in built:
                self.reader.problems.warn(
                    f"[{self.section}] makes two processes named {process.name!r}; "
                    "the last one replaces the first",
                    section=self.section,
                    option="process_name",
                    entry=self.reader.document.get(self.section, "process_name"),
                    place=self.reader.place(self.section),
                )
            built[process.name] = process
        return sorted(built.values(), key=lambda p: (p.priority, p.name))

    def _section_settings(self) -> dict[str, Any]:
        """The options read once for the section, in supervisord's order."""
        section, reader = self.section, self.reader
        settings: dict[str, Any] = {
            option: self._setting(option, conv)
            for option, conv in (
                ("priority", dt.integer),
                ("autostart", dt.boolean),
                ("autorestart", dt.auto_restart),
                ("startsecs", dt.integer),
                ("startretries", dt.integer),
                ("stopsignal", dt.signal_number),
                ("stopwaitsecs", dt.integer),
                ("stopasgroup", dt.boolean),
            )
        }
        settings["killasgroup"] = self._value("killasgroup", dt.boolean, settings["stopasgroup"])
        settings["killmode"] = self._value("killmode", dt.kill_mode, None)
        self._apply_kill_mode(settings)
        settings["exitcodes"] = self._setting("exitcodes", dt.list_of_exitcodes)
        settings["redirect_stderr"] = self._setting("redirect_stderr", dt.boolean)
        for channel in ("stdout", "stderr"):
            for option, conv in (
                ("capture_maxbytes", dt.byte_size),
                ("events_enabled", dt.boolean),
            ):
                settings[f"{channel}_{option}"] = self._setting(f"{channel}_{option}", conv)
        serverurl = reader.text(section, "serverurl", self.names)
        settings["serverurl"] = (
            AUTO if serverurl is None or serverurl.strip().upper() == "AUTO" else serverurl
        )
        user = reader.text(section, "user", self.names)
        settings["user"] = user
        settings["uid"] = (
            None if user is None else reader.converted(section, "user", dt.name_to_uid, user, None)
        )
        settings["user_environment"] = tuple(user_environment(settings["uid"]).items())
        settings["umask"] = self._value("umask", dt.octal, None)
        for option, policy_conv in POLICY_OPTIONS + READINESS_OPTIONS + HOST_OPTIONS:
            settings[option] = self._setting(option, policy_conv)
        read_plugin_keys(settings, self._value)
        settings["env_file"] = self._env_files()
        return settings

    def _env_files(self) -> tuple[str, ...]:
        """The env_file paths as read, their variables kept for every process's environment."""
        paths: tuple[str, ...] = self._value("env_file", lambda v: env_file_paths(v, self.here), ())
        try:
            self.env_file_values = read_env_files(paths)
        except ConversionError as exc:
            self.reader.error(self.section, str(exc), "env_file")
        return paths

    def _apply_kill_mode(self, settings: dict[str, Any]) -> None:
        """``killmode`` sets stopasgroup and killasgroup; written beside it, they must agree."""
        mode = settings["killmode"]
        if mode is None:
            return
        as_group = mode is not KillMode.PROCESS
        for option in ("stopasgroup", "killasgroup"):
            written = self.reader.document.get(self.section, option) is not None
            if written and settings[option] != as_group:
                self.reader.error(
                    self.section,
                    f"killmode = {mode.value} contradicts {option} = "
                    f"{str(settings[option]).lower()}",
                    option,
                )
            settings[option] = as_group

    def _checked(self, settings: dict[str, Any], numprocs: int, process_name: str) -> int:
        """Report what the section's settings cannot be together; the numprocs to build."""
        section, reader = self.section, self.reader
        if numprocs > 1 and "%(process_num)" not in process_name:
            reader.error(
                section,
                "%(process_num) must be present within process_name when numprocs > 1",
                "process_name",
            )
        if settings["stopasgroup"] and not settings["killasgroup"]:
            reader.error(
                section, "Cannot set stopasgroup=true and killasgroup=false", "killasgroup"
            )
        for option in NEGATIVE_WARNED:
            if settings[option] < 0 and (
                option != "startretries" or settings[option] != RETRY_FOREVER
            ):
                reader.problems.warn(
                    "a negative value: Supervisor accepts it, and it acts as 0",
                    section=section,
                    option=option,
                    entry=reader.document.get(section, option),
                )
        if numprocs > NUMPROCS_LIMIT:
            reader.error(
                section,
                f"numprocs = {numprocs} is more than vigil supports ({NUMPROCS_LIMIT})",
                "numprocs",
            )
            return 0
        if numprocs < 1:
            reader.problems.warn(
                f"[{section}] numprocs = {numprocs}: the group has no processes",
                section=section,
                option="numprocs",
                entry=reader.document.get(section, "numprocs"),
            )
        return numprocs

    def _process_name_template(self) -> str:
        raw = self.reader.text(self.section, "process_name", do_expand=False)
        template = DEFAULT_PROCESS_NAME if raw is None else raw
        return self.reader.converted(
            self.section, "process_name", dt.process_or_group_name, template, template.strip()
        )

    def _process(
        self,
        process_num: int,
        numprocs: int,
        environment_text: str,
        process_name: str,
        settings: dict[str, Any],
    ) -> ProcessConfig | None:
        section, reader, names = self.section, self.reader, self.names
        names.update(process_num=process_num, numprocs=numprocs)
        names.update(reader.environment)
        names.update((f"ENV_{key}", value) for key, value in self.env_file_values.items())
        expanded = reader.expanded(section, "environment", environment_text, names, "environment")
        environment: dict[str, str] = {}
        if expanded is not None:
            environment = reader.converted(
                section, "environment", dt.dict_of_key_value_pairs, expanded, {}
            )
        for key, value in environment.items():
            names[f"ENV_{key}"] = value
        directory = reader.text(section, "directory", names)
        logs: dict[str, Any] = {}
        for channel in ("stdout", "stderr"):
            logs.update(self._channel(channel))
        if settings["redirect_stderr"]:
            if logs["stderr_logfile"] not in (AUTO, None):
                self._warn(
                    f"For [{section}], redirect_stderr=true but stderr_logfile has also been "
                    "set to a filename, the filename has been ignored",
                    "stderr_logfile",
                )
            logs["stderr_logfile"] = None
        for channel in ("stdout", "stderr"):
            self._check_stream(
                channel, logs[f"{channel}_logfile"], logs[f"{channel}_logfile_maxbytes"]
            )
        command = reader.text(section, "command", names)
        if command is None:
            if reader.document.get(section, "command") is None:
                reader.error(section, f"program section {section} does not specify a command")
            return None
        name = reader.expanded(section, "process_name", process_name, names, "process_name")
        if name is None:
            return None
        if name != process_name:  # Supervisor checks only the template; a name must work too
            name = reader.converted(section, "process_name", dt.process_or_group_name, name, name)
        merged = merged_environment(self.base_environment, self.env_file_values, environment)
        return ProcessConfig(
            name=name,
            group=self.group_name,
            command=command,
            environment=tuple(merged.items()),
            directory=directory,
            source=self.source,
            **settings,
            **logs,
            pre_start=self._hook("pre_start"),
            post_stop=self._hook("post_stop"),
        )

    def _hook(self, option: str) -> str | None:
        command = self.reader.text(self.section, option, self.names)
        if command is not None and not command.strip():
            self.reader.error(self.section, "empty: give a command or leave it out", option)
        return command

    def _channel(self, channel: str) -> dict[str, Any]:
        """The log settings of stdout or stderr for one process."""
        section, reader, names = self.section, self.reader, self.names
        key = f"{channel}_logfile"
        logfile: Logfile | dt.Syslog = AUTO
        first = reader.text(section, key, names)
        if first is not None:  # Supervisor expands a logfile name twice
            second = reader.expanded(section, key, first, names, key)
            if second is not None:
                logfile = reader.converted(
                    section, key, dt.logfile_name, second, cast(Logfile | dt.Syslog, AUTO)
                )
        backups = self._setting(f"{key}_backups", dt.integer)
        maxbytes = self._setting(f"{key}_maxbytes", dt.byte_size)
        syslog = self._setting(f"{channel}_syslog", dt.boolean)
        if logfile is SYSLOG:
            self._warn(
                f"For [{section}], {key}=syslog but this is deprecated and will be removed.  "
                f"Use {channel}_syslog=true to enable syslog instead.",
                key,
            )
            logfile, syslog = None, True
        if logfile is AUTO and not maxbytes:
            self._warn(
                f"For [{section}], AUTO logging used for {key} without rollover, set maxbytes "
                "> 0 to avoid filling up filesystem unintentionally",
                key,
            )
        return {
            key: logfile,
            f"{key}_backups": backups,
            f"{key}_maxbytes": maxbytes,
            f"{channel}_syslog": syslog,
        }

    def _check_stream(self, channel: str, logfile: str | Auto | None, maxbytes: int) -> None:
        if isinstance(logfile, str) and maxbytes > 0 and dt.is_stream_path(logfile):
            self.reader.error(
                self.section,
                f"{logfile} is a stream (pipe, terminal or standard output) that cannot be "
                f"rotated: set {channel}_logfile_maxbytes = 0",
                f"{channel}_logfile",
            )

    def _warn(self, message: str, option: str) -> None:
        self.reader.problems.warn(
            message,
            section=self.section,
            option=option,
            entry=self.reader.document.get(self.section, option),
            log_line=message,
        )


def program_instances(
    document: IniDocument,
    section: str,
    numprocs: int,
    *,
    path: str,
    base_environment: Mapping[str, str],
    environ: Mapping[str, str],
) -> tuple[list[ProcessConfig], list[Problem]]:
    """The processes of one ``[program:x]`` section of a document read from `path`, built
    for `numprocs` instances in place of the file's (scaling at run time): each with its
    ``process_num`` and expansions, exactly as the loader builds them. Also the errors found.
    The document's numprocs entry is replaced: pass a document read for this alone."""
    where = document.sections[section]
    written = where.options.get("numprocs")
    where.options["numprocs"] = Entry(
        str(numprocs), where.file if written is None else written.file, where.line
    )
    problems = ProblemLog(path)
    environment = environment_names(environ)
    environment.update(environment_names(base_environment))
    reader = OptionReader(document, problems, environment)
    here = os.path.abspath(os.path.dirname(path))
    groups = GroupReader(reader, here, os.uname().nodename, base_environment)
    program = ProgramReader(groups, section, groups.section_name(section))
    processes = program.processes()
    return processes, problems.errors
