"""The ``/RPC2`` endpoint: XML-RPC requests in, registry calls, XML-RPC responses out.

Every path starting with ``/RPC2`` is the endpoint, as in Supervisor. A call that takes time
(``startProcess`` waiting for RUNNING) is an awaited coroutine, so other clients are served
meanwhile; a client that disconnects does not cancel it, because what it asked for (a start,
a stop) must still happen completely.
"""

from __future__ import annotations

import traceback
from http import HTTPStatus

from aiohttp import web

from vigil.config.model import LogLevel
from vigil.core.ports import MainLog
from vigil.faults import RPCError
from vigil.http.server import RouteRegistrar
from vigil.http.xmlrpc import (
    RequestError,
    UnmarshallableResult,
    dump_fault,
    dump_result,
    parse_method_call,
)
from vigil.services.rpc.registry import RpcRegistry

# Far above any real call (a multicall of hundreds of operations is a few hundred KiB), and
# small enough that a hostile client cannot make the daemon buffer much.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

RPC_PATH = "/RPC2"


class _BodyTooLarge(Exception):
    pass


def rpc_routes(
    registry: RpcRegistry, main_log: MainLog, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> RouteRegistrar:
    """The registrar that mounts the XML-RPC endpoint on an application."""
    endpoint = XmlRpcEndpoint(registry, main_log, max_body_bytes)

    def register(app: web.Application) -> None:
        app.router.add_route("*", RPC_PATH + "{tail:.*}", endpoint.handle)

    return register


class XmlRpcEndpoint:
    def __init__(self, registry: RpcRegistry, main_log: MainLog, max_body_bytes: int) -> None:
        self._registry = registry
        self._log = main_log
        self._max_body_bytes = max_body_bytes

    async def handle(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            return _plain_error(400, f"XML-RPC requests are POSTed, not sent with {request.method}")
        try:
            body = await self._read_body(request)
        except _BodyTooLarge:
            response = _plain_error(
                413, f"request body is larger than the limit of {self._max_body_bytes} bytes"
            )
            response.force_close()  # the rest of the body is never read
            return response
        try:
            if not body.strip():
                raise RequestError("empty body")
            call = parse_method_call(body)
        except RequestError as exc:
            self._log.log(LogLevel.ERRO, f"XML-RPC request data is invalid: {exc}")
            return _plain_error(400, f"invalid XML-RPC request: {exc}")
        return await self._respond(call.method, call.params)

    async def _read_body(self, request: web.Request) -> bytes:
        """Read the body, refusing as soon as it is known to be too large: from the declared
        length before reading anything, or while reading a chunked body."""
        declared = request.content_length
        if declared is not None and declared > self._max_body_bytes:
            raise _BodyTooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if size > self._max_body_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    async def _respond(self, method: str, params: tuple[object, ...]) -> web.Response:
        shown = _loggable(method)
        self._log.log(LogLevel.TRAC, f"XML-RPC method called: {shown}()")
        try:
            value = await self._registry.call(method, params)
            body = dump_result(value)
        except RPCError as fault:
            self._log.log(
                LogLevel.TRAC,
                f"XML-RPC method {shown}() returned fault: [{int(fault.code)}] {fault.text}",
            )
            body = dump_fault(fault.code, fault.text)
        except UnmarshallableResult as exc:
            self._log.log(
                LogLevel.CRIT,
                f"XML-RPC method {shown}() returned a value XML-RPC cannot carry: {exc}",
            )
            return _plain_error(500, "the method's result could not be encoded")
        except Exception:
            self._log.log(
                LogLevel.CRIT,
                f"Handling XML-RPC request for {shown}() raised an unexpected exception: "
                f"{traceback.format_exc()}",
            )
            return _plain_error(500, "unexpected error while handling the call")
        else:
            self._log.log(LogLevel.TRAC, f"XML-RPC method {shown}() returned successfully")
        return web.Response(body=body, content_type="text/xml")


def _plain_error(status: int, detail: str) -> web.Response:
    return web.Response(status=status, text=f"{status} {HTTPStatus(status).phrase}: {detail}\n")


def _loggable(method: str) -> str:
    """The method name as it can go into a log line: short, and on one line."""
    if len(method) <= 100 and method.isprintable():
        return method
    return repr(method[:100]) + ("..." if len(method) > 100 else "")
