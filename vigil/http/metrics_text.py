"""The Prometheus text exposition format (0.0.4) of metric families, written quickly.

prometheus-client's ``generate_latest`` formats every sample on its own (sorting, escaping and
joining its labels each time): about 4 us a sample here, 46 ms for the 11,500 samples of 500
programs, most of a scrape's budget. This writes the same text for the family types vigil
serves (gauge, counter, info) with each label set formatted once, however many samples share
it (and kept for the next scrape); the tests parse both outputs with prometheus-client's
parser and compare them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_NAME_SUFFIX = {"counter": "_total", "info": "_info"}
_TYPE_SHOWN = {"counter": "counter", "gauge": "gauge", "info": "gauge"}


def _escape_label(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def _number(value: float) -> str:
    if type(value) is int:
        return str(value)
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


class LabelTexts:
    """The formatted text of each label set, kept from one scrape to the next for as long as
    the same dict is scraped (the collector keeps one dict per process and label set): a
    fleet's label sets are formatted once, not at each scrape. Only the sets of the last
    scrape are kept; each entry holds its dict, so an id is never taken for another's."""

    def __init__(self) -> None:
        self._texts: dict[int, tuple[dict[str, str], str]] = {}

    def encode(self, families: Iterable[Metric]) -> bytes:
        previous = self._texts
        current: dict[int, tuple[dict[str, str], str]] = {}
        out: list[str] = []
        for family in families:
            kind = family.type
            shown = _TYPE_SHOWN.get(kind)
            if shown is None:
                raise ValueError(f"{family.name}: type {kind} is not written by this encoder")
            name = family.name + _NAME_SUFFIX.get(kind, "")
            documentation = _escape_help(family.documentation)
            out.append(f"# HELP {name} {documentation}\n# TYPE {name} {shown}\n")
            for sample in family.samples:
                labels = sample.labels
                if labels:
                    known = current.get(id(labels)) or previous.get(id(labels))
                    if known is None or known[0] is not labels:
                        known = (labels, _label_text(labels))
                    current[id(labels)] = known
                    text = known[1]
                else:
                    text = ""
                out.append(f"{sample.name}{text} {_number(sample.value)}\n")
        self._texts = current
        return "".join(out).encode("utf-8")


def _label_text(labels: dict[str, str]) -> str:
    pairs = ",".join(f'{key}="{_escape_label(value)}"' for key, value in sorted(labels.items()))
    return "{" + pairs + "}"


def encode(families: Iterable[Metric]) -> bytes:
    """The text of these families, with no memory of earlier scrapes."""
    return LabelTexts().encode(families)
