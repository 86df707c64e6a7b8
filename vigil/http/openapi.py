"""The OpenAPI 3.1 document of the JSON API, served at ``/api/v1/openapi.json``.

Written out rather than generated from the handlers, so it reads as the contract it is; the
contract test (schemathesis against a live daemon) keeps the two from drifting apart.
"""

from __future__ import annotations

import functools
from typing import Any

from vigil import __version__
from vigil.faults import Faults
from vigil.http.problems import FAULT_STATUS

_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_NUMBER = {"type": ["number", "null"]}
_NULLABLE_INTEGER = {"type": ["integer", "null"]}
_STATES = ["STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(properties)
    return schema


SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details; `fault` names the Supervisor fault, if any.",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "fault": _object(
                {
                    "name": {"type": "string", "enum": [fault.name for fault in Faults]},
                    "code": {"type": "integer"},
                }
            ),
        },
        "required": ["type", "title", "status", "detail"],
    },
    "Daemon": _object(
        {
            "implementation": {"type": "string", "const": "vigil"},
            "distribution": {"type": "string"},
            "version": {"type": "string"},
            "supervisor_version": {"type": "string"},
            "api_version": {"type": "string"},
            "identification": {"type": "string"},
            "pid": {"type": "integer"},
            "state": {"type": "string", "enum": ["FATAL", "RUNNING", "RESTARTING", "SHUTDOWN"]},
            "statecode": {"type": "integer"},
            "hostname": {"type": "string"},
            "started_at": {
                "type": "number",
                "description": "Unix time this life of the daemon began (a restart begins one)",
            },
            "access": {
                "type": "string",
                "enum": ["full", "read-only"],
                "description": "what the account asking may do",
            },
        }
    ),
    "Process": _object(
        {
            "name": {"type": "string"},
            "group": {"type": "string"},
            "namespec": {"type": "string", "description": "group:name"},
            "state": {"type": "string", "enum": _STATES},
            "statecode": {"type": "integer"},
            "pid": {**_NULLABLE_INTEGER, "description": "null when there is no child"},
            "description": {"type": "string", "description": "as supervisorctl status shows"},
            "started_at": {**_NULLABLE_NUMBER, "description": "Unix time of the last start"},
            "stopped_at": {**_NULLABLE_NUMBER, "description": "Unix time of the last exit"},
            "taken_at": {"type": "number", "description": "Unix time this record was made"},
            "exit_status": _NULLABLE_INTEGER,
            "spawn_error": _NULLABLE_STRING,
            "restarts": {
                "type": "integer",
                "description": "spawns made by the daemon itself since the last start asked for",
            },
            "next_attempt_at": {
                **_NULLABLE_NUMBER,
                "description": "Unix time the daemon will start it again on its own (BACKOFF, "
                "FATAL with fatal_retry); null when it will not",
            },
            "last_exit": {
                "oneOf": [
                    {"type": "null"},
                    _object(
                        {
                            "code": {"type": "integer"},
                            "signal": _NULLABLE_INTEGER,
                            "expected": {"type": "boolean"},
                        }
                    ),
                ]
            },
            "logs": _object({"stdout": _NULLABLE_STRING, "stderr": _NULLABLE_STRING}),
            "waiting_for": {
                **_NULLABLE_STRING,
                "description": "the dependency a process not started yet waits for: db (ready)",
            },
            "ready": {
                **_NULLABLE_STRING,
                "description": "the readiness probe as configured (ready = ...); "
                "null when up for startsecs is ready",
            },
            "health": {
                "oneOf": [
                    {"type": "null"},
                    _object(
                        {
                            "status": {
                                "type": "string",
                                "enum": ["starting", "healthy", "unhealthy"],
                            },
                            "output": {
                                **_NULLABLE_STRING,
                                "description": "the last check's output",
                            },
                        }
                    ),
                ],
                "description": "null without a healthcheck",
            },
            "notify": {
                "oneOf": [
                    {"type": "null"},
                    _object(
                        {
                            "status": {**_NULLABLE_STRING, "description": "its last STATUS="},
                            "reloading": {
                                "type": "boolean",
                                "description": "it said RELOADING=1 and not READY=1 since",
                            },
                        }
                    ),
                ],
                "description": "what the program said on its NOTIFY_SOCKET; "
                "null unless ready = notify",
            },
        }
    ),
    "Resources": _object(
        {
            "cpu_percent": {
                **_NULLABLE_NUMBER,
                "description": "CPU of the process and its descendants, in percent of one CPU, "
                "since the previous reading (at least 0.5 s before) or since it started",
            },
            "cpu_seconds": {**_NULLABLE_NUMBER, "description": "CPU time of the tree"},
            "rss_bytes": {**_NULLABLE_INTEGER, "description": "resident memory of the tree"},
            "rss_bytes_main": {
                **_NULLABLE_INTEGER,
                "description": "resident memory of the main process alone",
            },
            "open_fds": {**_NULLABLE_INTEGER, "description": "descriptors open in the tree"},
            "processes": {
                "type": "integer",
                "description": "processes in the tree, the main one included; 0 without a child",
            },
        }
    ),
    "ResourceReading": _object(
        {
            "taken_at": {"type": "number", "description": "Unix time of the reading"},
            "processes": {
                "type": "object",
                "description": "by namespec",
                "additionalProperties": _ref("Resources"),
            },
        }
    ),
    "History": _object(
        {
            "namespec": {"type": "string"},
            "changes": {
                "type": "array",
                "description": "the last state changes, oldest first (at most 20)",
                "items": _object(
                    {
                        "at": {"type": "number", "description": "Unix time of the change"},
                        "from": {"type": "string", "enum": _STATES},
                        "to": {"type": "string", "enum": _STATES},
                        "pid": _NULLABLE_INTEGER,
                        "exit": {
                            "oneOf": [
                                {"type": "null"},
                                _object(
                                    {
                                        "code": {"type": "integer"},
                                        "signal": _NULLABLE_INTEGER,
                                        "expected": {"type": "boolean"},
                                    }
                                ),
                            ],
                            "description": "the exit that caused the change, if one did",
                        },
                        "spawn_error": _NULLABLE_STRING,
                        "reason": {**_NULLABLE_STRING, "description": "the cause in words"},
                    }
                ),
            },
        }
    ),
    "Group": _object(
        {"name": {"type": "string"}, "processes": {"type": "array", "items": _ref("Process")}}
    ),
    "Done": {
        "type": "object",
        "properties": {
            "namespec": {"type": "string"},
            "done": {"type": "boolean"},
            "stopped": {"type": "object", "description": "restart: what its stop did"},
            "restarted": {
                "type": "array",
                "items": {"type": "string"},
                "description": "rolling restart: the processes restarted, in order",
            },
            "failed": {
                **_NULLABLE_STRING,
                "description": "rolling restart: the process that did not come back",
            },
            "reason": _NULLABLE_STRING,
            "untouched": {
                "type": "array",
                "items": {"type": "string"},
                "description": "rolling restart: the processes left as they were",
            },
            "results": {
                "type": "array",
                "items": _object(
                    {
                        "namespec": {"type": "string"},
                        "status": {"type": "string"},
                        "done": {"type": "boolean"},
                        "description": {"type": "string"},
                    }
                ),
            },
        },
        "required": ["namespec"],
    },
    "Scaled": _object(
        {
            "group": {"type": "string"},
            "numprocs": {"type": "integer"},
            "done": {"type": "boolean"},
            "failed": {
                **_NULLABLE_STRING,
                "description": "the instance that did not stop or start",
            },
            "added": {"type": "array", "items": {"type": "string"}},
            "removed": {"type": "array", "items": {"type": "string"}},
            "results": {"type": "array", "items": _ref("Step")},
        }
    ),
    "Step": _object(
        {
            "namespec": {"type": "string"},
            "action": {"type": "string", "enum": ["stop", "start", "remove"]},
            "status": {"type": "string"},
            "done": {"type": "boolean"},
            "description": {"type": "string"},
        }
    ),
    "Changes": _object(
        {
            **{
                kind: {"type": "array", "items": {"type": "string"}}
                for kind in ("added", "changed", "removed")
            },
            "update_in_place": {"type": "boolean"},
            "groups": {"type": "array", "items": _ref("GroupChanges")},
        }
    ),
    "GroupChanges": _object(
        {
            "group": {"type": "string"},
            "how": {"type": "string", "enum": ["restart", "rolling", "in place", "reconcile"]},
            **{
                kind: {"type": "array", "items": {"type": "string"}}
                for kind in ("in_place", "restarted", "added", "removed", "group_options")
            },
            "options": {
                "type": "object",
                "additionalProperties": _object(
                    {
                        side: {"type": "array", "items": {"type": "string"}}
                        for side in ("in_place", "restart")
                    }
                ),
            },
        }
    ),
    "Applied": _object(
        {
            "added": {"type": "array", "items": _object({"group": {"type": "string"}})},
            "removed": {"type": "array", "items": _object({"group": {"type": "string"}})},
            "changed": {
                "type": "array",
                "items": {
                    **_object({"group": {"type": "string"}}),
                    "properties": {
                        "group": {"type": "string"},
                        "how": {
                            "type": "string",
                            "enum": ["restart", "rolling", "in place", "reconcile"],
                        },
                        "done": {"type": "boolean"},
                        "failed": _NULLABLE_STRING,
                        "reason": _NULLABLE_STRING,
                        "results": {"type": "array", "items": _ref("Step")},
                    },
                },
            },
        }
    ),
}

_NAMESPEC = {
    "name": "namespec",
    "in": "path",
    "required": True,
    "description": "`name`, `group:name`; for actions also `group:*` and `all`",
    "schema": {"type": "string", "minLength": 1},
}
_CHANNEL = {
    "name": "channel",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": ["stdout", "stderr"]},
}
_WITH_RESOURCES = {
    "name": "resources",
    "in": "query",
    "description": "false leaves out each process's resources (no figures are read)",
    "schema": {"type": "string", "enum": ["true", "false"]},
}
_SPAN = [
    {
        "name": "offset",
        "in": "query",
        "description": "where to start; negative counts from the end (default -65536)",
        "schema": {"type": "integer"},
    },
    {
        "name": "length",
        "in": "query",
        "description": "how many bytes; 0 for up to the end",
        "schema": {"type": "integer", "minimum": 0},
    },
]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


# Answered by the HTTP server itself, before the API sees the request: in plain text.
_PLAIN_STATUSES = {401, 413}


def _answers(ok: dict[str, Any], *faults: Faults, extra: tuple[int, ...] = ()) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "OK", **ok}}
    problem = {"content": {"application/problem+json": {"schema": _ref("Problem")}}}
    plain = {"content": {"text/plain": {"schema": {"type": "string"}}}}
    for status in sorted({FAULT_STATUS[f] for f in faults} | set(extra) | {401, 503}):
        body = plain if status in _PLAIN_STATUSES else problem
        responses[str(status)] = {"description": "a problem", **body}
    return responses


_TEXT = {"content": {"text/plain": {"schema": {"type": "string"}}}}
_ACTION_FAULTS = tuple(f for f in Faults if f is not Faults.SUCCESS)


def _operation(summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": responses, **more}


def _action_operation(action_body: dict[str, Any]) -> dict[str, Any]:
    return _operation(
        "Start, stop, restart or signal processes, write to one's stdin, clear or reopen logs",
        _answers(_json(_ref("Done")), *_ACTION_FAULTS, extra=(400, 404, 413)),
        parameters=[
            _NAMESPEC,
            {
                "name": "action",
                "in": "path",
                "required": True,
                "schema": {
                    "type": "string",
                    "enum": ["start", "stop", "restart", "signal", "stdin", "clear", "reopen"],
                },
            },
        ],
        requestBody={"required": False, **_json(action_body)},
    )


def _process_paths(action_body: dict[str, Any]) -> dict[str, Any]:
    """The routes under /processes."""
    return {
        "/processes": {
            "get": _operation(
                "Every process",
                _answers(_json({"type": "array", "items": _ref("Process")}), extra=(400,)),
                parameters=[_WITH_RESOURCES],
            )
        },
        "/processes/{namespec}": {
            "get": _operation(
                "One process",
                _answers(_json(_ref("Process")), Faults.BAD_NAME, extra=(400,)),
                parameters=[_NAMESPEC, _WITH_RESOURCES],
            )
        },
        "/processes/{namespec}/{action}": {"post": _action_operation(action_body)},
        "/processes/{namespec}/history": {
            "get": _operation(
                "A process's last state changes and their causes",
                _answers(_json(_ref("History")), Faults.BAD_NAME),
                parameters=[_NAMESPEC],
            )
        },
        "/processes/{namespec}/log/{channel}": {
            "get": _operation(
                "Read a process's log",
                _answers(_TEXT, Faults.BAD_NAME, Faults.NO_FILE, Faults.FAILED, extra=(400,)),
                parameters=[
                    _NAMESPEC,
                    _CHANNEL,
                    *_SPAN,
                ],
            )
        },
        "/processes/{namespec}/log/{channel}/stream": {
            "get": _operation(
                "Server-Sent Events: a process's (or a group's, or all) output line by line",
                {
                    **_answers({}, Faults.BAD_NAME, extra=(400,)),
                    "200": {"description": "an event stream", "content": {"text/event-stream": {}}},
                },
                parameters=[
                    _NAMESPEC,
                    _CHANNEL,
                    {
                        "name": "lines",
                        "in": "query",
                        "description": "how many of the last lines to send first (default 10)",
                        "schema": {"type": "integer", "minimum": 0, "maximum": 10000},
                    },
                ],
            )
        },
    }


def _daemon_paths() -> dict[str, Any]:
    """The routes about the daemon, its logs, its configuration and its streams."""
    return {
        "/daemon": {"get": _operation("The daemon", _answers(_json(_ref("Daemon"))))},
        "/groups": {
            "get": _operation(
                "Every group",
                _answers(_json({"type": "array", "items": _ref("Group")}), extra=(400,)),
                parameters=[_WITH_RESOURCES],
            )
        },
        "/groups/{name}/scale": {
            "post": _operation(
                "Run another number of instances of a numprocs program",
                _answers(
                    _json(_ref("Scaled")),
                    Faults.BAD_NAME,
                    Faults.BAD_ARGUMENTS,
                    Faults.FAILED,
                    Faults.CANT_REREAD,
                    Faults.UNAUTHORIZED,
                    extra=(400, 413),
                ),
                parameters=[
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                requestBody={
                    "required": True,
                    **_json(
                        _object({"numprocs": {"type": "integer", "minimum": 1, "maximum": 10000}})
                    ),
                },
            )
        },
        "/resources": {
            "get": _operation(
                "Every process's CPU, memory and descriptors, read now",
                _answers(_json(_ref("ResourceReading"))),
            )
        },
        "/log": {
            "get": _operation(
                "Read the main log",
                _answers(_TEXT, Faults.NO_FILE, Faults.FAILED, extra=(400,)),
                parameters=_SPAN,
            )
        },
        "/config/diff": {
            "get": _operation(
                "What `update` would change",
                _answers(_json(_ref("Changes")), Faults.CANT_REREAD),
            )
        },
        "/config/apply": {
            "post": _operation(
                "Reread the configuration and apply it (`update`)",
                _answers(_json(_ref("Applied")), *_ACTION_FAULTS),
            )
        },
        "/events": {
            "get": _operation(
                "Server-Sent Events: every state change, typed JSON; resumes with Last-Event-ID",
                {
                    **_answers({}, Faults.BAD_NAME, extra=(400,)),
                    "200": {"description": "an event stream", "content": {"text/event-stream": {}}},
                },
                parameters=[
                    *(
                        {"name": name, "in": "query", "schema": {"type": "string"}}
                        for name in ("process", "group", "last_event_id")
                    ),
                ],
            )
        },
        "/openapi.json": {
            "get": _operation("This document", {"200": {"description": "OK", **_json({})}})
        },
    }


@functools.cache
def openapi_document() -> dict[str, Any]:
    action_body = _object(
        {
            "wait": {"type": "boolean", "description": "start/stop/restart: wait for the end"},
            "signal": {"type": ["string", "integer"], "description": "signal: HUP, SIGHUP or 1"},
            "data": {"type": "string", "description": "stdin: the text to write"},
            "rolling": {
                "type": "boolean",
                "description": "restart: one batch at a time, the next once it is back",
            },
            "batch": {"type": "integer", "description": "rolling restart: processes at a time"},
            "pause": {"type": "number", "description": "rolling restart: seconds between"},
        },
        required=False,
    )
    paths = {**_process_paths(action_body), **_daemon_paths()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "vigil", "version": __version__},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}},
        },
        "security": [{}, {"basic": []}],
    }


# present unless ?resources=false: a member of Process, not a required one
SCHEMAS["Process"]["properties"]["resources"] = _ref("Resources")
