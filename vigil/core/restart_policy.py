"""The restart policy: how long a process waits before the daemon starts it again, as data.

ProcessMachine is given one RestartPolicy, built from the program's options; the policy only
computes (delays, limits), never reads a clock or a random source: the machine passes in the
draw for jitter, so a test with a scripted draw knows every delay exactly.

Without the opt-in options the policy is Supervisor 4.3's: after the k-th failed start wait k
seconds, FATAL after startretries, restart a program that ran at once and forever.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from vigil.config.model import Backoff, ProcessConfig, ProgramType


@dataclass(frozen=True)
class StartLimit:
    """More than `count` starts within `seconds` is flapping: the process goes FATAL."""

    count: int
    seconds: float


@dataclass(frozen=True)
class RestartPolicy:
    retries: int | None = 3  # start retries before FATAL; None: forever (startretries = -1)
    backoff: Backoff = Backoff.LINEAR
    backoff_delay: float = 1.0
    backoff_max: float | None = None
    backoff_jitter: float = 0.0
    backoff_reset: float | None = None
    restart_delay: float = 0.0
    start_limit: StartLimit | None = None
    fatal_retry: float = 0.0
    oneshot: bool = False

    @classmethod
    def of(cls, config: ProcessConfig) -> RestartPolicy:
        limit = config.start_limit
        return cls(
            retries=None if config.startretries == -1 else config.startretries,
            backoff=config.backoff,
            backoff_delay=config.backoff_delay,
            backoff_max=config.backoff_max,
            backoff_jitter=config.backoff_jitter,
            backoff_reset=config.backoff_reset,
            restart_delay=config.restart_delay,
            start_limit=None if limit is None else StartLimit(limit[0], limit[1]),
            fatal_retry=config.fatal_retry,
            oneshot=config.type is ProgramType.ONESHOT,
        )

    @property
    def is_supervisors(self) -> bool:
        """True when nothing differs from Supervisor 4.3 (whatever the number of retries): the
        descriptions then stay Supervisor's to the byte, with no word of the next attempt."""
        return self.retries is not None and replace(self, retries=3) == RestartPolicy()

    def retry_delay(self, tries: int, draw: float) -> float:
        """The wait after the `tries`-th failed start in a row (1 for the first)."""
        return self._delay(self.backoff_delay, tries, draw)

    def restart_wait(self, crashes: int, draw: float) -> float:
        """The wait before restarting a program that ran, after its `crashes`-th exit in a row."""
        return self._delay(self.restart_delay, crashes, draw)

    def spent(self, tries: int) -> bool:
        """Whether `tries` failed starts use up the retries (then FATAL)."""
        return self.retries is not None and tries > self.retries

    def _delay(self, first: float, n: int, draw: float) -> float:
        """The n-th wait of the sequence starting at `first`, capped, then shortened by up to
        the jitter fraction (`draw` in [0, 1)), so that a cap is never exceeded and processes
        that failed together do not all retry at the same moment."""
        n = max(n, 1)
        if self.backoff is Backoff.LINEAR:
            delay = first * n
        elif self.backoff is Backoff.EXPONENTIAL:
            delay = first * 2.0 ** min(n - 1, 1000)  # 2**1000 s is forever enough
        else:
            delay = first
        if self.backoff_max is not None:
            delay = min(delay, self.backoff_max)
        return delay * (1.0 - self.backoff_jitter * draw)

    def resets_after(self, ran_for: float) -> bool:
        """Whether a run of `ran_for` seconds in RUNNING starts the counts again."""
        return self.backoff_reset is not None and ran_for >= self.backoff_reset
