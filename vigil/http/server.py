"""The HTTP servers: the same routes served on every configured unix socket and TCP port.

Each listener gets its own aiohttp application built from the same route registrars, because
credentials belong to a server section (a unix socket may require a password the TCP port
does not, or the other way round) and a middleware is per application. Everything a route
needs comes from its registrar's closure, so the applications share no state of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from vigil.config.model import InetServerConfig, LogLevel, UnixServerConfig
from vigil.core.ports import MainLog
from vigil.http.auth import BasicCredentials, basic_auth_middleware, credentials_of
from vigil.http.listeners import Listener, ServerStartError, bind_all

__all__ = ["HeaderLimits", "HttpServer", "RouteRegistrar", "ServerStartError"]

RouteRegistrar = Callable[[web.Application], None]


@dataclass(frozen=True)
class HeaderLimits:
    """Bounds on what a client may send before its request reaches a handler (over → 400)."""

    max_line_size: int = 8190  # the request line, and any one header line
    max_field_size: int = 8190
    max_headers: int = 100


@dataclass
class _Running:
    listener: Listener
    runner: web.AppRunner


class HttpServer:
    def __init__(
        self,
        registrars: Sequence[RouteRegistrar],
        unix_servers: tuple[UnixServerConfig, ...],
        inet_servers: tuple[InetServerConfig, ...],
        main_log: MainLog,
        *,
        header_limits: HeaderLimits | None = None,
        shutdown_timeout: float = 2.0,
        bound: list[Listener] | None = None,
    ) -> None:
        self._registrars = list(registrars)
        self._unix_servers = unix_servers
        self._inet_servers = inet_servers
        self._main_log = main_log
        self._header_limits = header_limits or HeaderLimits()
        self._shutdown_timeout = shutdown_timeout
        self._running: list[_Running] = []
        self._bound = bound  # listeners bound earlier (see listeners.bind_all), in its order
        self._started = False

    def add_routes(self, registrar: RouteRegistrar) -> None:
        """Add routes (log tails, JSON API, web UI...) to every listener; only before start."""
        if self._started:
            raise RuntimeError("routes must be added before the HTTP server starts")
        self._registrars.append(registrar)

    @property
    def inet_addresses(self) -> list[tuple[str, int]]:
        """The bound (host, port) of each TCP listener: the real port when 0 was asked for."""
        addresses: list[tuple[str, int]] = []
        for running in self._running:
            if running.listener.socket_file is None:
                host, port = running.listener.sock.getsockname()[:2]
                addresses.append((host, port))
        return addresses

    async def start(self) -> None:
        """Open every listener (unless they came bound), then serve on all of them.

        All sockets are bound before any is served, so a port in use fails startup without
        having served a single request elsewhere. Raises ServerStartError.
        """
        if self._started:
            raise RuntimeError("the HTTP server is already started")
        self._started = True
        listeners = (
            self._bound
            if self._bound is not None
            else await bind_all(self._unix_servers, self._inet_servers, self._main_log)
        )
        self._bound = None
        configs: list[InetServerConfig | UnixServerConfig] = [
            *self._inet_servers,
            *self._unix_servers,
        ]
        try:
            for config, listener in zip(configs, listeners, strict=True):
                credentials = credentials_of(config.username, config.password)
                runner = await self._serve(listener, credentials)
                self._running.append(_Running(listener, runner))
                if credentials is None:
                    self._main_log.log(
                        LogLevel.CRIT,
                        f"Server {config.name!r} running without any HTTP authentication checking",
                    )
        except BaseException:
            await self.stop()
            for listener in listeners:
                listener.close()  # closing a listener twice is harmless
            raise

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to the shutdown timeout), and
        remove the socket files this server created. It can be started again afterwards."""
        running, self._running = self._running, []
        await asyncio.gather(*(entry.runner.cleanup() for entry in running), return_exceptions=True)
        for entry in running:
            entry.listener.close()
        self._started = False

    async def _serve(
        self, listener: Listener, credentials: BasicCredentials | None
    ) -> web.AppRunner:
        middlewares = [] if credentials is None else [basic_auth_middleware(credentials)]
        app = web.Application(middlewares=middlewares)
        for registrar in self._registrars:
            registrar(app)
        limits = self._header_limits
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=self._shutdown_timeout,
            max_line_size=limits.max_line_size,
            max_field_size=limits.max_field_size,
            max_headers=limits.max_headers,
        )
        await runner.setup()
        try:
            site = web.SockSite(runner, listener.sock, backlog=1024)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        return runner
