"""The loader: which %(names)s each place sees, numprocs templating, environments, paths,
every error and warning with its file and line, check(), load_ctl()."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

from vigil.config import ConfigError, Problem, Severity, check, load, load_ctl
from vigil.config.model import AUTO, AutoRestart, Config, GroupKind, ProcessConfig

ENV = {"HOME": "/root", "VIGIL": "v"}


def _write(tmp_path: Path, text: str, name: str = "supervisord.conf") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _load(tmp_path: Path, text: str) -> Config:
    return load(_write(tmp_path, text), environ=ENV)


def _errors(tmp_path: Path, text: str) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    return list(caught.value.problems)


def _process(config: Config, group: str, index: int = 0) -> ProcessConfig:
    (found,) = [g for g in config.groups if g.name == group]
    return found.processes[index]


# %(names)s: what each place sees (Supervisor 4.3's table, reference section 1.2)

PROGRAM_SECTION = {"here", "program_name", "group_name", "host_node_name"}
PER_PROCESS = PROGRAM_SECTION | {"process_num", "numprocs"}

LOCATIONS = [
    ("supervisord option", "[supervisord]\nidentifier=%(nosuch)s\n", {"here"}),
    ("supervisord environment", "[supervisord]\nenvironment=A=%(nosuch)s\n", {"here"}),
    ("unix server file", "[supervisord]\n[unix_http_server]\nfile=%(nosuch)s\n", {"here"}),
    (
        "unix server password",
        "[supervisord]\n[unix_http_server]\nfile=/tmp/s\nusername=u\npassword=%(nosuch)s\n",
        set(),
    ),
    ("inet server port", "[supervisord]\n[inet_http_server]\nport=%(nosuch)s\n", set()),
    ("include files", "[supervisord]\n[include]\nfiles=%(nosuch)s\n", {"here", "host_node_name"}),
    ("group priority", "[supervisord]\n[group:g]\npriority=%(nosuch)s\n", {"here"}),
    ("program priority", "[supervisord]\n[program:p]\ncommand=c\npriority=%(nosuch)s\n", {"here"}),
    (
        "program section key",
        "[supervisord]\n[program:p]\ncommand=c\nstartsecs=%(nosuch)s\n",
        PROGRAM_SECTION,
    ),
    ("program user", "[supervisord]\n[program:p]\ncommand=c\nuser=%(nosuch)s\n", PROGRAM_SECTION),
    ("program command", "[supervisord]\n[program:p]\ncommand=%(nosuch)s\n", PER_PROCESS),
    (
        "program directory",
        "[supervisord]\n[program:p]\ncommand=c\ndirectory=%(nosuch)s\n",
        PER_PROCESS,
    ),
    (
        "program environment",
        "[supervisord]\n[program:p]\ncommand=c\nenvironment=A=%(nosuch)s\n",
        PER_PROCESS,
    ),
    (
        "program logfile",
        "[supervisord]\n[program:p]\ncommand=c\nstdout_logfile=%(nosuch)s\n",
        PER_PROCESS,
    ),
    (
        "program process_name",
        "[supervisord]\n[program:p]\ncommand=c\nprocess_name=%(nosuch)s\n",
        PER_PROCESS,
    ),
    (
        "fcgi socket",
        "[supervisord]\n[fcgi-program:f]\ncommand=c\nsocket=%(nosuch)s\n",
        {"here", "program_name"},
    ),
    (
        "listener events",
        "[supervisord]\n[eventlistener:e]\ncommand=c\nevents=%(nosuch)s\n",
        {"here"},
    ),
    (
        "rpcinterface option",
        "[supervisord]\n[rpcinterface:x]\nsupervisor.rpcinterface_factory=%(nosuch)s\n",
        set(),
    ),
]


@pytest.mark.parametrize(
    ("text", "names"), [c[1:] for c in LOCATIONS], ids=[c[0] for c in LOCATIONS]
)
def test_each_place_sees_supervisors_names(tmp_path: Path, text: str, names: set[str]) -> None:
    messages = [p.message for p in _errors(tmp_path, text) if "Available names" in p.message]
    assert messages, "expected an unknown-name error"
    available = set(messages[0].split("Available names: ")[1].split(", "))
    assert {n for n in available if not n.startswith("ENV_")} == names
    assert "ENV_VIGIL" in available


def test_ctl_places(tmp_path: Path) -> None:
    for option, names in (("serverurl", {"here"}), ("history_file", {"here"}), ("prompt", set())):
        path = _write(tmp_path, f"[supervisorctl]\n{option}=%(nosuch)s\n")
        with pytest.raises(ConfigError) as caught:
            load_ctl(path, environ=ENV)
        available = set(str(caught.value).split("Available names: ")[1].split(", "))
        assert {n for n in available if not n.startswith("ENV_")} == names


def test_host_node_name_is_not_available_in_supervisord_environment(tmp_path: Path) -> None:
    (problem,) = _errors(tmp_path, "[supervisord]\nenvironment=H=%(host_node_name)s\n")
    assert "'supervisord.environment' contains names ('host_node_name')" in problem.message


def test_supervisord_environment_becomes_env_names_for_later_sections(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "[supervisord]\nenvironment=G=global\n[program:p]\ncommand=/bin/%(ENV_G)s\n"
        "[inet_http_server]\nport=%(ENV_PORT)s\n".replace("%(ENV_PORT)s", "9001"),
    )
    assert _process(config, "p").command == "/bin/global"


def test_a_programs_environment_is_seen_by_per_process_keys_only(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "[supervisord]\n[program:p]\nenvironment=OWN=mine\ncommand=/bin/%(ENV_OWN)s\n"
        "directory=/srv/%(ENV_OWN)s\n",
    )
    process = _process(config, "p")
    assert (process.command, process.directory) == ("/bin/mine", "/srv/mine")
    (problem,) = _errors(
        tmp_path,
        "[supervisord]\n[program:p]\nenvironment=OWN=1\ncommand=c\nstartsecs=%(ENV_OWN)s\n",
    )
    assert "environment variable OWN is not set" in problem.message


def test_here_is_the_directory_of_the_file(tmp_path: Path) -> None:
    config = _load(tmp_path, "[supervisord]\n[program:p]\ncommand=%(here)s/run\n")
    assert _process(config, "p").command == f"{tmp_path}/run"


def test_percent_escapes(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "[supervisord]\nidentifier=100%%\n[program:p]\ncommand=date +%%s\n"
        "stdout_logfile=/tmp/a%%%%.log\n",
    )
    assert config.supervisord.identifier == "100%"
    assert _process(config, "p").command == "date +%s"
    # Supervisor expands child logfile names twice: four percent signs make one
    assert _process(config, "p").stdout_logfile == "/tmp/a%.log"
    (problem,) = _errors(tmp_path, "[supervisord]\nenvironment=A=50%%\n")
    assert "incomplete format" in problem.message


# numprocs


def test_numprocs_templating(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "[supervisord]\n[program:w]\ncommand=/bin/w %(process_num)d/%(numprocs)d\n"
        "process_name=%(program_name)s_%(process_num)02d\nnumprocs=3\nnumprocs_start=8\n"
        "environment=SLOT=%(process_num)s\nstdout_logfile=/tmp/w%(process_num)s.log\n",
    )
    (group,) = config.groups
    assert [p.name for p in group.processes] == ["w_08", "w_09", "w_10"]
    assert [p.command for p in group.processes] == ["/bin/w 8/3", "/bin/w 9/3", "/bin/w 10/3"]
    assert group.processes[0].environment == (("SLOT", "8"),)
    assert group.processes[2].stdout_logfile == "/tmp/w10.log"
    assert {p.group for p in group.processes} == {"w"}


def test_numprocs_needs_process_num_in_the_name(tmp_path: Path) -> None:
    (problem,) = _errors(tmp_path, "[supervisord]\n[program:w]\ncommand=c\nnumprocs=2\n")
    assert problem.message == "%(process_num) must be present within process_name when numprocs > 1"
    assert (problem.section, problem.option) == ("program:w", "process_name")


def test_numprocs_zero_is_an_empty_group_and_a_warning(tmp_path: Path) -> None:
    config = _load(tmp_path, "[supervisord]\n[program:w]\nnumprocs=0\n")
    assert config.groups[0].processes == ()
    assert any("no processes" in w for w in config.warnings)


def test_numprocs_has_a_sane_limit(tmp_path: Path) -> None:
    (problem,) = _errors(
        tmp_path,
        "[supervisord]\n[program:w]\ncommand=c\nnumprocs=100000000\nprocess_name=%(process_num)s\n",
    )
    assert "more than vigil supports" in problem.message


# the model's values


def test_defaults_come_from_the_model(tmp_path: Path) -> None:
    config = _load(tmp_path, "[supervisord]\n[program:p]\ncommand=c\n")
    process = _process(config, "p")
    assert process == ProcessConfig(name="p", group="p", command="c")
    assert config.groups[0].priority == 999
    assert config.supervisord.childlogdir == tempfile.gettempdir()
    assert config.supervisord.logfile == os.path.join(os.getcwd(), "supervisord.log")
    assert config.supervisord.pidfile == os.path.join(os.getcwd(), "supervisord.pid")


def test_listener_pools_default_to_priority_minus_one(tmp_path: Path) -> None:
    config = _load(tmp_path, "[supervisord]\n[eventlistener:e]\ncommand=c\nevents=tick_5,TICK_5\n")
    (group,) = config.groups
    assert (group.kind, group.priority, group.events) == (GroupKind.EVENTLISTENER, -1, ("TICK_5",))
    assert group.processes[0].priority == 999  # Supervisor's processes keep 999


def test_environment_is_supervisords_then_the_programs(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "[supervisord]\nenvironment=A=1,B=2\n[program:p]\ncommand=c\nenvironment=C=3,A=9\n",
    )
    assert _process(config, "p").environment == (("A", "9"), ("B", "2"), ("C", "3"))


def test_user_is_kept_and_resolved(tmp_path: Path) -> None:
    process = _process(_load(tmp_path, "[supervisord]\n[program:p]\ncommand=c\nuser=nobody\n"), "p")
    assert (process.user, process.uid) == ("nobody", 65534)


def test_stopasgroup_implies_killasgroup(tmp_path: Path) -> None:
    process = _process(
        _load(tmp_path, "[supervisord]\n[program:p]\ncommand=c\nstopasgroup=1\n"), "p"
    )
    assert process.killasgroup
    (problem,) = _errors(
        tmp_path, "[supervisord]\n[program:p]\ncommand=c\nstopasgroup=true\nkillasgroup=false\n"
    )
    assert problem.message == "Cannot set stopasgroup=true and killasgroup=false"


def test_autorestart_and_serverurl(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "[supervisord]\n[program:a]\ncommand=c\nautorestart=true\nserverurl=auto\n"
        "[program:b]\ncommand=c\nautorestart=false\nserverurl=http://h:1\n",
    )
    assert (_process(config, "a").autorestart, _process(config, "a").serverurl) == (
        AutoRestart.ALWAYS,
        AUTO,
    )
    assert (_process(config, "b").autorestart, _process(config, "b").serverurl) == (
        AutoRestart.NEVER,
        "http://h:1",
    )


def test_groups_sorted_by_priority_then_name_and_members_leave_their_own_group(
    tmp_path: Path,
) -> None:
    config = _load(
        tmp_path,
        "[supervisord]\n[program:b]\ncommand=c\npriority=5\n[program:a]\ncommand=c\npriority=5\n"
        "[program:m]\ncommand=c\n[group:g]\nprograms=m\npriority=1\n",
    )
    assert [g.name for g in config.groups] == ["g", "a", "b"]
    assert config.groups[0].processes[0].group == "g"


def test_a_fcgi_program_in_a_group_runs_without_its_socket_as_in_supervisor(
    tmp_path: Path,
) -> None:
    config = _load(
        tmp_path,
        "[supervisord]\n[fcgi-program:f]\ncommand=c\nsocket=tcp://h:1\n[group:g]\nprograms=f\n",
    )
    (group,) = config.groups
    assert (group.kind, group.fcgi_socket) == (GroupKind.PROGRAM, None)
    assert any("without its socket" in w for w in config.warnings)


def test_servers_by_prefix(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "[supervisord]\n[unix_http_server]\nfile=s.sock\nchown=0:0\n[inet_http_server:x]\n"
        "port=*:9\n[inet_http_server]\nport=LOCALHOST:8\nusername=u\npassword=p\n",
    )
    assert [(s.name, s.host, s.port) for s in config.inet_servers] == [
        ("inet_http_server:x", "", 9),
        ("inet_http_server", "localhost", 8),
    ]
    (unix,) = config.unix_servers
    assert (unix.file, unix.chown, unix.chmod) == (
        os.path.join(os.getcwd(), "s.sock"),
        (0, 0),
        0o700,
    )


def test_fcgi_socket_owner_follows_the_program_user(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "[supervisord]\n[fcgi-program:f]\ncommand=c\nuser=nobody\nsocket=unix:///tmp/../tmp/f.s\n",
    )
    socket = config.groups[0].fcgi_socket
    assert socket is not None
    assert (socket.url, socket.owner, socket.mode) == ("unix:///tmp/f.s", (65534, 65534), 0o700)


# problems: every one at once, located, in Supervisor's words


def test_every_problem_is_reported_at_once_with_file_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[supervisord]\nloglevel=loud\n\n[program:web]\ncommand=c\nstartsecs=abc\n"
        "autostart=maybe\n\n[program:noop]\npriority=1\n",
    )
    with pytest.raises(ConfigError) as caught:
        load(path, environ=ENV)
    lines = str(caught.value).splitlines()
    assert lines == [
        f"{path}:2: [supervisord] loglevel = 'loud': bad logging level name 'loud'",
        f"{path}:6: [program:web] startsecs = 'abc': invalid literal for int() with base 10: 'abc'",
        f"{path}:7: [program:web] autostart = 'maybe': not a valid boolean value: 'maybe'",
        f"{path}:9: [program:noop]: program section program:noop does not specify a command",
    ]


def test_problems_in_included_files_name_that_file(tmp_path: Path) -> None:
    _write(tmp_path, "[program:x]\ncommand=c\nstartsecs=x\n", "extra.ini")
    path = _write(tmp_path, "[supervisord]\n[include]\nfiles=*.ini\n")
    with pytest.raises(ConfigError) as caught:
        load(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == (f"{tmp_path}/extra.ini", 3)


def test_missing_or_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^could not find config file /no/such\.conf$"):
        load("/no/such.conf")
    with pytest.raises(ConfigError, match="could not read config file"):
        load(str(tmp_path))
    with pytest.raises(ConfigError, match="does not include supervisord section"):
        _load(tmp_path, "[program:x]\ncommand=c\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[program:a]\ncommand=c\nredirect_stderr=true\nstderr_logfile=/tmp/e.log\n",
            "For [program:a], redirect_stderr=true but stderr_logfile has also been set to a "
            "filename, the filename has been ignored",
        ),
        (
            "[program:a]\ncommand=c\nstdout_logfile_maxbytes=0\n",
            "For [program:a], AUTO logging used for stdout_logfile without rollover, set maxbytes "
            "> 0 to avoid filling up filesystem unintentionally",
        ),
        (
            "[program:a]\ncommand=c\nstdout_logfile=syslog\n",
            "For [program:a], stdout_logfile=syslog but this is deprecated and will be removed.  "
            "Use stdout_syslog=true to enable syslog instead.",
        ),
    ],
)
def test_supervisors_warnings_are_kept_word_for_word(
    tmp_path: Path, text: str, message: str
) -> None:
    config = _load(tmp_path, "[supervisord]\n" + text)
    assert config.warnings == (message,)


def test_deprecated_syslog_logfile_turns_into_syslog_option(tmp_path: Path) -> None:
    process = _process(
        _load(tmp_path, "[supervisord]\n[program:a]\ncommand=c\nstderr_logfile=syslog\n"), "a"
    )
    assert (process.stderr_logfile, process.stderr_syslog) == (None, True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[eventlistener:e]\ncommand=c\n", '[eventlistener:e] section requires an "events" line'),
        (
            "[eventlistener:e]\ncommand=c\nevents=TICK_7\n",
            "Unknown event type TICK_7 in [eventlistener:e] events",
        ),
        (
            # vigil's own root: a listener pool speaks Supervisor's protocol, so not yet
            "[eventlistener:e]\ncommand=c\nevents=VIGIL_EVENT\n",
            "Unknown event type VIGIL_EVENT in [eventlistener:e] events",
        ),
        (
            "[eventlistener:e]\ncommand=c\nevents=TICK_5\nbuffer_size=0\n",
            "[eventlistener:e] section sets invalid buffer_size (0)",
        ),
        (
            "[eventlistener:e]\ncommand=c\nevents=TICK_5\nredirect_stderr=true\n",
            "[eventlistener:e] section sets redirect_stderr=true but this is not allowed because "
            "it will interfere with the eventlistener protocol",
        ),
        ("[fcgi-program:f]\ncommand=c\n", '[fcgi-program:f] section requires a "socket" line'),
        (
            "[fcgi-program:f]\ncommand=c\nsocket=tcp://h:1\nsocket_mode=0600\n",
            "socket_owner and socket_mode params should only be used with a Unix domain socket "
            "in [fcgi-program:f] socket",
        ),
        (
            "[fcgi-program:f]\ncommand=c\nsocket=unix:///tmp/f\nsocket_owner=nosuch\n",
            "Invalid socket_owner value nosuch",
        ),
        ("[group:g]\nprograms=nosuch\n", "[group:g] names unknown program or fcgi-program nosuch"),
        ("[inet_http_server]\n", "section [inet_http_server] has no port value"),
        ("[unix_http_server]\n", "section [unix_http_server] has no file value"),
        ("[unix_http_server]\nfile=/tmp/s\nchmod=9\n", "Invalid chmod value 9"),
        ("[unix_http_server]\nfile=/tmp/s\nchown=nosuch\n", "Invalid sockchown value nosuch"),
        (
            "[inet_http_server]\nport=1\nusername=u\n",
            "Section [inet_http_server] contains incomplete authentication: If a username or a "
            "password is specified, both the username and password must be specified",
        ),
        (
            "[rpcinterface:x]\n",
            "section [rpcinterface:x] does not specify a supervisor.rpcinterface_factory",
        ),
        ("[program:a b]\ncommand=c\n", "Invalid name: 'a b' because of character: ' '"),
    ],
)
def test_supervisors_error_messages(tmp_path: Path, text: str, message: str) -> None:
    assert message in [p.message for p in _errors(tmp_path, "[supervisord]\n" + text)]


def test_plugins_vigil_cannot_load_are_refused_naming_the_section(tmp_path: Path) -> None:
    (problem,) = _errors(
        tmp_path,
        "[supervisord]\n[rpcinterface:twiddler]\n"
        "supervisor.rpcinterface_factory = supervisor_twiddler.rpcinterface:make\n",
    )
    assert problem.section == "rpcinterface:twiddler"
    assert "vigil cannot load Supervisor Python plugins" in problem.message


def test_logs_on_streams_must_not_rotate(tmp_path: Path) -> None:
    (problem,) = _errors(
        tmp_path, "[supervisord]\n[program:a]\ncommand=c\nstdout_logfile=/dev/stdout\n"
    )
    assert problem.option == "stdout_logfile"
    assert "set stdout_logfile_maxbytes = 0" in problem.message
    config = _load(
        tmp_path,
        "[supervisord]\n[program:a]\ncommand=c\nstdout_logfile=/dev/stdout\n"
        "stdout_logfile_maxbytes=0\nstderr_logfile=/dev/null\n",
    )
    assert _process(config, "a").stderr_logfile == "/dev/null"


def test_redirected_stderr_to_a_stream_is_not_a_problem(tmp_path: Path) -> None:
    _load(
        tmp_path,
        "[supervisord]\n[program:a]\ncommand=c\nredirect_stderr=true\nstderr_logfile=/dev/stderr\n",
    )


def test_duplicate_group_names_keep_the_first_in_start_order(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "[supervisord]\n[program:x]\ncommand=program\n[eventlistener:x]\ncommand=listener\n"
        "events=TICK_5\n",
    )
    (group,) = config.groups
    assert group.kind is GroupKind.EVENTLISTENER
    assert any("used by more than one section" in w for w in config.warnings)


# warnings and check()


def test_unknown_options_and_sections_are_warnings_with_places(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[DEFAULT]\nnonsense=1\n[supervisord]\nlogfile_maxbyte=1\n[program:p]\ncommand=c\n"
        "autostrat=no\n[programs:x]\n",
    )
    config = load(path)
    assert config.warnings == (
        f"{path}:4: warning: [supervisord] logfile_maxbyte = '1': unknown option "
        "'logfile_maxbyte' is ignored; did you mean 'logfile_maxbytes'?",
        f"{path}:7: warning: [program:p] autostrat = 'no': unknown option 'autostrat' is "
        "ignored; did you mean 'autostart'?",
        f"{path}:8: warning: [programs:x]: not a section Supervisor knows: it is ignored; "
        "did you mean [program:x]?",
        f"{path}:2: warning: [DEFAULT] nonsense = '1': unknown option 'nonsense' is ignored",
    )
    assert [p.severity for p in check(path)] == [Severity.WARNING] * 4


def test_check_reports_errors_and_warnings_and_the_ctl_view(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[supervisord]\n[program:p]\ncommand=c\nstartsecs=x\nbogus=1\n"
        "[supervisorctl]\nprompt=%(nosuch)s\n",
    )
    problems = check(path, environ=ENV)
    assert [(p.line, p.severity) for p in problems] == [
        (4, Severity.ERROR),
        (5, Severity.WARNING),
        (7, Severity.ERROR),
    ]


def test_check_of_a_missing_file() -> None:
    (problem,) = check("/no/such.conf")
    assert problem.message == "could not find config file /no/such.conf"


def test_infos_name_included_files(tmp_path: Path) -> None:
    _write(tmp_path, "[program:x]\ncommand=c\n", "x.ini")
    config = load(_write(tmp_path, "[supervisord]\n[include]\nfiles=x.ini\n"))
    assert config.infos == (f'Included extra file "{tmp_path}/x.ini" during parsing',)


def test_problem_format() -> None:
    problem = Problem(
        message="not a valid integer",
        file="/etc/x.conf",
        line=12,
        section="program:web",
        option="startsecs",
        value="abc",
    )
    assert str(problem) == "/etc/x.conf:12: [program:web] startsecs = 'abc': not a valid integer"
    assert str(Problem(message="m", file="f")) == "f: m"
    assert str(ConfigError([problem, Problem(message="m", file="f")])).count("\n") == 1


# load_ctl


def test_load_ctl(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[supervisorctl]\nserverurl=unix://%(here)s/../x/s.sock\nusername=%(ENV_VIGIL)s\n"
        "password=p%%\nhistory_file=~/h\n[ctlplugin:mine]\nsupervisor.ctl_factory=m:f\nk=v\n"
        "[include]\nfiles=nothing\n",
    )
    ctl, plugins = load_ctl(path, environ=ENV)
    assert ctl.serverurl == f"unix://{tmp_path.parent}/x/s.sock"
    assert (ctl.username, ctl.password, ctl.prompt) == ("v", "p%", "supervisor")
    assert ctl.history_file == os.path.expanduser("~/h")
    assert [(p.name, p.factory, p.kwargs) for p in plugins] == [("mine", "m:f", (("k", "v"),))]


def test_load_ctl_defaults_and_errors(tmp_path: Path) -> None:
    ctl, plugins = load_ctl(_write(tmp_path, "[supervisorctl]\n"))
    assert (ctl.serverurl, ctl.history_file, plugins) == ("http://localhost:9001", None, ())
    with pytest.raises(ConfigError, match=r"^\.ini file does not include supervisorctl section$"):
        load_ctl(_write(tmp_path, "[supervisord]\n"))
    with pytest.raises(ConfigError, match=r"does not specify a supervisor\.ctl_factory"):
        load_ctl(_write(tmp_path, "[supervisorctl]\n[ctlplugin:x]\n"))
    with pytest.raises(ConfigError, match="Source contains parsing errors"):
        load_ctl(_write(tmp_path, "[supervisorctl]\nnot an option\n"))
    with pytest.raises(ConfigError, match="could not find config file"):
        load_ctl("/no/such.conf")


def test_load_fills_ctl_from_the_same_file(tmp_path: Path) -> None:
    config = _load(tmp_path, "[supervisord]\n[supervisorctl]\nprompt=p\n")
    assert config.ctl is not None and config.ctl.prompt == "p"
    assert _load(tmp_path, "[supervisord]\n").ctl is None


def test_error_message_lines_are_greppable() -> None:
    assert re.match(r"^\S+:\d+: ", str(Problem(message="m", file="f", line=1)))
