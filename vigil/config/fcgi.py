"""An fcgi-program's ``socket`` and its companions, read as supervisord's parse_fcgi_socket
reads them."""

from __future__ import annotations

import os
import re

from vigil.config import datatypes as dt
from vigil.config.datatypes import ConversionError
from vigil.config.model import FcgiSocketConfig
from vigil.config.reading import default_of

# socket.SOMAXCONN on Linux (the config layer may not import socket); listen() caps it at
# the kernel's net.core.somaxconn anyway.
FCGI_DEFAULT_BACKLOG = 4096
_TCP_SOCKET = re.compile(r"tcp://([^\s:]+):(\d+)$")


def socket_config(
    url: str,
    uid: int | None,
    owner: tuple[int, int] | None,
    mode: int | None,
    backlog: int | None,
) -> FcgiSocketConfig:
    """supervisord's parse_fcgi_socket: ``unix:///abs/path`` or ``tcp://host:port``."""
    if url.startswith("unix://"):
        path = url[7:]
        if not os.path.isabs(path):
            raise ConversionError(f"Unix socket path {path} is not an absolute path")
        if owner is None and uid is not None and uid != os.getuid():
            owner = (uid, dt.gid_for_uid(uid))
        return FcgiSocketConfig(
            url="unix://" + dt.normalize_path(path),
            backlog=backlog or FCGI_DEFAULT_BACKLOG,
            owner=owner,
            mode=default_of(FcgiSocketConfig, "mode") if mode is None else mode,
        )
    if owner is not None or mode is not None:
        raise ConversionError(
            "socket_owner and socket_mode params should only be used with a Unix domain socket"
        )
    match = _TCP_SOCKET.match(url)
    if not match:
        raise ConversionError(f"Bad socket format {url}")
    host, port = match.group(1).lower(), dt.port_number(match.group(2))
    return FcgiSocketConfig(url=f"tcp://{host}:{port}", backlog=backlog or FCGI_DEFAULT_BACKLOG)
