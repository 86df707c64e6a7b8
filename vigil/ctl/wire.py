"""XML-RPC method calls out and method responses in, for the handful of types supervisord uses.

Written against expat directly rather than ``xmlrpc.client``: that module drags in
``http.client`` and the ``email`` package, which is most of a command's run time.
"""

from __future__ import annotations

from xml.parsers import expat

from vigil.ctl.errors import BadResponse, Fault

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from collections.abc import Callable

# Tags that give their <value> a type; a <value> with none of them holds a plain string.
_TYPED = frozenset(
    {
        "string",
        "int",
        "i4",
        "i8",
        "boolean",
        "double",
        "nil",
        "base64",
        "dateTime.iso8601",
        "array",
        "struct",
    }
)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _encode_value(value: object, out: list[str]) -> None:
    if value is None:
        out.append("<value><nil/></value>")
    elif isinstance(value, bool):
        out.append(f"<value><boolean>{int(value)}</boolean></value>")
    elif isinstance(value, int):
        tag = "int" if -(2**31) <= value < 2**31 else "i8"
        out.append(f"<value><{tag}>{value}</{tag}></value>")
    elif isinstance(value, float):
        out.append(f"<value><double>{value!r}</double></value>")
    elif isinstance(value, str):
        out.append(f"<value><string>{_escape(value)}</string></value>")
    elif isinstance(value, list | tuple):
        out.append("<value><array><data>\n")
        for item in value:
            _encode_value(item, out)
            out.append("\n")
        out.append("</data></array></value>")
    elif isinstance(value, dict):
        out.append("<value><struct>\n")
        for key, item in value.items():
            out.append(f"<member>\n<name>{_escape(str(key))}</name>\n")
            _encode_value(item, out)
            out.append("\n</member>\n")
        out.append("</struct></value>")
    else:
        raise TypeError(f"cannot marshal {type(value).__name__} objects")


def encode_call(method: str, params: tuple[object, ...]) -> bytes:
    """The body of an XML-RPC request calling ``method`` with ``params``."""
    out = ["<?xml version='1.0'?>\n<methodCall>\n", f"<methodName>{_escape(method)}</methodName>\n"]
    out.append("<params>\n")
    for param in params:
        out.append("<param>\n")
        _encode_value(param, out)
        out.append("\n</param>\n")
    out.append("</params>\n</methodCall>\n")
    return "".join(out).encode("utf-8")


class _ResponseReader:
    """Builds Python values from expat events: scalars are pushed on a stack; arrays and
    structs remember where their items start and collect them when they close. (Hot: a
    status of 500 processes is some 30,000 elements, so each handler does little.)"""

    def __init__(self) -> None:
        self.values: list[object] = []
        self.is_fault = False
        self._starts: list[int] = []
        self._typed: list[bool] = []  # one per open <value>: has it a type tag?
        self._text = ""

    def start(self, tag: str, _attrs: dict[str, str]) -> None:
        self._text = ""
        if tag == "value":
            self._typed.append(False)
            return
        if tag in _TYPED and self._typed:
            self._typed[-1] = True
        if tag == "array" or tag == "struct":
            self._starts.append(len(self.values))
        elif tag == "fault":
            self.is_fault = True

    def data(self, text: str) -> None:
        self._text += text

    def end(self, tag: str) -> None:
        convert = _SCALARS.get(tag)
        if convert is not None:
            self.values.append(convert(self._text))
        elif tag == "value":
            if not self._typed.pop():
                self.values.append(self._text)
        elif tag == "array":
            start = self._starts.pop()
            items = self.values[start:]
            del self.values[start:]
            self.values.append(items)
        elif tag == "struct":
            start = self._starts.pop()
            items = self.values[start:]
            del self.values[start:]
            self.values.append(dict(zip(items[::2], items[1::2], strict=True)))
        self._text = ""


def _boolean(text: str) -> bool:
    if text.strip() not in ("0", "1"):
        raise BadResponse(f"bad boolean value {text!r}")
    return text.strip() == "1"


def _base64(text: str) -> bytes:
    import binascii

    return binascii.a2b_base64(text.encode("ascii"))


_SCALARS: dict[str, Callable[[str], object]] = {
    "string": str,
    "name": str,
    "int": int,
    "i4": int,
    "i8": int,
    "boolean": _boolean,
    "double": float,
    "nil": lambda _text: None,
    "base64": _base64,
    "dateTime.iso8601": str,
}


def decode_response(body: bytes) -> object:
    """The value an XML-RPC response carries; raises `Fault` for a fault response."""
    reader = _ResponseReader()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.Parse(body, True)
    if len(reader.values) != 1:
        raise BadResponse("response does not hold exactly one value")
    result = reader.values[0]
    if reader.is_fault:
        if not isinstance(result, dict):
            raise BadResponse("fault response without a struct")
        raise Fault(int(result.get("faultCode", 0)), str(result.get("faultString", "")))
    return result
