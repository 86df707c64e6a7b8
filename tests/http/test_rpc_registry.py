"""The registry resolves only ``namespace.method`` names of published methods, vets arguments
before calling, and reads signatures from docstring tags as Supervisor does."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.http.support import SampleNamespace, run_supervisor_python, sample_registry
from vigil.faults import Faults, RPCError
from vigil.services.rpc.registry import (
    RpcRegistry,
    argument_check,
    published,
    signature_from_docstring,
)


async def fault_of(registry: RpcRegistry, name: object, *params: object) -> tuple[Faults, str]:
    with pytest.raises(RPCError) as caught:
        await registry.call(name, params)
    return caught.value.code, caught.value.text


@pytest.mark.parametrize(
    "name",
    [
        "sample",  # one part
        "sample.add.real",  # three parts: the CVE-2017-11610 traversal shape
        "sample._hidden",  # leading underscore in the method
        "_sample.add",  # leading underscore in the namespace
        "sample.__init__",
        "sample.__class__",
        "sample.helper",  # an async method that is not published
        "sample.value",  # a plain attribute
        "sample.gate",
        "nosuch.add",
        "sample.nosuch",
        ".add",
        "sample.",
        "",
        "SAMPLE.add",
    ],
)
async def test_names_that_do_not_resolve_are_unknown_methods(name: str) -> None:
    registry, namespace = sample_registry()
    assert await fault_of(registry, name) == (Faults.UNKNOWN_METHOD, "UNKNOWN_METHOD")
    assert namespace.calls == []


async def test_a_method_name_that_is_not_a_string_is_unknown() -> None:
    registry, _ = sample_registry()
    assert (await fault_of(registry, 5))[0] == Faults.UNKNOWN_METHOD


async def test_published_methods_are_called_with_their_arguments() -> None:
    registry, _ = sample_registry()
    assert await registry.call("sample.add", [2, 3]) == 5
    assert await registry.call("sample.greet", ["ann"]) == "hello ann!"
    assert await registry.call("sample.greet", ["ann", False]) == "hello ann"
    assert await registry.call("sample.total", [1, 2, 3, 4]) == 10
    assert await registry.call("sample.total", []) == 0


async def test_an_alias_resolves_to_the_same_method_and_is_listed() -> None:
    registry, _ = sample_registry()
    assert await registry.call("sample.getVersion", []) == "3.0"
    assert await registry.call("sample.getAPIVersion", []) == "3.0"
    assert {"sample.getAPIVersion", "sample.getVersion"} <= set(registry.method_names())
    assert registry.method_help("sample.getVersion") == registry.method_help(
        "sample.getAPIVersion"
    )


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("sample.add", [1]),
        ("sample.add", [1, 2, 3]),
        ("sample.greet", []),
        ("sample.greet", ["a", True, "extra"]),
        ("sample.getAPIVersion", ["unexpected"]),
    ],
)
async def test_wrong_arity_is_incorrect_parameters_without_calling(
    method: str, params: list[object]
) -> None:
    registry, _ = sample_registry()
    assert await fault_of(registry, method, *params) == (
        Faults.INCORRECT_PARAMETERS,
        "INCORRECT_PARAMETERS",
    )


@pytest.mark.parametrize(
    ("method", "params", "text"),
    [
        ("sample.add", [1, "2"], "INCORRECT_PARAMETERS: b must be int, not string"),
        ("sample.add", [True, 2], "INCORRECT_PARAMETERS: a must be int, not boolean"),
        ("sample.add", [None, 2], "INCORRECT_PARAMETERS: a must be int, not nil"),
        ("sample.greet", [5], "INCORRECT_PARAMETERS: name must be string, not int"),
        ("sample.greet", ["a", 1], "INCORRECT_PARAMETERS: excited must be boolean, not int"),
        ("sample.total", [1, 2.5], "INCORRECT_PARAMETERS: numbers must be int, not double"),
    ],
)
async def test_wrong_types_are_incorrect_parameters_naming_the_parameter(
    method: str, params: list[object], text: str
) -> None:
    registry, _ = sample_registry()
    assert await fault_of(registry, method, *params) == (Faults.INCORRECT_PARAMETERS, text)


async def test_a_type_error_inside_a_method_is_not_mistaken_for_bad_arguments() -> None:
    class Buggy:
        @published
        async def broken(self) -> int:
            return len(5)  # type: ignore[arg-type]

    registry = RpcRegistry()
    registry.add_namespace("buggy", Buggy())
    with pytest.raises(TypeError):
        await registry.call("buggy.broken", [])


async def test_a_methods_own_fault_passes_through_unchanged() -> None:
    registry, _ = sample_registry()
    assert await fault_of(registry, "sample.fail", 10, "foo") == (Faults.BAD_NAME, "BAD_NAME: foo")


def test_published_refuses_a_method_that_is_not_async() -> None:
    with pytest.raises(TypeError, match="async def"):

        class NotAsync:
            @published  # type: ignore[type-var]
            def plain(self) -> int:
                return 1


@pytest.mark.parametrize("name", ["", "a.b", "_private", "system"])
def test_bad_or_duplicate_namespace_names_are_refused(name: str) -> None:
    registry, _ = sample_registry()
    with pytest.raises(ValueError, match="namespace"):
        registry.add_namespace(name, SampleNamespace())


def test_a_published_method_with_a_parameter_rpc_cannot_carry_is_refused() -> None:
    class Odd:
        @published
        async def takes_a_set(self, items: set[int]) -> bool:
            return True

    with pytest.raises(TypeError, match=r"odd\.takes_a_set: parameter items"):
        RpcRegistry().add_namespace("odd", Odd())


def test_a_published_method_without_annotations_is_refused() -> None:
    class Untyped:
        @published
        async def loose(self, thing):  # type: ignore[no-untyped-def]
            return thing

    with pytest.raises(TypeError, match="thing has no annotation"):
        RpcRegistry().add_namespace("untyped", Untyped())


def test_a_published_name_with_a_leading_underscore_is_refused() -> None:
    class Sneaky:
        async def visible(self) -> bool:
            return True

        _secret = published(visible)

    with pytest.raises(ValueError, match=r"sneaky\._secret"):
        RpcRegistry().add_namespace("sneaky", Sneaky())


@pytest.mark.parametrize(
    ("hint", "accepted", "refused"),
    [
        (str, ["", "x"], [b"x", 1, None]),
        (int, [0, -(2**31)], [True, 1.0, "1"]),
        (bool, [True, False], [1, 0, "1"]),
        (float, [1.5, 2], [True, "1.5"]),
        (list[str], [[], ["a"]], [["a", 1], ("a",), "a"]),
        (dict[str, int], [{}, {"a": 1}], [{"a": "1"}, []]),
        (str | int, ["a", 1], [None, 1.5]),
        (str | None, ["a", None], [1]),
        (datetime.datetime, [datetime.datetime(2024, 1, 2)], ["20240102T00:00:00"]),
        (Any, [None, 1, "a", [], {}], []),
        (list, [[1, "a"]], [{}]),
    ],
)
def test_argument_checks(hint: object, accepted: list[object], refused: list[object]) -> None:
    check = argument_check(hint)
    for value in accepted:
        assert check.accepts(value), value
    for value in refused:
        assert not check.accepts(value), value


def test_method_help_is_the_docstring_as_written_or_none() -> None:
    registry, _ = sample_registry()
    assert registry.method_help("sample.add") == SampleNamespace.add.__doc__
    assert registry.method_help("sample.nothing") == "None"
    with pytest.raises(RPCError) as caught:
        registry.method_help("sample.helper")
    assert caught.value.code == Faults.SIGNATURE_UNSUPPORTED


def test_method_signature_comes_from_the_docstring_tags() -> None:
    registry, _ = sample_registry()
    assert registry.method_signature("sample.add") == ["int", "int", "int"]
    assert registry.method_signature("sample.greet") == ["string", "string", "boolean"]
    assert registry.method_signature("sample.getAPIVersion") == ["string"]
    for untagged in ("sample.echo", "sample.nothing", "sample.nosuch", "add"):
        with pytest.raises(RPCError) as caught:
            registry.method_signature(untagged)
        assert caught.value.code == Faults.SIGNATURE_UNSUPPORTED


@pytest.mark.parametrize(
    ("doc", "signature"),
    [
        ("@return", [""]),
        ("text\n  @param string name  the name\n  @return boolean", ["boolean", "string"]),
        ("@return int a\n@return string b", ["string"]),
        ("@param int a\n@param\n@return array r", ["array", "int", ""]),
        ("no tags at all", None),
        ("None", None),
        ("  @returns int x", None),
    ],
)
def test_docstring_tag_parsing(doc: str, signature: list[str] | None) -> None:
    assert signature_from_docstring(doc) == signature


def test_docstring_tag_parsing_matches_supervisor_on_its_own_docstrings() -> None:
    script = (
        "import json, supervisor.rpcinterface as r, supervisor.xmlrpc as x\n"
        "ns = r.SupervisorNamespaceRPCInterface\n"
        "docs = [str(getattr(ns, n).__doc__) for n in sorted(vars(ns)) if n[0] != '_']\n"
        "out = []\n"
        "for d in docs:\n"
        "    tags = x.gettags(d)\n"
        "    ret = [t[2] for t in tags if t[1] == 'return']\n"
        "    par = [t[2] for t in tags if t[1] == 'param']\n"
        "    out.append([d, [ret[-1]] + par if ret else None])\n"
        "print(json.dumps(out))\n"
    )
    for doc, expected in run_supervisor_python(script):
        assert signature_from_docstring(doc) == expected, doc
