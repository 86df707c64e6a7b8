"""The connection limits of an ``[unix_http_server]`` or ``[inet_http_server]`` section.

``request_timeout`` and ``max_connections`` are vigil additions (Supervisor has neither and
keeps every connection forever), and so is ``metrics_public`` (``/metrics`` without
credentials on that listener). All are optional, and a section without them behaves as
the model's defaults say.
"""

from __future__ import annotations

import math
from typing import Any

from vigil.config.datatypes import ConversionError, boolean
from vigil.config.reading import OptionReader, default_of

SERVER_LIMIT_KEYS = frozenset({"request_timeout", "max_connections", "metrics_public"})


def positive_seconds(value: str) -> float:
    """A number of seconds above zero, fractions allowed (``30``, ``2.5``)."""
    try:
        seconds = float(value.strip())
    except ValueError:
        raise ConversionError(f"{value!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConversionError(f"{value!r} must be a number of seconds above 0")
    return seconds


def positive_count(value: str) -> int:
    """A whole number above zero."""
    try:
        count = int(value.strip())
    except ValueError:
        raise ConversionError(f"{value!r} is not a whole number") from None
    if count <= 0:
        raise ConversionError(f"{value!r} must be a whole number above 0")
    return count


def connection_limits(reader: OptionReader, section: str, model: type[Any]) -> dict[str, Any]:
    """The section's limits as keyword arguments of ``model`` (a server config dataclass);
    a bad value is reported against its option and the default is used."""
    return {
        "request_timeout": reader.value(
            section,
            "request_timeout",
            positive_seconds,
            default_of(model, "request_timeout"),
        ),
        "max_connections": reader.value(
            section,
            "max_connections",
            positive_count,
            default_of(model, "max_connections"),
        ),
        "metrics_public": reader.value(
            section, "metrics_public", boolean, default_of(model, "metrics_public")
        ),
    }
