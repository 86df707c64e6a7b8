"""The XML-RPC codec: requests decode as Supervisor decodes them (checked against its own
unmarshaller), hostile or malformed bodies are refused with a reason, and responses are the
same bytes Supervisor sends."""

from __future__ import annotations

import base64
import datetime
import json
import xmlrpc.client
from typing import Any

import pytest

from tests.http.support import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    PLAIN_DTD,
    params_body,
    run_supervisor_python,
)
from vigil.http.xmlrpc import (
    MethodCall,
    RequestError,
    UnmarshallableResult,
    dump_fault,
    dump_result,
    parse_method_call,
)


def param(value_xml: str) -> bytes:
    return params_body("sample.echo", f"<param><value>{value_xml}</value></param>")


def decoded(value_xml: str) -> object:
    (value,) = parse_method_call(param(value_xml)).params
    return value


@pytest.mark.parametrize(
    ("value_xml", "expected"),
    [
        ("plain text", "plain text"),
        ("", ""),
        ("  spaced  ", "  spaced  "),
        ("<string>a &lt;b&gt; &amp; c</string>", "a <b> & c"),
        ("<string></string>", ""),
        ("<string>é ☃ 𝄞</string>", "é ☃ 𝄞"),
        ("<int>42</int>", 42),
        ("<i4>-7</i4>", -7),
        ("<int> +12 </int>", 12),
        ("<int>2147483647</int>", 2**31 - 1),
        ("<int>-2147483648</int>", -(2**31)),
        ("<boolean>1</boolean>", True),
        ("<boolean>0</boolean>", False),
        ("<double>1.5</double>", 1.5),
        ("<double>-2</double>", -2.0),
        ("<double>1e3</double>", 1000.0),
        (
            "<dateTime.iso8601>20240102T03:04:05</dateTime.iso8601>",
            datetime.datetime(2024, 1, 2, 3, 4, 5),
        ),
        ("<base64>aGVsbG8gw6k=</base64>", "hello é"),
        ("<base64></base64>", ""),
        ("<array><data></data></array>", []),
        ("<array><data><value><int>1</int></value><value>x</value></data></array>", [1, "x"]),
        (
            "<struct><member><name>a</name><value><int>1</int></value></member>"
            "<member><name>b</name><value><array><data><value>z</value></data></array>"
            "</value></member></struct>",
            {"a": 1, "b": ["z"]},
        ),
        ("<struct></struct>", {}),
        # What Supervisor does with types it does not know: the element's text, as is.
        ("<nil/>", None),
        ("<i8>5</i8>", "5"),
    ],
)
def test_values_decode(value_xml: str, expected: object) -> None:
    assert decoded(value_xml) == expected


def test_a_call_without_params_has_none() -> None:
    body = b"<methodCall><methodName>system.listMethods</methodName></methodCall>"
    assert parse_method_call(body) == MethodCall("system.listMethods", ())


def test_the_stdlib_clients_requests_round_trip() -> None:
    params = (1, "two", True, 2.5, [1, [2]], {"k": {"n": "v"}}, "<&>")
    body = xmlrpc.client.dumps(params, methodname="sample.echo").encode()
    assert parse_method_call(body) == MethodCall("sample.echo", params)


def test_a_declared_single_byte_encoding_is_honoured() -> None:
    body = (
        "<?xml version='1.0' encoding='iso-8859-1'?><methodCall><methodName>a.b</methodName>"
        "<params><param><value>café</value></param></params></methodCall>"
    ).encode("iso-8859-1")
    assert parse_method_call(body).params == ("café",)


# Inputs both decoders accept: each must decode to the same thing as Supervisor's own.
AGREED = [
    "text",
    "",
    "<string>é &amp; ☃</string>",
    "<int>42</int>",
    "<i4>-3</i4>",
    "<boolean>1</boolean>",
    "<boolean>0</boolean>",
    "<double>2.25</double>",
    "<dateTime.iso8601>20240102T03:04:05</dateTime.iso8601>",
    "<base64>aGVsbG8=</base64>",
    "<array><data><value>a</value><value><int>2</int></value></data></array>",
    "<struct><member><name>x</name><value><boolean>1</boolean></value></member></struct>",
    "<struct><member><name></name><value>v</value></member></struct>",
    "<nil/>",
    "<i8>5</i8>",
]


def _comparable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def test_decoding_agrees_with_supervisors_unmarshaller() -> None:
    script = (
        "import base64, datetime, json, sys\n"
        "from supervisor.xmlrpc import supervisor_xmlrpc_handler as H\n"
        "h = H.__new__(H)\n"
        "def plain(v):\n"
        "    return v.isoformat() if isinstance(v, datetime.datetime) else v\n"
        "out = []\n"
        "for body in json.load(sys.stdin):\n"
        "    params, method = h.loads(base64.b64decode(body).decode('utf-8'))\n"
        "    out.append([method, [plain(p) for p in params]])\n"
        "print(json.dumps(out))\n"
    )
    bodies = [param(value_xml) for value_xml in AGREED]
    stdin = json.dumps([base64.b64encode(body).decode() for body in bodies])
    for body, (method, params) in zip(bodies, run_supervisor_python(script, stdin), strict=True):
        ours = parse_method_call(body)
        assert ours.method == method
        assert [_comparable(value) for value in ours.params] == params, body


@pytest.mark.parametrize(
    ("value_xml", "reason"),
    [
        ("<int>2147483648</int>", "param 1: '2147483648' is outside the 32-bit range"),
        ("<int>-2147483649</int>", "outside the 32-bit range"),
        ("<i4>" + "9" * 5000 + "</i4>", "outside the 32-bit range"),
        ("<int>12abc</int>", "param 1: '12abc' is not an integer"),
        ("<int></int>", "'' is not an integer"),
        ("<int>1_000</int>", "is not an integer"),
        ("<boolean>true</boolean>", "param 1: <boolean> must be 0 or 1, not 'true'"),
        ("<double>abc</double>", "'abc' is not a finite <double>"),
        ("<double>inf</double>", "is not a finite <double>"),
        ("<double>1e999</double>", "is not a finite <double>"),
        ("<dateTime.iso8601>2024-01-02</dateTime.iso8601>", "is not a <dateTime.iso8601>"),
        ("<base64>/w==</base64>", "<base64> is not base64 of UTF-8 text"),
        ("<base64>a</base64>", "<base64> is not base64"),
        ("<string>a<b/></string>", "param 1: <string> may not contain elements"),
        ("<int>1</int><int>2</int>", "<value> holds more than one element"),
        ("<array></array>", "<array> must hold exactly one <data>"),
        ("<array><data><int>1</int></data></array>", "unexpected <int> in <data>"),
        ("<struct><value>x</value></struct>", "unexpected <value> in <struct>"),
        (
            "<struct><member><value>x</value></member></struct>",
            "<member> must hold one <name> and one <value>",
        ),
        (
            "<array><data><value><struct><member><name>k</name><value><int>x</int>"
            "</value></member></struct></value></data></array>",
            "param 1, array item 1, member 'k': 'x' is not an integer",
        ),
    ],
)
def test_bad_values_are_refused_saying_what_and_where(value_xml: str, reason: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_method_call(param(value_xml))
    assert reason in str(caught.value)


def _nested(depth: int) -> bytes:
    return param("<array><data><value>" * depth + "x" + "</value></data></array>" * depth)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (BILLION_LAUGHS, "a document type declaration (DTD) is not allowed"),
        (EXTERNAL_ENTITY, "a document type declaration (DTD) is not allowed"),
        (PLAIN_DTD, "a document type declaration (DTD) is not allowed"),
        (_nested(100), "elements are nested more than 64 deep"),
        (b"", "not well-formed XML: no element found: line 1, column 0"),
        (b"<methodCall><methodName>a.b</methodName>", "not well-formed XML: no element found"),
        # latin-1 bytes in a document that does not declare latin-1: invalid UTF-8
        (param("café").replace("é".encode(), b"\xe9"), "not well-formed (invalid token)"),
        (b"<methodCall><methodName>a.b\xff</methodName></methodCall>", "(invalid token): line 1"),
        (
            b"<?xml version='1.0' encoding='no-such-codec'?><methodCall/>",
            "unsupported encoding",
        ),
        (b"<?xml version='1.0' encoding='shift_jis'?><methodCall/>", "unsupported encoding"),
        (b"<methodResponse/>", "the document element is <methodResponse>, not <methodCall>"),
        (b"<methodCall><params/></methodCall>", "no method name"),
        (b"<methodCall><methodName></methodName></methodCall>", "no method name"),
        (b"<methodCall><methodName>a.b</methodName><extra/></methodCall>", "unexpected <extra>"),
        (
            b"<methodCall><methodName>a.b</methodName><params><value>1</value></params>"
            b"</methodCall>",
            "unexpected <value> in <params>",
        ),
        (
            b"<methodCall><methodName>a.b</methodName><params><param/></params></methodCall>",
            "param 1: <param> must hold exactly one <value>",
        ),
    ],
)
def test_malformed_and_hostile_documents_are_refused(body: bytes, reason: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_method_call(body)
    assert reason in str(caught.value)


def test_nesting_up_to_the_limit_is_accepted() -> None:
    value = parse_method_call(_nested(18)).params[0]
    for _ in range(18):
        assert isinstance(value, list)
        (value,) = value
    assert value == "x"


RESPONSE_VALUES: list[Any] = [
    0,
    -(2**31),
    2**31 - 1,
    True,
    False,
    1.5,
    "",
    "a <b> & 'c' \"d\"",
    "é ☃ 𝄞",
    "line\nbreak\ttab",
    [],
    [1, "x", [True]],
    {},
    {"name": "cat", "pid": 12, "nested": {"list": [1, 2]}},
]


def test_responses_are_byte_for_byte_supervisors() -> None:
    script = (
        "import json, sys\n"
        "from supervisor.xmlrpc import xmlrpc_marshal\n"
        "from supervisor.compat import xmlrpclib\n"
        "values = json.load(sys.stdin)\n"
        "out = [xmlrpc_marshal(v) for v in values]\n"
        "out.append(xmlrpc_marshal(xmlrpclib.Fault(10, 'BAD_NAME: nosuch <x>')))\n"
        "print(json.dumps(out))\n"
    )
    expected = run_supervisor_python(script, json.dumps(RESPONSE_VALUES))
    ours = [dump_result(value).decode("utf-8") for value in RESPONSE_VALUES]
    ours.append(dump_fault(10, "BAD_NAME: nosuch <x>").decode("utf-8"))
    assert ours == expected


@pytest.mark.parametrize("value", [None, 2**31, -(2**31) - 1, {1: "x"}, object(), {"k": None}])
def test_results_xml_rpc_cannot_carry_are_refused(value: object) -> None:
    with pytest.raises(UnmarshallableResult):
        dump_result(value)
