"""XML-RPC on the wire: decoding ``<methodCall>`` bodies and encoding responses and faults.

Requests accept what Supervisor 4.3.0 accepts (int/i4, boolean, string, double,
dateTime.iso8601, base64, array, struct, and an untyped ``<value>`` as a string) but parse
untrusted bytes with defusedxml: no DTD, so no entity expansion and no external entities.
Malformed input is a ``RequestError`` (HTTP 400) that says what was wrong and where.

Responses are produced by the standard library's ``xmlrpc.client.dumps``, as Supervisor's are,
so the bytes are the same and every client that reads Supervisor reads us.
"""

from __future__ import annotations

import binascii
import datetime
import math
import re
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

import defusedxml
import defusedxml.ElementTree as defused_tree

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1

# Elements nested deeper than this are refused while parsing: a legitimate call (even a
# multicall of structs of arrays) stays far below it, and the limit keeps the recursive
# decoding below bounded whatever the body holds.
MAX_DEPTH = 64

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DOUBLE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class RequestError(Exception):
    """The request body is not an XML-RPC call we accept; the message says why and where."""


class UnmarshallableResult(Exception):
    """A method returned something XML-RPC cannot carry (None, an int beyond 32 bits...)."""


@dataclass(frozen=True)
class MethodCall:
    method: str
    params: tuple[object, ...]


def parse_method_call(body: bytes) -> MethodCall:
    root = _parse_document(body)
    if root.tag != "methodCall":
        raise RequestError(f"the document element is <{root.tag}>, not <methodCall>")
    method: str | None = None
    params: tuple[object, ...] = ()
    for child in root:
        if child.tag == "methodName":
            _expect_leaf(child, "<methodName>")
            method = child.text or ""
        elif child.tag == "params":
            params = tuple(_param(param, index) for index, param in enumerate(child, 1))
        else:
            raise RequestError(f"unexpected <{child.tag}> in <methodCall>")
    if not method:
        raise RequestError("no method name")
    return MethodCall(method, params)


def dump_result(value: object) -> bytes:
    params: tuple[Any, ...] = (value,)
    try:
        return xmlrpc.client.dumps(params, methodresponse=True).encode("utf-8")
    except (TypeError, OverflowError, ValueError, RecursionError) as exc:
        raise UnmarshallableResult(str(exc)) from exc


def dump_fault(code: int, text: str) -> bytes:
    try:
        return xmlrpc.client.dumps(xmlrpc.client.Fault(int(code), text)).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise UnmarshallableResult(str(exc)) from exc


class _DepthLimitedBuilder(TreeBuilder):
    """Builds the tree while counting depth, so a hostile body is refused before it is
    fully built. (A parser target rather than iterparse: iterparse defines a new class on
    every call, a measurable cost per request.)"""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise RequestError(f"elements are nested more than {MAX_DEPTH} deep")
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        self._depth -= 1
        return super().end(tag)


def _parse_document(body: bytes) -> Element:
    try:
        parser = defused_tree.DefusedXMLParser(target=_DepthLimitedBuilder(), forbid_dtd=True)
        parser.feed(body)
        root: Element = parser.close()
    except defusedxml.DTDForbidden:
        raise RequestError("a document type declaration (DTD) is not allowed") from None
    except defusedxml.EntitiesForbidden:
        raise RequestError("entity declarations are not allowed") from None
    except defusedxml.DefusedXmlException as exc:
        raise RequestError(f"forbidden XML construct: {exc}") from None
    except ParseError as exc:
        raise RequestError(f"not well-formed XML: {exc}") from None
    except (LookupError, ValueError) as exc:  # unknown or multi-byte declared encoding
        raise RequestError(f"unsupported encoding: {exc}") from None
    return root


def _param(element: Element, index: int) -> object:
    where = f"param {index}"
    if element.tag != "param":
        raise RequestError(f"unexpected <{element.tag}> in <params>")
    children = list(element)
    if len(children) != 1 or children[0].tag != "value":
        raise RequestError(f"{where}: <param> must hold exactly one <value>")
    return _value(children[0], where)


def _value(element: Element, where: str) -> object:
    children = list(element)
    if not children:
        return element.text or ""  # untyped: a string
    if len(children) > 1:
        raise RequestError(f"{where}: <value> holds more than one element")
    typed = children[0]
    if typed.tag == "array":
        return _array(typed, where)
    if typed.tag == "struct":
        return _struct(typed, where)
    _expect_leaf(typed, f"{where}: <{typed.tag}>")
    decode = _SCALARS.get(typed.tag)
    if decode is None:
        # Supervisor hands any other element's text through: <nil/> is None, <i8>5</i8> is '5'.
        return typed.text
    return decode(typed.text or "", where)


def _array(element: Element, where: str) -> list[object]:
    children = list(element)
    if len(children) != 1 or children[0].tag != "data":
        raise RequestError(f"{where}: <array> must hold exactly one <data>")
    items: list[object] = []
    for index, item in enumerate(children[0], 1):
        if item.tag != "value":
            raise RequestError(f"{where}: unexpected <{item.tag}> in <data>")
        items.append(_value(item, f"{where}, array item {index}"))
    return items


def _struct(element: Element, where: str) -> dict[str, object]:
    members: dict[str, object] = {}
    for member in element:
        if member.tag != "member":
            raise RequestError(f"{where}: unexpected <{member.tag}> in <struct>")
        parts = {child.tag: child for child in member}
        if len(member) != 2 or set(parts) != {"name", "value"}:
            raise RequestError(f"{where}: <member> must hold one <name> and one <value>")
        _expect_leaf(parts["name"], f"{where}: <name>")
        name = parts["name"].text or ""
        members[name] = _value(parts["value"], f"{where}, member {name!r}")
    return members


def _expect_leaf(element: Element, what: str) -> None:
    if len(element):
        raise RequestError(f"{what} may not contain elements")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _int(text: str, where: str) -> int:
    digits = text.strip()
    if not _INTEGER.fullmatch(digits):
        raise RequestError(f"{where}: {_shown(text)} is not an integer")
    # Length first: converting thousands of digits is slow, and Python refuses past 4300.
    too_long = len(digits.lstrip("+-").lstrip("0")) > len(str(INT_MAX))
    if too_long or not INT_MIN <= int(digits) <= INT_MAX:
        raise RequestError(f"{where}: {_shown(digits)} is outside the 32-bit range of <int>")
    return int(digits)


def _boolean(text: str, where: str) -> bool:
    flag = text.strip()
    if flag not in ("0", "1"):
        raise RequestError(f"{where}: <boolean> must be 0 or 1, not {_shown(text)}")
    return flag == "1"


def _string(text: str, where: str) -> str:
    return text


def _double(text: str, where: str) -> float:
    if not _DOUBLE.fullmatch(text.strip()) or not math.isfinite(number := float(text)):
        raise RequestError(f"{where}: {_shown(text)} is not a finite <double>")
    return number


def _datetime(text: str, where: str) -> datetime.datetime:
    try:
        return datetime.datetime.strptime(text.strip(), "%Y%m%dT%H:%M:%S")
    except ValueError:
        raise RequestError(
            f"{where}: {_shown(text)} is not a <dateTime.iso8601> (YYYYMMDDTHH:MM:SS)"
        ) from None


def _base64(text: str, where: str) -> str:
    """Decoded to text, as Supervisor does, since every method that takes data takes a str."""
    try:
        return binascii.a2b_base64(text.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError):
        raise RequestError(f"{where}: <base64> is not base64 of UTF-8 text") from None


_SCALARS: dict[str, Callable[[str, str], object]] = {
    "int": _int,
    "i4": _int,
    "boolean": _boolean,
    "string": _string,
    "double": _double,
    "dateTime.iso8601": _datetime,
    "base64": _base64,
}
