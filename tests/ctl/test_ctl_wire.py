"""The client's XML-RPC codec against Python's ``xmlrpc.client``, and its HTTP connection
against a real server on the loopback interface."""

from __future__ import annotations

import socket
import threading
import xmlrpc.client
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.ctl.client import LogStream, SupervisorClient
from vigil.ctl.errors import Fault, ProtocolError, RemoteDisconnected, displayed_class
from vigil.ctl.wire import decode_response, encode_call

# Text XML 1.0 can carry (xmlrpc.client does not escape the rest either).
XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00")
    .filter(lambda ch: ch in "\t\n" or ord(ch) >= 0x20)
    .filter(lambda ch: ch not in "\ufffe\uffff"),
    max_size=20,
)


def _values(integers: st.SearchStrategy[int]) -> st.SearchStrategy[object]:
    scalars = (
        integers
        | st.booleans()
        | XML_TEXT
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.none()
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(XML_TEXT, inner, max_size=4),
        max_leaves=12,
    )


# What we send may hold 64-bit integers (<i8>); what xmlrpc.client sends holds 32-bit ones.
SENT = _values(st.integers(-(2**63), 2**63 - 1))
RECEIVED = _values(st.integers(-(2**31), 2**31 - 1))


@given(st.text("abcdefghijklmnopqrstuvwxyz.", min_size=1, max_size=20), st.lists(SENT, max_size=3))
def test_calls_read_back_by_xmlrpc_client(method: str, params: list[object]) -> None:
    decoded, name = xmlrpc.client.loads(encode_call(method, tuple(params)), use_builtin_types=True)
    assert name == method
    assert list(decoded) == params


@given(RECEIVED)
def test_responses_from_xmlrpc_client(value: object) -> None:
    body = xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True)
    assert decode_response(body.encode()) == value


def test_faults_and_untyped_values() -> None:
    body = xmlrpc.client.dumps(xmlrpc.client.Fault(10, "BAD_NAME: x"), methodresponse=True)
    with pytest.raises(Fault) as caught:
        decode_response(body.encode())
    assert (caught.value.code, caught.value.text) == (10, "BAD_NAME: x")
    assert str(caught.value) == str(xmlrpc.client.Fault(10, "BAD_NAME: x"))
    untyped = b"<methodResponse><params><param><value>plain &amp; simple</value></param>"
    assert decode_response(untyped + b"</params></methodResponse>") == "plain & simple"
    binary = xmlrpc.client.dumps((xmlrpc.client.Binary(b"\x00\xff"),), methodresponse=True)
    assert decode_response(binary.encode()) == b"\x00\xff"


def test_errors_show_the_class_names_supervisorctl_users_know() -> None:
    assert displayed_class(Fault(1, "x")) == "<class 'xmlrpc.client.Fault'>"
    error = ProtocolError("127.0.0.1/RPC2", 401, "Unauthorized")
    assert displayed_class(error) == "<class 'xmlrpc.client.ProtocolError'>"
    assert str(error) == "<ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>"
    assert displayed_class(RemoteDisconnected()) == "<class 'http.client.RemoteDisconnected'>"
    assert displayed_class(FileNotFoundError()) == "<class 'FileNotFoundError'>"


Handler = Callable[[socket.socket], None]


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], str]]:
    """``serve(handler)``: a loopback server calling ``handler(connection)`` for each
    connection, in a thread; its URL."""
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(handler: Handler) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def accept_loop() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                with connection:
                    handler(connection)

        thread = threading.Thread(target=accept_loop, daemon=True)
        thread.start()
        threads.append(thread)
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for listener in listeners:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
    for thread in threads:
        thread.join(5)


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head


def _answer(value: object) -> bytes:
    body = xmlrpc.client.dumps((value,), methodresponse=True).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def test_a_connection_closed_while_idle_is_reopened(serve: Callable[[Handler], str]) -> None:
    heads: list[bytes] = []

    def one_answer_per_connection(connection: socket.socket) -> None:
        heads.append(_read_request(connection))
        connection.sendall(_answer(len(heads)))

    client = SupervisorClient(serve(one_answer_per_connection), "me", "pw")
    assert client.call("supervisor.getPID") == 1
    assert client.call("supervisor.getPID") == 2  # the first connection was closed after use
    assert all(b"Authorization: Basic bWU6cHc=" in head for head in heads)


def test_a_new_connection_closed_without_answer_is_an_error(
    serve: Callable[[Handler], str],
) -> None:
    client = SupervisorClient(serve(_read_request), None, None)
    with pytest.raises(RemoteDisconnected):
        client.call("supervisor.getPID")


def test_one_connection_serves_many_calls(serve: Callable[[Handler], str]) -> None:
    def keep_alive(connection: socket.socket) -> None:
        count = 0
        while _read_request(connection):
            count += 1
            connection.sendall(_answer(count))

    client = SupervisorClient(serve(keep_alive), None, None)
    assert [client.call("supervisor.getPID") for _ in range(3)] == [1, 2, 3]


def test_non_200_is_a_protocol_error(serve: Callable[[Handler], str]) -> None:
    def refuse(connection: socket.socket) -> None:
        _read_request(connection)
        connection.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 3\r\n\r\nno\n")

    with pytest.raises(ProtocolError) as caught:
        SupervisorClient(serve(refuse), None, None).call("supervisor.getPID")
    assert str(caught.value) == "<ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>"


def test_log_stream_reads_chunks_until_the_end(serve: Callable[[Handler], str]) -> None:
    def chunked(connection: socket.socket) -> None:
        _read_request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in (b"hello ", b"wor", b"ld\n"):
            connection.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        connection.sendall(b"0\r\n\r\n")

    stream = LogStream(SupervisorClient(serve(chunked), None, None), "/logtail/x/stdout")
    assert stream.open() == 200
    assert b"".join(stream.chunks()) == b"hello world\n"
    stream.close()
