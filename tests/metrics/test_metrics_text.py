"""vigil's text encoder writes what prometheus-client's generate_latest writes: both outputs
parsed with prometheus-client's parser are the same families, with awkward label values."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from vigil.core.snapshot import ExitReason, ProcessSnapshot
from vigil.core.states import ProcessState
from vigil.http.metrics import MetricSources, NodeExporterCollector, VigilCollector
from vigil.http.metrics_text import LabelTexts
from vigil.services.resources import Figures


def snapshot(name: str, group: str, state: ProcessState, pid: int) -> ProcessSnapshot:
    return ProcessSnapshot(
        name=name, group=group, state=state, pid=pid, started_at=1_700_000_000.5,
        stopped_at=0.0, taken_at=1_700_000_100.0, exit_status=None, spawn_error=None,
        restarts=2, last_exit=ExitReason(-1, 9, False), stdout_logfile=None,
        stderr_logfile=None, stdout_log_error=None, stderr_log_error=None,
    )  # fmt: skip


SNAPSHOTS = [
    snapshot('we"ird\\name', "g\nroup", ProcessState.RUNNING, 42),
    snapshot("plain", "plain", ProcessState.FATAL, 0),
]
SOURCES = MetricSources(
    snapshots=lambda: SNAPSHOTS,
    figures=lambda snapshots: {
        ("g\nroup", 'we"ird\\name'): Figures(12.5, 3.25, 1.0, 3 * 2**40, 2**20, 7, 3, 4)
    },
    log_bytes=lambda group, name, channel: (10, 0) if channel == "stdout" else (0, 5),
    event_counts={"PROCESS_STATE_RUNNING": 3},
    rpc_outcomes={("supervisor.getState", "SUCCESS"): 1},
)


def parsed(text: str) -> list[object]:
    return list(text_string_to_metric_families(text))


def test_the_same_families_as_generate_latest() -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(VigilCollector(SOURCES))
    registry.register(NodeExporterCollector(SOURCES.snapshots))
    texts = LabelTexts()
    ours = texts.encode(registry.collect()).decode()
    assert parsed(ours) == parsed(generate_latest(registry).decode())
    assert texts.encode(registry.collect()).decode() == ours  # label texts kept between scrapes
    assert 'name="we\\"ird\\\\name"' in ours and 'group="g\\nroup"' in ours
