"""HTTPS on [inet_http_server] with certfile/keyfile, on a daemonized daemon: XML-RPC and the
JSON API answer over TLS with a certificate made here, a plain-HTTP client gets nothing and
does not disturb the daemon, and a certificate that cannot be used stops the start with a
message naming the section and the files."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ctl.harness import free_port
from tests.daemon.daemonized import Started, config, running_pid, start_daemonized
from tests.support import PY, unix_proxy, wait_until


def make_certificate(directory: Path, name: str = "server") -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def tls_section(port: int, cert: Path, key: Path) -> str:
    return (
        f"[inet_http_server]\nport=127.0.0.1:{port}\nusername=admin\npassword=s3cret\n"
        f"certfile={cert}\nkeyfile={key}\n"
    )


@pytest.fixture
def served(tmp_path: Path, cleanup: Started) -> Iterator[tuple[int, ssl.SSLContext]]:
    cert, key = make_certificate(tmp_path)
    port = free_port()
    conf = config(
        tmp_path,
        tls_section(port, cert, key) + "\n[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n",
    )
    cleanup.append(start_daemonized(conf))
    cleanup.append(running_pid(conf, "sleeper"))
    yield port, ssl.create_default_context(cafile=str(cert))
    unix_proxy(tmp_path / "s.sock").supervisor.shutdown()
    wait_until(lambda: not (tmp_path / "s.sock").exists(), what="the daemon's exit")


def test_xml_rpc_and_json_over_https(served: tuple[int, ssl.SSLContext]) -> None:
    port, context = served
    proxy = xmlrpc.client.ServerProxy(
        f"https://admin:s3cret@127.0.0.1:{port}/RPC2", context=context
    )
    assert proxy.supervisor.getProcessInfo("sleeper")["statename"] == "RUNNING"
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    try:
        connection.request(
            "GET", "/api/v1/processes", headers={"Authorization": "Basic YWRtaW46czNjcmV0"}
        )
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read())[0]["name"] == "sleeper"
    finally:
        connection.close()


def test_plain_http_to_the_https_port_gets_no_answer(served: tuple[int, ssl.SSLContext]) -> None:
    port, context = served
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(b"GET /api/v1/daemon HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while data := client.recv(65536):
            received += data
        assert b"HTTP/1.1 200" not in received
    proxy = xmlrpc.client.ServerProxy(
        f"https://admin:s3cret@127.0.0.1:{port}/RPC2", context=context
    )
    assert proxy.supervisor.getState()["statename"] == "RUNNING"


def test_a_key_that_does_not_match_stops_the_start(tmp_path: Path) -> None:
    cert, _ = make_certificate(tmp_path, "one")
    _, other_key = make_certificate(tmp_path, "two")
    conf = config(tmp_path, tls_section(free_port(), cert, other_key))
    started = subprocess.run(
        [PY, "-m", "vigil", "-c", str(conf)], capture_output=True, text=True, timeout=60
    )
    assert started.returncode != 0
    assert "[inet_http_server] cannot serve HTTPS" in started.stderr
    assert str(other_key) in started.stderr
    assert not (tmp_path / "d.pid").exists()


def test_a_certificate_without_its_key_is_a_config_error(tmp_path: Path) -> None:
    cert, _ = make_certificate(tmp_path)
    conf = config(tmp_path, f"[inet_http_server]\nport=127.0.0.1:{free_port()}\ncertfile={cert}\n")
    checked = subprocess.run(
        [PY, "-m", "vigil", "-c", str(conf), "--check-config"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert checked.returncode != 0
    assert "sets only one of certfile and keyfile" in checked.stdout + checked.stderr


def test_check_config_and_start_refuse_an_encrypted_key_without_asking(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    locked = tmp_path / "locked.key"
    subprocess.run(
        ["openssl", "pkey", "-in", str(key), "-out", str(locked), "-aes256", "-passout",
         "pass:secret"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    conf = config(tmp_path, tls_section(free_port(), cert, locked))
    for extra in (["--check-config"], []):
        run = subprocess.run(
            [PY, "-m", "vigil", "-c", str(conf), *extra],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert run.returncode != 0
        assert "is encrypted" in run.stdout + run.stderr
    mismatched = config(
        tmp_path, tls_section(free_port(), cert, make_certificate(tmp_path, "b")[1])
    )
    checked = subprocess.run(
        [PY, "-m", "vigil", "-c", str(mismatched), "--check-config"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert checked.returncode != 0
    assert "cannot serve HTTPS" in checked.stdout + checked.stderr
