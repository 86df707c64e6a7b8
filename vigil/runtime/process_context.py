"""What every process runner of one daemon shares, and the environment a child gets."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from vigil.clock import Clock
from vigil.config.model import ProcessConfig
from vigil.core.bus import EventBus
from vigil.core.ports import MainLog
from vigil.runtime.reaper import Reaper


class ProcessContext:
    """What every runner of one daemon shares."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        clock: Clock,
        reaper: Reaper,
        bus: EventBus,
        log: MainLog,
        base_env: Mapping[str, str],
        server_url: str | None,
    ) -> None:
        self.loop = loop
        self.clock = clock
        self.reaper = reaper
        self.bus = bus
        self.log = log
        self.base_env = dict(base_env)
        self.server_url = server_url


def child_environment(
    config: ProcessConfig, base_env: Mapping[str, str], server_url: str | None
) -> dict[str, str]:
    """The environment a child of `config` gets, in Supervisor's merge order (also what
    ``--check-config`` searches PATH in)."""
    env = dict(base_env)
    env["SUPERVISOR_ENABLED"] = "1"
    url = config.serverurl if isinstance(config.serverurl, str) else server_url
    if url:
        env["SUPERVISOR_SERVER_URL"] = url
    env["SUPERVISOR_PROCESS_NAME"] = config.name
    env["SUPERVISOR_GROUP_NAME"] = config.group
    env.update(config.environment)
    return env
