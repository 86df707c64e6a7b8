"""diff(old, new): added, changed and removed group names, with Supervisor's rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from vigil.config import ConfigDiff, load
from vigil.config.diff import diff
from vigil.config.model import Config, Source


def _config(tmp_path: Path, text: str, name: str = "a.conf") -> Config:
    path = tmp_path / name
    path.write_text("[supervisord]\n" + text)
    return load(str(path))


PROGRAMS = (
    "[program:keep]\ncommand=k\n"
    "[program:edit]\ncommand=e\n"
    "[program:gone]\ncommand=g\n"
    "[eventlistener:pool]\ncommand=p\nevents=TICK_5\n"
)


def test_added_changed_removed_in_supervisors_order(tmp_path: Path) -> None:
    old = _config(tmp_path, PROGRAMS)
    new = _config(
        tmp_path,
        "[program:new2]\ncommand=n\npriority=1\n[program:keep]\ncommand=k\n"
        "[program:edit]\ncommand=e\nautorestart=false\n[program:new1]\ncommand=n\n"
        "[eventlistener:pool]\ncommand=p\nevents=TICK_60\n",
    )
    assert diff(old, new) == ConfigDiff(
        added=("new2", "new1"), changed=("pool", "edit"), removed=("gone",)
    )


def test_nothing_changed(tmp_path: Path) -> None:
    old = _config(tmp_path, PROGRAMS)
    new = _config(tmp_path, PROGRAMS, "b.conf")  # another file: sources differ, not configs
    assert diff(old, new) == ConfigDiff()
    assert not diff(old, new)


def test_auto_logs_compare_equal_and_a_chosen_path_does_not(tmp_path: Path) -> None:
    old = _config(tmp_path, "[program:p]\ncommand=c\nstdout_logfile=AUTO\n")
    assert not diff(old, _config(tmp_path, "[program:p]\ncommand=c\n"))
    changed = _config(tmp_path, "[program:p]\ncommand=c\nstdout_logfile=/tmp/p.log\n")
    assert diff(old, changed).changed == ("p",)


def test_the_order_of_environment_variables_is_not_a_change(tmp_path: Path) -> None:
    old = _config(tmp_path, "[program:p]\ncommand=c\nenvironment=A=1,B=2\n")
    assert not diff(old, _config(tmp_path, "[program:p]\ncommand=c\nenvironment=B=2,A=1\n"))
    assert diff(old, _config(tmp_path, "[program:p]\ncommand=c\nenvironment=A=1,B=3\n"))


def test_group_priority_kind_and_membership_are_changes(tmp_path: Path) -> None:
    old = _config(tmp_path, "[program:p]\ncommand=c\n")
    assert diff(old, _config(tmp_path, "[program:p]\ncommand=c\npriority=1\n")).changed == ("p",)
    as_listener = _config(tmp_path, "[eventlistener:p]\ncommand=c\nevents=TICK_5\npriority=999\n")
    assert diff(old, as_listener).changed == ("p",)
    two = _config(tmp_path, "[program:p]\ncommand=c\nnumprocs=2\nprocess_name=%(process_num)s\n")
    assert diff(old, two).changed == ("p",)


def test_where_a_group_came_from_is_not_a_change(tmp_path: Path) -> None:
    old = _config(tmp_path, "[program:p]\ncommand=c\n")
    group = old.groups[0]
    moved = dataclasses.replace(
        group,
        source=Source("/elsewhere.conf", 9),
        processes=tuple(
            dataclasses.replace(p, source=Source("/elsewhere.conf", 9)) for p in group.processes
        ),
    )
    assert not diff(old, dataclasses.replace(old, groups=(moved,)))
