"""The typed, immutable configuration model: every option Supervisor 4.3 knows, with its one
default.

The loader fills these from INI sections; everything above the config layer reads only these.
Equality is what reread/update compare, so fields that describe where a value came from are
excluded from comparison.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from enum import Enum

# The model names every type its options take, so these are part of it (and are imported
# from here by the daemon's modules); they live apart only to keep supervisorctl's start light.
from vigil.config.ctl_model import CtlConfig as CtlConfig
from vigil.config.ctl_model import PluginConfig as PluginConfig
from vigil.config.dependencies import Dependency as Dependency
from vigil.config.probes import Probe as Probe
from vigil.config.values import AUTO as AUTO
from vigil.config.values import Auto as Auto
from vigil.config.values import AutoRestart as AutoRestart
from vigil.config.values import Backoff as Backoff
from vigil.config.values import HealthAction as HealthAction
from vigil.config.values import KillMode as KillMode
from vigil.config.values import Logfile as Logfile
from vigil.config.values import LogFormat as LogFormat
from vigil.config.values import LogLevel as LogLevel
from vigil.config.values import ProbeKind as ProbeKind
from vigil.config.values import ProgramType as ProgramType
from vigil.config.values import UpdateStrategy as UpdateStrategy

MB = 1024 * 1024
# A resource limit as (soft, hard); RLIM_INFINITY (-1 on Linux) is ``unlimited``.
Rlimit = tuple[int, int]
# The rlimit_* options, each with the resource it sets (resource.RLIMIT_* on Linux).
RLIMIT_OPTIONS = (
    "rlimit_nofile",
    "rlimit_nproc",
    "rlimit_core",
    "rlimit_memlock",
    "rlimit_as",
    "rlimit_cpu",
    "rlimit_fsize",
)


@dataclass(frozen=True)
class Source:
    """Where a section came from, for error messages at any later time."""

    file: str
    line: int = 0
    section: str = ""  # e.g. "program:web": where the process's options are read from

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class SupervisordConfig:
    logfile: str = "supervisord.log"  # absolute after loading; "syslog" means the syslog handler
    logfile_maxbytes: int = 50 * MB
    logfile_backups: int = 10
    loglevel: LogLevel = LogLevel.INFO
    pidfile: str = "supervisord.pid"  # absolute after loading
    umask: int = 0o022
    nodaemon: bool = False
    silent: bool = False
    minfds: int = 1024
    minprocs: int = 200
    nocleanup: bool = False
    childlogdir: str = "/tmp"  # the loader puts tempfile.gettempdir() here
    user: str | None = None
    directory: str | None = None
    strip_ansi: bool = False
    environment: tuple[tuple[str, str], ...] = ()
    identifier: str = "supervisor"
    # vigil addition (issue 19): on `update`, apply changes of options that do not affect a
    # running process (autorestart, the restart policy, log rotation, priority ...) without
    # restarting it. Off by default: Supervisor restarts the group, and scripts expect that.
    update_in_place: bool = False
    # vigil additions (issues 16, 17), all opt-in. container: run as a container's main
    # process (also on when vigil is PID 1): in the foreground, exit statuses that mean
    # something, programs' output forwarded to vigil's own. logformat: the main log as text
    # (Supervisor's) or one JSON object per line. env_file: files of NAME=value lines that
    # every program's environment starts from (read at load, so reread sees them).
    container: bool = False
    logformat: LogFormat = LogFormat.TEXT
    env_file: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProcessConfig:
    """One process after numprocs expansion: what the runtime needs to run and log it."""

    name: str
    group: str
    command: str
    priority: int = 999
    autostart: bool = True
    autorestart: AutoRestart = AutoRestart.UNEXPECTED
    startsecs: int = 1
    startretries: int = 3
    exitcodes: tuple[int, ...] = (0,)
    stopsignal: int = int(signal.SIGTERM)
    stopwaitsecs: int = 10
    stopasgroup: bool = False
    killasgroup: bool = False
    killmode: KillMode | None = None  # None: as stopasgroup/killasgroup say (Supervisor's way)
    user: str | None = None  # the name or id as written; uid resolved below
    uid: int | None = None
    redirect_stderr: bool = False
    stdout_logfile: Logfile = AUTO
    stdout_logfile_maxbytes: int = 50 * MB
    stdout_logfile_backups: int = 10
    stdout_capture_maxbytes: int = 0
    stdout_events_enabled: bool = False
    stdout_syslog: bool = False
    stderr_logfile: Logfile = AUTO
    stderr_logfile_maxbytes: int = 50 * MB
    stderr_logfile_backups: int = 10
    stderr_capture_maxbytes: int = 0
    stderr_events_enabled: bool = False
    stderr_syslog: bool = False
    environment: tuple[tuple[str, str], ...] = ()  # [supervisord] environment, then the program's
    directory: str | None = None
    umask: int | None = None
    serverurl: str | Auto = AUTO
    # vigil's restart policy (issue 15), all opt-in: the defaults are Supervisor's behaviour.
    # startretries = -1 retries forever. Durations are seconds.
    type: ProgramType = ProgramType.SIMPLE
    backoff: Backoff = Backoff.LINEAR
    backoff_delay: float = 1.0  # the first wait after a failed start
    backoff_max: float | None = None  # no wait is longer (None: no cap)
    backoff_jitter: float = 0.0  # each wait is shortened by up to this fraction, at random
    backoff_reset: float | None = None  # None: tries start again on RUNNING (Supervisor)
    restart_delay: float = 0.0  # the first wait before restarting a program that ran
    start_limit: tuple[int, float] | None = None  # (N, SECONDS): more starts -> FATAL
    fatal_retry: float = 0.0  # leave FATAL and start again after this long; 0: never
    # commands run before each start and after each stop (expanded as `command` is), with
    # the program's user, environment and directory; each killed after hook_timeout seconds
    pre_start: str | None = None
    post_stop: str | None = None
    hook_timeout: float = 30.0
    # how `update` replaces this program's processes when its section changed (issue 19)
    update_strategy: UpdateStrategy = UpdateStrategy.RESTART
    # vigil's readiness, dependencies and health checks (issue 14), all opt-in: without them
    # a process is ready once up for startsecs and starts in priority order, as in Supervisor.
    ready: Probe | None = None  # None: up for startsecs is ready
    ready_timeout: float = 60.0  # not ready this long after the spawn: a failed start
    depends_on: tuple[Dependency, ...] = ()  # with dependent_startup_wait_for's entries
    binds_to: tuple[str, ...] = ()  # also stopped (and started again) with these
    dependent_startup: bool = False  # supervisord-dependent-startup: started by the daemon
    healthcheck: Probe | None = None
    healthcheck_interval: float = 10.0
    healthcheck_timeout: float = 5.0
    healthcheck_retries: int = 3  # failures in a row that make the process unhealthy
    healthcheck_start_period: float = 0.0  # failures this soon after RUNNING do not count
    healthcheck_action: HealthAction = HealthAction.RESTART
    watchdog_sec: float = 0.0  # sd_notify WATCHDOG=1 needed this often (0: no watchdog)
    # containers and hosts (issue 17) and log timestamps (issue 16), all opt-in.
    # essential: when it ends for good, the daemon stops everything and exits with its status.
    essential: bool = False
    # each line of output also goes to the daemon's stdout/stderr, prefixed with the name;
    # None: on in container mode for a channel without a log file of its own (AUTO or NONE)
    forward_output: bool | None = None
    forward_output_timestamps: bool = False
    stdout_logfile_timestamps: bool = False  # each line of the log starts with its time
    stderr_logfile_timestamps: bool = False
    env_file: tuple[str, ...] = ()  # as written; their variables are in `environment`
    # HOME, USER, LOGNAME and SHELL of `user` from the password database (Supervisor #1171),
    # read at load with the uid; the spawn sets each one `environment` does not
    user_environment: tuple[tuple[str, str], ...] = ()
    rlimit_nofile: Rlimit | None = None
    rlimit_nproc: Rlimit | None = None
    rlimit_core: Rlimit | None = None
    rlimit_memlock: Rlimit | None = None
    rlimit_as: Rlimit | None = None
    rlimit_cpu: Rlimit | None = None
    rlimit_fsize: Rlimit | None = None
    nice: int | None = None  # the child's scheduling priority, -20 to 19
    oom_score_adjust: int | None = None  # the child's /proc/self/oom_score_adj, -1000 to 1000
    source: Source = field(default=Source("<default>"), compare=False)


class GroupKind(Enum):
    PROGRAM = "program"  # [program:x] (homogeneous) or [group:x] (heterogeneous)
    EVENTLISTENER = "eventlistener"
    FCGI = "fcgi-program"


@dataclass(frozen=True)
class FcgiSocketConfig:
    url: str  # unix:///abs/path or tcp://host:port, as written (after expansion)
    backlog: int
    owner: tuple[int, int] | None = None
    mode: int = 0o700


@dataclass(frozen=True)
class GroupConfig:
    name: str
    priority: int
    processes: tuple[ProcessConfig, ...]
    kind: GroupKind = GroupKind.PROGRAM
    # eventlistener pools only
    events: tuple[str, ...] = ()
    buffer_size: int = 10
    result_handler: str = "supervisor.dispatchers:default_handler"
    # fcgi-program groups only
    fcgi_socket: FcgiSocketConfig | None = None
    source: Source = field(default=Source("<default>"), compare=False)


@dataclass(frozen=True)
class UnixServerConfig:
    name: str  # the section name, e.g. "unix_http_server"
    file: str
    chmod: int = 0o700
    chown: tuple[int, int] | None = None  # (uid, gid); -1 leaves one unchanged
    username: str | None = None
    password: str | None = None  # cleartext or "{SHA}<hex>"
    # vigil additions, the same as InetServerConfig's (see there for why these defaults)
    request_timeout: float = 30.0
    max_connections: int = 128
    readonly_username: str | None = None
    readonly_password: str | None = None
    metrics_public: bool = False


@dataclass(frozen=True)
class InetServerConfig:
    name: str  # the section name, e.g. "inet_http_server"
    host: str  # "" means every interface
    port: int
    username: str | None = None
    password: str | None = None
    # vigil additions. A client must send a whole request head within request_timeout
    # seconds of connecting (or of its previous response), so idle and half-sent connections
    # do not pile up. 128 connections per listener is far more than supervisorctl, tail -f
    # streams and a few browsers use, yet two listeners at the cap leave most of the default
    # minfds (1024) to the children's pipes and log files.
    request_timeout: float = 30.0
    max_connections: int = 128
    # vigil addition: a second account that may read everything (state, logs, streams, the
    # web page) and do nothing (Supervisor #844, #1562): for dashboards and on-call eyes.
    readonly_username: str | None = None
    readonly_password: str | None = None  # cleartext or "{SHA}<hex>", as password
    # vigil addition: serve HTTPS with this certificate chain and private key (PEM), so that
    # credentials never cross a network in clear (Supervisor #1135)
    certfile: str | None = None
    keyfile: str | None = None
    # vigil addition: /metrics (and /ok.html) answer without credentials on this listener,
    # for a Prometheus scraper that holds none; every other route still asks for them
    metrics_public: bool = False


@dataclass(frozen=True)
class Config:
    """A whole supervisord configuration file (with its includes)."""

    supervisord: SupervisordConfig
    groups: tuple[GroupConfig, ...] = ()
    unix_servers: tuple[UnixServerConfig, ...] = ()
    inet_servers: tuple[InetServerConfig, ...] = ()
    rpcinterfaces: tuple[PluginConfig, ...] = ()
    ctl: CtlConfig | None = None
    ctlplugins: tuple[PluginConfig, ...] = ()
    path: str = ""
    # Messages Supervisor logs after parsing ("Included extra file ...", deprecation warnings);
    # the daemon replays them into the main log once it exists.
    infos: tuple[str, ...] = field(default=(), compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)
