"""``system.*``: introspection answers and multicall semantics as Supervisor 4.3.0 has them."""

from __future__ import annotations

import asyncio

import pytest

from tests.http.support import DEADLINE, run_supervisor_python, sample_registry
from vigil.faults import Faults, RPCError

SYSTEM_METHODS = ["listMethods", "methodHelp", "methodSignature", "multicall"]


async def test_list_methods_is_every_published_name_sorted() -> None:
    registry, _ = sample_registry()
    names = await registry.call("system.listMethods", [])
    assert names == sorted(names)
    assert [name for name in names if name.startswith("system.")] == [
        f"system.{method}" for method in SYSTEM_METHODS
    ]
    assert "sample.add" in names and "sample.getVersion" in names
    assert not {"sample.helper", "sample._hidden", "sample.value"} & set(names)


async def test_system_help_and_signatures_are_supervisors() -> None:
    script = (
        "import json\n"
        "from supervisor.xmlrpc import SystemNamespaceRPCInterface as S\n"
        "s = S([])\n"
        f"names = ['system.' + n for n in {SYSTEM_METHODS!r}]\n"
        "print(json.dumps({n: [s.methodHelp(n), s.methodSignature(n)] for n in names}))\n"
    )
    expected = run_supervisor_python(script)
    registry, _ = sample_registry()
    for name, (help_text, signature) in expected.items():
        assert await registry.call("system.methodHelp", [name]) == help_text
        assert await registry.call("system.methodSignature", [name]) == signature


async def test_method_help_and_signature_of_unknown_names_are_signature_unsupported() -> None:
    registry, _ = sample_registry()
    for method in ("system.methodHelp", "system.methodSignature"):
        with pytest.raises(RPCError) as caught:
            await registry.call(method, ["sample.nosuch"])
        assert caught.value.text == "SIGNATURE_UNSUPPORTED"


async def test_multicall_appends_results_raw_and_faults_as_structs() -> None:
    registry, _ = sample_registry()
    results = await registry.call(
        "system.multicall",
        [
            [
                {"methodName": "sample.add", "params": [1, 2]},
                {"methodName": "sample.getAPIVersion"},  # params default to none
                {"methodName": "sample.total", "params": [[1]]},
                {"methodName": "nosuch.method", "params": []},
                {"methodName": "sample.fail", "params": [10, "foo"]},
                {"methodName": "sample.add", "params": [1]},
                {"methodName": "system.listMethods", "params": []},
            ]
        ],
    )
    assert results[:2] == [3, "3.0"]
    assert results[2] == {
        "faultCode": 2,
        "faultString": "INCORRECT_PARAMETERS: numbers must be int, not array",
    }
    assert results[3] == {"faultCode": 1, "faultString": "UNKNOWN_METHOD"}
    assert results[4] == {"faultCode": 10, "faultString": "BAD_NAME: foo"}
    assert results[5] == {"faultCode": 2, "faultString": "INCORRECT_PARAMETERS"}
    assert "system.multicall" in results[6]
    assert all(type(entry["faultCode"]) is int for entry in results[2:6])


async def test_multicall_reports_other_exceptions_as_failed_like_supervisor() -> None:
    registry, _ = sample_registry()
    results = await registry.call(
        "system.multicall", [[{"methodName": "sample.crash", "params": ["x"]}]]
    )
    assert results == [
        {"faultCode": 30, "faultString": "FAILED: <class 'RuntimeError'>:kaboom"}
    ]


async def test_multicall_refuses_calls_without_name_recursion_and_malformed_entries() -> None:
    registry, namespace = sample_registry()
    results = await registry.call(
        "system.multicall",
        [
            [
                {"params": [1, 2]},
                {"methodName": "system.multicall", "params": [[]]},
                "sample.add",
                {"methodName": "sample.record", "params": "ab"},
                {"methodName": "sample.record", "params": ["ok"]},
            ]
        ],
    )
    assert results == [
        {"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: No methodName"},
        {
            "faultCode": 2,
            "faultString": "INCORRECT_PARAMETERS: Recursive system.multicall forbidden",
        },
        {"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: Each call must be a struct"},
        {"faultCode": 2, "faultString": "INCORRECT_PARAMETERS"},
        "ok",
    ]
    assert namespace.calls == ["ok"]


async def test_multicall_needs_an_array() -> None:
    registry, _ = sample_registry()
    with pytest.raises(RPCError) as caught:
        await registry.call("system.multicall", ["sample.add"])
    assert caught.value.code == Faults.INCORRECT_PARAMETERS


async def test_multicall_runs_calls_one_after_another_each_to_its_end() -> None:
    registry, namespace = sample_registry()
    batch = asyncio.create_task(
        registry.call(
            "system.multicall",
            [
                [
                    {"methodName": "sample.slow", "params": ["a"]},
                    {"methodName": "sample.record", "params": ["b"]},
                ]
            ],
        )
    )
    await asyncio.wait_for(namespace.waiting.wait(), DEADLINE)
    assert namespace.calls == ["start a"]  # the second call waits for the first to finish
    namespace.gate.set()
    assert await asyncio.wait_for(batch, DEADLINE) == ["a", "b"]
    assert namespace.calls == ["start a", "end a", "b"]
