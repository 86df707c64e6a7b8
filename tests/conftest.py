"""The `cleanup` fixture: every process a daemon test started is ended when the test ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.daemon.daemonized import Started


@pytest.fixture
def cleanup() -> Iterator[Started]:
    started = Started()
    yield started
    started.end()
