"""An fcgi-program's ``socket`` and its companions, read as supervisord's parse_fcgi_socket
reads them."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from vigil.config import datatypes as dt
from vigil.config.datatypes import ConversionError
from vigil.config.model import FcgiSocketConfig
from vigil.config.reading import OptionReader, default_of

T = TypeVar("T")

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


def read_fcgi_socket(
    reader: OptionReader, section: str, names: Mapping[str, object], program_name: str
) -> FcgiSocketConfig | None:
    """The socket of an ``[fcgi-program:x]`` section and its companions (user, backlog,
    owner, mode), each problem reported on its option; None when there is no usable one."""
    user = reader.text(section, "user", names)
    uid = None if user is None else reader.converted(section, "user", dt.name_to_uid, user, None)
    backlog_text = reader.text(section, "socket_backlog", names)
    backlog: int | None = None
    if backlog_text is not None:
        backlog = reader.converted(section, "socket_backlog", dt.integer, backlog_text, None)
        if backlog is not None and not 1 <= backlog <= 65535:
            reader.error(section, f"Invalid socket_backlog value {backlog}", "socket_backlog")
    owner = _optional(
        reader,
        section,
        names,
        "socket_owner",
        dt.colon_separated_user_group,
        "Invalid socket_owner value",
    )
    mode = _optional(reader, section, names, "socket_mode", dt.octal, "Invalid socket_mode value")
    url = reader.text(section, "socket", {**names, "program_name": program_name})
    if not url:
        if url is not None or reader.document.get(section, "socket") is None:
            reader.error(section, f'[{section}] section requires a "socket" line', "socket")
        return None
    try:
        return socket_config(url, uid, owner, mode, backlog)
    except ConversionError as exc:
        reader.error(section, f"{exc} in [{section}] socket", "socket")
        return None


def _optional(
    reader: OptionReader,
    section: str,
    names: Mapping[str, object],
    option: str,
    conv: Callable[[str], T],
    message: str,
) -> T | None:
    text = reader.text(section, option, names)
    if text is None:
        return None
    return reader.converted(section, option, conv, text, None, f"{message} {text}")
