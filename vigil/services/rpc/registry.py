"""The RPC registry: the one table every wire (XML-RPC, JSON, web UI, ctl) resolves names in.

Only methods marked with ``@published`` can be reached, and a name resolves only when it is
exactly ``namespace.method`` with no part starting with an underscore. Resolution is a lookup
in a table built at registration, never attribute traversal, so the object-traversal class of
attacks (CVE-2017-11610) has nothing to walk.
"""

from __future__ import annotations

import datetime
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from vigil.faults import Faults, RPCError

_PUBLISHED_MARK = "__vigil_published__"

# Whether the request being served came from a read-only account (``readonly_username``).
# Set by the HTTP server for each request, read at the one place every wire's calls pass
# through, so no interface (XML-RPC, a multicall's inner calls, JSON, the web page) can act
# for a read-only account by forgetting to check.
READ_ONLY_CALLER: ContextVar[bool] = ContextVar("read_only_caller", default=False)
# What a read-only account may call: the reads of every namespace, and introspection.
_READ_PREFIXES = ("get", "read", "tail", "list")
_READ_METHODS = frozenset({"system.methodHelp", "system.methodSignature", "system.multicall"})
UNRESOLVED = "unknown"  # the method label of calls to a name that is not a method


def reads_only(name: str) -> bool:
    """Whether a method only reads (a multicall's calls are each checked when made)."""
    return name in _READ_METHODS or name.partition(".")[2].startswith(_READ_PREFIXES)


AsyncMethod = TypeVar("AsyncMethod", bound=Callable[..., Awaitable[Any]])


def published(method: AsyncMethod) -> AsyncMethod:
    """Mark an ``async def`` method as callable over RPC.

    Publishing is opt-in so a helper added to a namespace class can never become remotely
    callable by accident. An alias is a second class attribute bound to the same function
    (``getVersion = getAPIVersion``): it is published under both names, as Supervisor does.
    """
    candidate: object = method  # checked as an object so the TypeVar keeps its type
    if not inspect.iscoroutinefunction(candidate):
        raise TypeError(f"@published needs an 'async def' method, not {method!r}")
    setattr(method, _PUBLISHED_MARK, True)
    return method


@dataclass(frozen=True)
class ArgumentCheck:
    """Whether a decoded XML-RPC value fits an annotation, and how to say what was expected."""

    accepts: Callable[[object], bool]
    description: str


_WIRE_NAMES: dict[type, str] = {
    bool: "boolean",
    int: "int",
    float: "double",
    str: "string",
    bytes: "base64",
    datetime.datetime: "dateTime.iso8601",
    list: "array",
    dict: "struct",
    type(None): "nil",
}


def wire_type_name(value: object) -> str:
    return _WIRE_NAMES.get(type(value), type(value).__name__)


def argument_check(hint: object) -> ArgumentCheck:
    """Turn a parameter annotation into a check of decoded wire values.

    Only what XML-RPC can carry is accepted, so an annotation no client could satisfy fails at
    registration instead of turning every call into INCORRECT_PARAMETERS.
    """
    if hint is Any or hint is object:
        return ArgumentCheck(lambda value: True, "any value")
    if hint is None or hint is type(None):
        return ArgumentCheck(lambda value: value is None, "nil")
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        choices = [argument_check(member) for member in typing.get_args(hint)]
        return ArgumentCheck(
            lambda value: any(choice.accepts(value) for choice in choices),
            " or ".join(choice.description for choice in choices),
        )
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        item_check = argument_check(item)
        return ArgumentCheck(
            lambda value: isinstance(value, list) and all(map(item_check.accepts, value)),
            f"array of {item_check.description}",
        )
    if origin is dict:
        key, item = typing.get_args(hint) or (str, Any)
        if key is not str:
            raise TypeError(f"struct keys are strings, so {hint} cannot be received")
        item_check = argument_check(item)
        return ArgumentCheck(
            lambda value: isinstance(value, dict) and all(map(item_check.accepts, value.values())),
            f"struct of {item_check.description}",
        )
    return _plain_check(hint)


def _plain_check(hint: object) -> ArgumentCheck:
    if hint is int:
        # bool is an int subclass in Python, but <boolean> is not an <int> on the wire
        return ArgumentCheck(lambda v: isinstance(v, int) and not isinstance(v, bool), "int")
    if hint is float:
        return ArgumentCheck(
            lambda v: isinstance(v, float | int) and not isinstance(v, bool), "double"
        )
    if isinstance(hint, type) and hint in _WIRE_NAMES:
        wanted = hint
        return ArgumentCheck(lambda v: isinstance(v, wanted), _WIRE_NAMES[hint])
    raise TypeError(f"annotation {hint!r} is not a type XML-RPC can carry")


@dataclass(frozen=True)
class Parameter:
    name: str
    check: ArgumentCheck
    required: bool


@dataclass(frozen=True)
class PublishedMethod:
    """One resolvable name with what is needed to vet a call before making it."""

    name: str
    function: Callable[..., Awaitable[Any]]
    doc: str | None
    parameters: tuple[Parameter, ...]
    rest: Parameter | None  # the ``*args`` parameter, if the method has one

    def check_arguments(self, params: Sequence[object]) -> None:
        """Refuse a call the method could not accept, before it runs.

        Checking here rather than catching TypeError around the call means a TypeError raised
        by a bug inside the method is reported as the bug it is, not as the caller's fault.
        """
        required = sum(1 for parameter in self.parameters if parameter.required)
        too_many = self.rest is None and len(params) > len(self.parameters)
        if len(params) < required or too_many:
            raise RPCError(Faults.INCORRECT_PARAMETERS)
        for index, value in enumerate(params):
            parameter = self.parameters[index] if index < len(self.parameters) else self.rest
            assert parameter is not None
            if not parameter.check.accepts(value):
                raise RPCError(
                    Faults.INCORRECT_PARAMETERS,
                    f"{parameter.name} must be {parameter.check.description}, "
                    f"not {wire_type_name(value)}",
                )


class RpcRegistry:
    """Namespaces of published methods, addressed as ``namespace.method``."""

    def __init__(self) -> None:
        self._methods: dict[str, PublishedMethod] = {}
        self._namespaces: set[str] = set()
        # calls made, by (method, outcome): SUCCESS or the fault's name; a name that resolves
        # to no method is counted as UNRESOLVED, so a caller cannot grow the table
        self.outcomes: dict[tuple[str, str], int] = {}

    def add_namespace(self, name: str, namespace: object) -> None:
        """Publish every ``@published`` method of ``namespace`` under ``name``.

        Bad names are programming errors, so they fail loudly here at startup rather than
        becoming unreachable methods later.
        """
        if not name or "." in name or name.startswith("_"):
            raise ValueError(f"invalid RPC namespace name {name!r}")
        if name in self._namespaces:
            raise ValueError(f"RPC namespace {name!r} is already registered")
        found: dict[str, PublishedMethod] = {}
        for attribute in dir(type(namespace)):
            raw = inspect.getattr_static(type(namespace), attribute)
            if not getattr(raw, _PUBLISHED_MARK, False):
                continue
            if attribute.startswith("_") or "." in attribute:
                raise ValueError(f"published method name {name}.{attribute} is not allowed")
            full_name = f"{name}.{attribute}"
            found[full_name] = _describe(full_name, getattr(namespace, attribute))
        self._namespaces.add(name)
        self._methods.update(found)

    def method_names(self) -> list[str]:
        return sorted(self._methods)

    def resolve(self, name: object) -> PublishedMethod:
        if not isinstance(name, str):
            raise RPCError(Faults.UNKNOWN_METHOD)
        parts = name.split(".")
        if len(parts) != 2 or any(part.startswith("_") or not part for part in parts):
            raise RPCError(Faults.UNKNOWN_METHOD)
        method = self._methods.get(name)
        if method is None:
            raise RPCError(Faults.UNKNOWN_METHOD)
        return method

    async def call(self, name: object, params: Sequence[object]) -> Any:
        """Resolve, vet and await one call; the method's own RPCError passes through. A
        caller that may only read is refused anything else (UNAUTHORIZED)."""
        try:
            method = self.resolve(name)
        except RPCError as fault:
            self._count(UNRESOLVED, fault.code.name)
            raise
        try:
            if READ_ONLY_CALLER.get() and not reads_only(method.name):
                raise RPCError(Faults.UNAUTHORIZED, f"{method.name}: this account may only read")
            method.check_arguments(params)
            value = await method.function(*params)
        except RPCError as fault:
            self._count(method.name, fault.code.name)
            raise
        except Exception:
            self._count(method.name, "ERROR")
            raise
        self._count(method.name, "SUCCESS")
        return value

    def _count(self, method: str, outcome: str) -> None:
        key = (method, outcome)
        self.outcomes[key] = self.outcomes.get(key, 0) + 1

    def method_help(self, name: str) -> str:
        """The docstring as written; ``'None'`` when there is none, as Supervisor answers."""
        method = self._methods.get(name)
        if method is None:
            raise RPCError(Faults.SIGNATURE_UNSUPPORTED)
        return str(method.doc)

    def method_signature(self, name: str) -> list[str]:
        method = self._methods.get(name)
        if method is None:
            raise RPCError(Faults.SIGNATURE_UNSUPPORTED)
        signature = signature_from_docstring(str(method.doc))
        if signature is None:
            raise RPCError(Faults.SIGNATURE_UNSUPPORTED)
        return signature


def signature_from_docstring(doc: str) -> list[str] | None:
    """``[return type, parameter types...]`` from ``@return``/``@param`` tags.

    The docstring is the published contract (``@param string name``), so methodSignature reads
    it rather than the annotations, giving the same answers as Supervisor. ``None`` means no
    ``@return`` tag; a tag without a type contributes ``''``, and the last ``@return`` wins.
    """
    return_type: str | None = None
    parameter_types: list[str] = []
    for line in doc.split("\n"):
        words = line.strip().split(None, 3)
        if not words or not words[0].startswith("@"):
            continue
        datatype = words[1] if len(words) > 1 else ""
        if words[0] == "@return":
            return_type = datatype
        elif words[0] == "@param":
            parameter_types.append(datatype)
    if return_type is None:
        return None
    return [return_type, *parameter_types]


def _describe(full_name: str, bound: Callable[..., Awaitable[Any]]) -> PublishedMethod:
    """Read the positional parameters and their annotations once, at registration."""
    try:
        hints = typing.get_type_hints(bound)
    except Exception as exc:
        raise TypeError(f"cannot read the annotations of {full_name}: {exc}") from exc
    parameters: list[Parameter] = []
    rest: Parameter | None = None
    for parameter in inspect.signature(bound).parameters.values():
        kind = parameter.kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            continue
        if kind is inspect.Parameter.KEYWORD_ONLY:
            if parameter.default is inspect.Parameter.empty:
                raise TypeError(
                    f"{full_name}: keyword-only parameter {parameter.name} "
                    "cannot be passed over RPC and has no default"
                )
            continue
        if parameter.name not in hints:
            raise TypeError(f"{full_name}: parameter {parameter.name} has no annotation")
        try:
            check = argument_check(hints[parameter.name])
        except TypeError as exc:
            raise TypeError(f"{full_name}: parameter {parameter.name}: {exc}") from exc
        if kind is inspect.Parameter.VAR_POSITIONAL:
            rest = Parameter(parameter.name, check, required=False)
        else:
            required = parameter.default is inspect.Parameter.empty
            parameters.append(Parameter(parameter.name, check, required))
    return PublishedMethod(
        name=full_name,
        function=bound,
        doc=bound.__doc__,
        parameters=tuple(parameters),
        rest=rest,
    )
