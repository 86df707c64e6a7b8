"""Layers depend downward only (DESIGN.md): this walks every module's imports and says which
import crosses a line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "vigil"

# What each part of the package may import from vigil itself.
ALLOWED: dict[str, set[str]] = {
    "clock": set(),
    "faults": set(),
    # the table of event types, shared by config (events=) and core (the bus)
    "event_types": set(),
    "config": {"event_types", "config"},
    "core": {"clock", "faults", "event_types", "config", "core"},
    "runtime": {"clock", "faults", "event_types", "config", "core", "runtime"},
    "services": {"clock", "faults", "event_types", "config", "core", "runtime", "services"},
    "http": {"clock", "faults", "event_types", "config", "core", "runtime", "services", "http"},
    "ctl": {"faults", "event_types", "config", "core", "ctl"},
    "app": {
        "clock",
        "faults",
        "event_types",
        "config",
        "core",
        "runtime",
        "services",
        "http",
        "app",
    },
}
# Leaf tools and helpers for child programs: they talk to the daemon only over the wire.
for standalone in ("confecho", "pidproxy", "childutils", "__main__"):
    ALLOWED[standalone] = {"config", "faults", "event_types", "core", "app", "ctl"}
ALLOWED["__init__"] = set()

FORBIDDEN_STDLIB: dict[str, set[str]] = {
    "core": {"asyncio", "os", "signal", "socket", "subprocess", "time"},
    "event_types": {"asyncio", "os", "signal", "socket", "subprocess", "time"},
    "config": {"asyncio", "socket", "subprocess"},
    "ctl": {"vigil.runtime", "vigil.services", "vigil.http", "vigil.app"},
}


def _part(module: Path) -> str:
    rel = module.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(module: Path) -> list[tuple[int, str]]:
    tree = ast.parse(module.read_text(), str(module))
    found: list[tuple[int, str]] = []
    package_parts = module.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                name = ".".join((*base, node.module or ""))
                found.append((node.lineno, name.rstrip(".")))
            elif node.module:
                found.append((node.lineno, node.module))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_downward(module: Path) -> None:
    part = _part(module)
    allowed = ALLOWED[part]
    for lineno, name in _imports(module):
        top = name.split(".")
        if top[0] == "vigil" and len(top) > 1:
            target = top[1]
            assert target in allowed or target in {"__init__"} | {"vigil"}, (
                f"{module.relative_to(PACKAGE)}:{lineno} imports {name}: "
                f"the {part} layer may import only {sorted(allowed)}"
            )
        for forbidden in FORBIDDEN_STDLIB.get(part, ()):
            assert name != forbidden and not name.startswith(forbidden + "."), (
                f"{module.relative_to(PACKAGE)}:{lineno} imports {name}, "
                f"which the {part} layer may not use"
            )


def test_the_walk_sees_every_layer() -> None:
    parts = {_part(m) for m in MODULES}
    assert {"clock", "faults", "event_types", "config", "core"} <= parts
