"""Every supervisorctl action, by the name typed to run it."""

from __future__ import annotations

from vigil.ctl.actions.base import Action
from vigil.ctl.actions.completion import CompletionAction
from vigil.ctl.actions.config_changes import (
    AddAction,
    AvailAction,
    RemoveAction,
    RereadAction,
    UpdateAction,
)
from vigil.ctl.actions.daemon import OpenAction, ReloadAction, ShutdownAction, VersionAction
from vigil.ctl.actions.foreground import ForegroundAction
from vigil.ctl.actions.logs import ClearAction, MaintailAction, TailAction
from vigil.ctl.actions.operations import ScaleAction
from vigil.ctl.actions.process_control import (
    RestartAction,
    SignalAction,
    StartAction,
    StopAction,
)
from vigil.ctl.actions.reopen import ReopenAction
from vigil.ctl.actions.session import EndOfInputAction, ExitAction, HelpAction, QuitAction
from vigil.ctl.actions.status import PidAction, StatusAction

ACTION_TYPES: tuple[type[Action], ...] = (
    AddAction,
    AvailAction,
    ClearAction,
    CompletionAction,
    EndOfInputAction,
    ExitAction,
    ForegroundAction,
    HelpAction,
    MaintailAction,
    OpenAction,
    PidAction,
    QuitAction,
    ReloadAction,
    RemoveAction,
    ReopenAction,
    RereadAction,
    RestartAction,
    ScaleAction,
    ShutdownAction,
    SignalAction,
    StartAction,
    StatusAction,
    StopAction,
    TailAction,
    UpdateAction,
    VersionAction,
)


def builtin_actions() -> dict[str, Action]:
    return {action.name: action for action in (kind() for kind in ACTION_TYPES)}


__all__ = ["Action", "builtin_actions"]
