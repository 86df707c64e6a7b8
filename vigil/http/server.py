"""The HTTP servers: the same routes served on every configured unix socket and TCP port.

The routing table is one for all listeners; credentials belong to a server section (a unix
socket may require a password the TCP port does not, or the other way round), so each
listener checks its own before routing, on every path: a new route cannot forget it.
HTTP parsing is llhttp's (through httptools); ``connection.py`` holds the protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from vigil.config.model import InetServerConfig, LogLevel, UnixServerConfig
from vigil.core.ports import MainLog
from vigil.http.auth import Accounts, credentials_of, unauthorized
from vigil.http.connection import Dispatch, HeaderLimits, HttpConnection
from vigil.http.guard import ConnectionGuard, ConnectionLimits
from vigil.http.listeners import BACKLOG, Listener, ServerStartError, bind_all
from vigil.http.messages import Access, Reply, Request, Response
from vigil.http.routing import RouteRegistrar, Routes
from vigil.runtime.tls import TlsError, server_context
from vigil.services.rpc.registry import READ_ONLY_CALLER

__all__ = ["HeaderLimits", "HttpServer", "RouteRegistrar", "ServerStartError"]


@dataclass
class _Running:
    listener: Listener
    server: asyncio.AbstractServer
    connections: set[HttpConnection] = field(default_factory=set)


def _accounts(config: InetServerConfig | UnixServerConfig) -> Accounts:
    return Accounts(
        credentials_of(config.username, config.password),
        credentials_of(config.readonly_username, config.readonly_password),
        metrics_public=config.metrics_public,
    )


def _dispatcher(routes: Routes, accounts: Accounts) -> Dispatch:
    async def dispatch(request: Request) -> Reply:
        access = accounts.access_to(
            request.method, request.target, request.headers.get("Authorization")
        )
        if access is None:
            return unauthorized()
        request.access = access
        # every RPC call this request makes checks it (one place for every wire)
        READ_ONLY_CALLER.set(access is Access.READ_ONLY)
        found = routes.resolve(request)
        if isinstance(found, Response):
            return found
        return await found(request)

    return dispatch


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
        routes = self._routes()
        try:
            for config, listener in zip(configs, listeners, strict=True):
                self._running.append(await self._serve(routes, listener, config))
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
        """Stop accepting, let requests in flight finish (up to the shutdown timeout; a
        stream ends at once), and remove the socket files this server created. It can be
        started again afterwards."""
        running, self._running = self._running, []
        for entry in running:
            entry.server.close()  # accept nothing more
        connections = [conn for entry in running for conn in entry.connections]
        for conn in connections:
            conn.shutdown()
        busy = [conn.task for conn in connections if conn.task is not None]
        if busy:
            await asyncio.wait(busy, timeout=self._shutdown_timeout)
        for conn in connections:
            conn.abort()  # whatever is still open after the timeout
        for entry in running:
            entry.listener.close()
        self._started = False

    async def _serve(
        self, routes: Routes, listener: Listener, config: InetServerConfig | UnixServerConfig
    ) -> _Running:
        dispatch = _dispatcher(routes, _accounts(config))
        connections: set[HttpConnection] = set()
        limits, keepalive, log = self._header_limits, config.request_timeout, self._main_log

        def connection() -> HttpConnection:
            conn = HttpConnection(dispatch, limits, keepalive, log, connections.discard)
            connections.add(conn)
            return conn

        guard = ConnectionGuard(
            config.name,
            listener.where,
            ConnectionLimits(config.request_timeout, config.max_connections),
            self._main_log,
        )
        tls = None
        if isinstance(config, InetServerConfig) and config.certfile is not None:
            try:
                tls = server_context(config)
            except TlsError as exc:
                raise ServerStartError(str(exc)) from None
        # the guard wraps the protocol factory, so it sees every connection before HTTP does
        # (after the TLS handshake, which has the same time bound as a request head)
        server = await asyncio.get_running_loop().create_server(
            guard.wrap(connection),
            sock=listener.sock,
            backlog=BACKLOG,
            ssl=tls,
            ssl_handshake_timeout=config.request_timeout if tls is not None else None,
        )
        return _Running(listener, server, connections)

    def _routes(self) -> Routes:
        routes = Routes()
        for registrar in self._registrars:
            registrar(routes)
        return routes
