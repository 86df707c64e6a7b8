"""The HTTP servers: the same routes served on every configured unix socket and TCP port.

Each listener gets its own aiohttp application built from the same route registrars, because
credentials belong to a server section (a unix socket may require a password the TCP port
does not, or the other way round) and a middleware is per application. Everything a route
needs comes from its registrar's closure, so the applications share no state of their own.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from vigil.config.model import InetServerConfig, LogLevel, UnixServerConfig
from vigil.core.ports import MainLog
from vigil.http.auth import basic_auth_middleware, credentials_of
from vigil.http.guard import ConnectionGuard, ConnectionLimits
from vigil.http.listeners import BACKLOG, Listener, ServerStartError, bind_all

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
    server: asyncio.AbstractServer


# What a client does to its own connection: hang up, reset it, send something that is not
# HTTP. Normal events for a server, worth a DEBUG line at most.
_CLIENT_TROUBLE = (ConnectionError, HttpProcessingError)


class _MainLogHandler(logging.Handler):
    """Puts what the HTTP implementation logs into the main log, never on stderr: a client's
    own trouble as one DEBUG line, anything else (a bug) at ERROR with its traceback."""

    def __init__(self, main_log: MainLog) -> None:
        super().__init__(logging.DEBUG)
        self._main_log = main_log

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        message = f"HTTP server: {record.getMessage()}"
        if error is None or isinstance(error, _CLIENT_TROUBLE):
            reason = str(error).strip().splitlines()[0] if error is not None and str(error) else ""
            detail = f" ({type(error).__name__}: {reason})" if error is not None else ""
            self._main_log.log(LogLevel.DEBG, message + detail)
            return
        details = "".join(traceback.format_exception(error)).rstrip()
        self._main_log.log(LogLevel.ERRO, f"{message}\n{details}")


def _server_logger(main_log: MainLog) -> logging.Logger:
    """A logger of its own (not in logging's registry, so nothing configured elsewhere and no
    last-resort stderr handler sees its records) that writes to the main log."""
    logger = logging.Logger("vigil.http.server", logging.DEBUG)
    logger.propagate = False
    logger.addHandler(_MainLogHandler(main_log))
    return logger


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
                self._running.append(await self._serve(listener, config))
                credentials = credentials_of(config.username, config.password)
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
        for entry in running:
            entry.server.close()  # accept nothing more; the runner closes the connections
        await asyncio.gather(*(entry.runner.cleanup() for entry in running), return_exceptions=True)
        for entry in running:
            entry.listener.close()
        self._started = False

    async def _serve(
        self, listener: Listener, config: InetServerConfig | UnixServerConfig
    ) -> _Running:
        credentials = credentials_of(config.username, config.password)
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
            # between requests of a kept-alive connection, the same bound as for the first
            keepalive_timeout=config.request_timeout,
            logger=_server_logger(self._main_log),
            max_line_size=limits.max_line_size,
            max_field_size=limits.max_field_size,
            max_headers=limits.max_headers,
        )
        await runner.setup()
        assert runner.server is not None  # set up just above
        guard = ConnectionGuard(
            config.name,
            listener.where,
            ConnectionLimits(config.request_timeout, config.max_connections),
            self._main_log,
        )
        try:
            # served through the guard rather than an aiohttp site: the guard wraps the
            # protocol factory, so it sees every connection before the HTTP protocol does
            server = await asyncio.get_running_loop().create_server(
                guard.wrap(runner.server), sock=listener.sock, backlog=BACKLOG
            )
        except BaseException:
            await runner.cleanup()
            raise
        return _Running(listener, runner, server)
