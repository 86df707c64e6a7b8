"""HTTPS for an ``[inet_http_server]`` with ``certfile`` and ``keyfile``.

The daemon does without OpenSSL unless a server asks for TLS (``vigil.__main__`` keeps the
``ssl`` module from loading: about 4 MiB of resident memory at rest); only then is it
loaded, after the programs are spawned, as the rest of the HTTP side is.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from vigil.config.model import InetServerConfig


class TlsError(Exception):
    """The certificate or key cannot be used; says which server and why."""


# asyncio's modules that bound ``ssl = None`` when it was blocked at their import
_ASYNCIO_SSL_USERS = ("asyncio.base_events", "asyncio.selector_events")


def _load_ssl() -> Any:
    """The ssl module, loaded now although it was blocked at start-up. asyncio found it
    missing when it was imported: its modules get it now, and ``asyncio.sslproto``, which
    defines its TLS machinery only when ssl exists, is loaded again (no TLS transport can
    exist before this, so nothing holds the old one)."""
    blocked = sys.modules.get("ssl", False) is None
    if blocked:
        del sys.modules["ssl"]
    ssl = importlib.import_module("ssl")
    if blocked:
        for name in _ASYNCIO_SSL_USERS:
            module = sys.modules.get(name)
            if module is not None and getattr(module, "ssl", False) is None:
                module.ssl = ssl  # type: ignore[attr-defined]
        sslproto = sys.modules.get("asyncio.sslproto")
        if sslproto is not None and getattr(sslproto, "ssl", False) is None:
            importlib.reload(sslproto)
    return ssl


class _EncryptedKey(Exception):
    pass


def _no_pass_phrase() -> bytes:
    """Asked for by OpenSSL only for an encrypted key: refuse, rather than let OpenSSL
    prompt on the terminal (or block on a daemon's stdin)."""
    raise _EncryptedKey


def server_context(config: InetServerConfig) -> Any:
    """An ``ssl.SSLContext`` serving TLS 1.2 and later with the section's certificate."""
    ssl = _load_ssl()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.certfile, config.keyfile, password=_no_pass_phrase)
    except _EncryptedKey:
        raise TlsError(
            f"[{config.name}] keyfile {config.keyfile} is encrypted: the daemon starts without "
            "a terminal to ask for its pass phrase, so the key must be stored without one"
        ) from None
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(
            f"[{config.name}] cannot serve HTTPS with certfile {config.certfile} and keyfile "
            f"{config.keyfile}: {exc}"
        ) from None
    return context
