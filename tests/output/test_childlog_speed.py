"""The speed measurement runs and every way it measures writes exactly what the child sent."""

from __future__ import annotations

from pathlib import Path

from tests.output.bench_childlog import CHILD_LOG_VARIANTS, expected_output, measure


def test_every_measured_way_writes_the_whole_output(tmp_path: Path) -> None:
    total = 3 * 65536 + 123
    results = measure(total, tmp_path, repeats=1)
    assert set(CHILD_LOG_VARIANTS) <= set(results)
    for name, (seconds, path) in results.items():
        assert seconds > 0
        assert path.read_bytes() == expected_output(total), name
