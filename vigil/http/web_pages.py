"""The HTML of the status page and tail.html, from templates shipped beside this module.

Every value that comes from a process, a config or a request is escaped here, at the one
place it meets markup; the templates hold only fixed text and ``$placeholders`` for
fragments this module built. What scripts read is kept as Supervisor has it: the action URLs
(``index.html?processname=<ns>&amp;action=<verb>``), the tail links, the ``shade`` rows, the
``status_msg`` div and the state classes ``statusrunning`` / ``statuserror`` /
``statusnominal`` on a span holding the lower-case state name.
"""

from __future__ import annotations

import functools
import html
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from vigil import DISTRIBUTION, SUPERVISOR_COMPAT_VERSION, __version__
from vigil.core.naming import make_namespec
from vigil.core.states import ProcessState

TOKEN_FIELD = "csrf_token"


@dataclass(frozen=True)
class ProcessRow:
    """One line of the status table, from getAllProcessInfo."""

    group: str
    name: str
    state: ProcessState
    description: str

    @property
    def namespec(self) -> str:
        return make_namespec(self.group, self.name)

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> ProcessRow:
        return cls(
            str(info["group"]),
            str(info["name"]),
            ProcessState(info["state"]),
            str(info["description"]),
        )


@dataclass(frozen=True)
class Action:
    label: str
    verb: str  # as in index.html?processname=<ns>&action=<verb>


def css_class_for_state(state: ProcessState) -> str:
    if state is ProcessState.RUNNING:
        return "statusrunning"
    if state in (ProcessState.FATAL, ProcessState.BACKOFF):
        return "statuserror"
    return "statusnominal"


def actions_for_state(state: ProcessState) -> list[Action]:
    """The changing actions a state offers, in Supervisor's order; the tails always follow."""
    if state is ProcessState.RUNNING:
        verbs = [("Restart", "restart"), ("Stop", "stop")]
    elif state in (ProcessState.STOPPED, ProcessState.EXITED, ProcessState.FATAL):
        verbs = [("Start", "start")]
    else:
        verbs = []
    return [Action(label, verb) for label, verb in [*verbs, ("Clear Log", "clearlog")]]


# Plain files beside this module (package data). Read as files rather than through
# importlib.resources, whose readers are imported on first use: by then a daemon with
# `user=` may no longer be able to read the Python installation.
STATIC = Path(__file__).with_name("static")


@functools.cache
def _template(name: str) -> string.Template:
    return string.Template((STATIC / name).read_text(encoding="utf-8"))


def static_file(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _post_button(url: str, label: str, token: str) -> str:
    """An action as a small POST form whose URL is Supervisor's GET link for the same action,
    so the page itself never changes anything with a GET, yet the URL is still there to read."""
    return (
        f'<form method="post" action="{_e(url)}"><input type="hidden" name="{TOKEN_FIELD}" '
        f'value="{_e(token)}"><button type="submit">{_e(label)}</button></form>'
    )


def _action_cell(row: ProcessRow, token: str | None) -> str:
    """The row's action buttons (none for a read-only account: ``token`` None) and its tails."""
    quoted = quote(row.namespec)
    items = [
        _post_button(f"index.html?processname={quoted}&action={action.verb}", action.label, token)
        for action in actions_for_state(row.state)
        if token is not None
    ]
    items += [
        f'<a href="{_e(href)}" name="{label}" target="_blank">{label}</a>'
        for label, href in (
            ("Tail -f Stdout", f"logtail/{quoted}"),
            ("Tail -f Stderr", f"logtail/{quoted}/stderr"),
        )
    ]
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _row(row: ProcessRow, shaded: bool, token: str | None) -> str:
    statename = row.state.name.lower()
    shade = ' class="shade"' if shaded else ""
    tail = f"tail.html?processname={quote(row.namespec)}"
    return (
        f"<tr{shade}>"
        f'<td class="status"><span class="{css_class_for_state(row.state)}"'
        f' data-state="{statename}">{statename}</span></td>'
        f'<td class="desc"><span>{_e(row.description)}</span></td>'
        f'<td class="name"><a href="{_e(tail)}" target="_blank">'
        f"{_e(row.namespec)}</a></td>"
        f'<td class="action">{_action_cell(row, token)}</td>'
        "</tr>\n"
    )


def _table(rows: Sequence[ProcessRow], token: str | None) -> str:
    if not rows:
        return '<p class="empty">No programs to manage</p>'
    body = "".join(_row(row, index % 2 == 1, token) for index, row in enumerate(rows))
    return (
        '<table id="statustable">\n<thead><tr><th class="state">State</th>'
        '<th class="desc">Description</th><th class="name">Name</th>'
        '<th class="action">Action</th></tr></thead>\n'
        f"<tbody>\n{body}</tbody>\n</table>"
    )


def _summary(rows: Iterable[ProcessRow]) -> str:
    counts = Counter(row.state for row in rows)
    parts = [
        f'<li><span class="{css_class_for_state(state)}" data-state="{state.name.lower()}">'
        f"{counts[state]} {state.name.lower()}</span></li>"
        for state in sorted(counts)
    ]
    return f'<ul class="summary">{"".join(parts)}</ul>' if parts else ""


def _message(message: str | None) -> str:
    if not message:
        return ""
    failed = message.startswith(("ERROR", "unexpected rpc fault", "No such process"))
    kind = "error" if failed else "info"
    return f'<div class="status_msg" data-kind="{kind}" role="status">{_e(message)}</div>'


def status_page(
    rows: Sequence[ProcessRow] | None, message: str | None, token: str | None, problem: str = ""
) -> str:
    """The status page; ``rows`` is None when the processes could not be listed (``problem``
    says why, in place of the table). Without a ``token`` (a read-only account) it has no
    action controls, only a Refresh link."""
    if token is None:
        buttons = '<li class="action-button"><a class="button" href="index.html">Refresh</a></li>'
    else:
        buttons = "".join(
            f'<li class="action-button">{_post_button(f"index.html?action={verb}", label, token)}'
            "</li>"
            for label, verb in (
                ("Refresh", "refresh"),
                ("Restart All", "restartall"),
                ("Stop All", "stopall"),
            )
        )
    table = f'<p class="problem">{_e(problem)}</p>' if rows is None else _table(rows, token)
    return _template("status.html").substitute(
        message=_message(message),
        summary=_summary(rows or ()),
        buttons=buttons,
        table=table,
        footer=_footer(),
    )


# What a confirmation asks and its button says, per action (``{}`` is the process).
_CONFIRMATIONS = {
    "start": ("Start {}?", "Start"),
    "stop": ("Stop {}?", "Stop"),
    "restart": ("Restart {}?", "Restart"),
    "clearlog": ("Clear the log of {}?", "Clear Log"),
    "stopall": ("Stop all processes?", "Stop All"),
    "restartall": ("Restart all processes?", "Restart All"),
}


def confirm_page(action: str, namespec: str | None, token: str) -> str:
    """The page a GET asking for an action gets instead of the action: one button that POSTs
    the same action with the form token, and a way back. Old links and bookmarks keep
    working, one click later, and a link on another site cannot act by itself."""
    question, label = _CONFIRMATIONS.get(action, (f"{action} {{}}?", action))
    url = f"index.html?action={quote(action)}"
    if namespec:
        url = f"index.html?processname={quote(namespec)}&action={quote(action)}"
    return _template("confirm.html").substitute(
        title=_e(label if namespec is None else f"{label} {namespec}"),
        question=_e(question.format(namespec or "")),
        confirm=_post_button(url, label, token),
        footer=_footer(),
    )


def tail_page(processname: str | None, text: str, limit: int) -> str:
    """tail.html: the end of a process's stdout log, with a link that fetches it again."""
    if processname is None:
        title = "Supervisor tail"
        refresh = ""
    else:
        title = f"Supervisor tail of process {processname}"
        href = f"tail.html?processname={quote(processname)}&limit={limit}"
        refresh = f'<a class="button" href="{_e(href)}">Refresh</a>'
    return _template("tail.html").substitute(
        title=_e(title),
        heading=_e(processname or "tail"),
        tail=_e(text),
        refresh=refresh,
        footer=_footer(),
    )


def _footer() -> str:
    return (
        f"{_e(DISTRIBUTION)} {_e(__version__)} &middot; "
        f"Supervisor {_e(SUPERVISOR_COMPAT_VERSION)} protocol"
    )
