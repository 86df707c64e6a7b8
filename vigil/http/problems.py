"""The JSON API's errors: one table from Supervisor's faults to HTTP statuses, and the
``application/problem+json`` body (RFC 9457) that carries the fault's name and code, so a
client can tell ``ALREADY_STARTED`` from ``NOT_RUNNING`` behind the same 409.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from vigil.faults import Faults, RPCError
from vigil.http.messages import Response

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"

FAULT_STATUS: dict[Faults, int] = {
    Faults.UNKNOWN_METHOD: 404,
    Faults.INCORRECT_PARAMETERS: 400,
    Faults.BAD_ARGUMENTS: 400,
    Faults.SIGNATURE_UNSUPPORTED: 400,
    Faults.SHUTDOWN_STATE: 503,
    Faults.BAD_NAME: 404,
    Faults.BAD_SIGNAL: 400,
    Faults.NO_FILE: 404,
    Faults.NOT_EXECUTABLE: 422,
    Faults.FAILED: 422,
    Faults.ABNORMAL_TERMINATION: 422,
    Faults.SPAWN_ERROR: 422,
    Faults.ALREADY_STARTED: 409,
    Faults.NOT_RUNNING: 409,
    Faults.SUCCESS: 200,
    Faults.ALREADY_ADDED: 409,
    Faults.STILL_RUNNING: 409,
    Faults.CANT_REREAD: 422,
    Faults.UNAUTHORIZED: 403,
}


def json_response(value: Any, status: int = 200) -> Response:
    body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(status, body, {"Content-Type": JSON, "Cache-Control": "no-store"})


def problem(status: int, detail: str, **extra: Any) -> Response:
    """A problem that is not a fault (a bad query parameter, an unknown route)."""
    document = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    response = json_response(document, status)
    response.headers["Content-Type"] = PROBLEM_JSON
    return response


def fault_problem(fault: RPCError) -> Response:
    status = FAULT_STATUS[fault.code]
    return problem(
        status,
        fault.text,
        type=f"urn:vigil:fault:{fault.code.name}",
        fault={"name": fault.code.name, "code": int(fault.code)},
    )
