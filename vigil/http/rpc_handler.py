"""The ``/RPC2`` endpoint: XML-RPC requests in, registry calls, XML-RPC responses out.

Every path starting with ``/RPC2`` is the endpoint, as in Supervisor. A call that takes time
(``startProcess`` waiting for RUNNING) is an awaited coroutine, so other clients are served
meanwhile; a client that disconnects does not cancel it, because what it asked for (a start,
a stop) must still happen completely.
"""

from __future__ import annotations

import traceback

from vigil.config.model import LogLevel
from vigil.core.ports import MainLog
from vigil.faults import RPCError
from vigil.http.messages import Request, Response, plain_error
from vigil.http.routing import RouteRegistrar, Routes
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


def rpc_routes(
    registry: RpcRegistry, main_log: MainLog, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> RouteRegistrar:
    """The registrar that mounts the XML-RPC endpoint on an application."""
    endpoint = XmlRpcEndpoint(registry, main_log, max_body_bytes)

    def register(routes: Routes) -> None:
        routes.add(RPC_PATH + "*", endpoint.handle)

    return register


class XmlRpcEndpoint:
    def __init__(self, registry: RpcRegistry, main_log: MainLog, max_body_bytes: int) -> None:
        self._registry = registry
        self._log = main_log
        self._max_body_bytes = max_body_bytes

    async def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return plain_error(400, f"XML-RPC requests are POSTed, not sent with {request.method}")
        body = await request.read(self._max_body_bytes)  # BodyTooLarge: answered 413
        try:
            if not body.strip():
                raise RequestError("empty body")
            call = parse_method_call(body)
        except RequestError as exc:
            self._log.log(LogLevel.ERRO, f"XML-RPC request data is invalid: {exc}")
            return plain_error(400, f"invalid XML-RPC request: {exc}")
        return await self._respond(call.method, call.params)

    async def _respond(self, method: str, params: tuple[object, ...]) -> Response:
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
            return plain_error(500, "the method's result could not be encoded")
        except Exception:
            self._log.log(
                LogLevel.CRIT,
                f"Handling XML-RPC request for {shown}() raised an unexpected exception: "
                f"{traceback.format_exc()}",
            )
            return plain_error(500, "unexpected error while handling the call")
        else:
            self._log.log(LogLevel.TRAC, f"XML-RPC method {shown}() returned successfully")
        return Response(200, body, {"Content-Type": "text/xml"})


def _loggable(method: str) -> str:
    """The method name as it can go into a log line: short, and on one line."""
    if len(method) <= 100 and method.isprintable():
        return method
    return repr(method[:100]) + ("..." if len(method) > 100 else "")
