"""The INI reader against Python's RawConfigParser configured as Supervisor configures it:
same sections, options and values, and a parse error exactly when it raises one."""

from __future__ import annotations

import configparser

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.config.ini import IniDocument

PIECES = [
    "[supervisord]",
    "[program:a]",
    "[DEFAULT]",
    "[a] x",
    "[b]]",
    "[ c ]",
    "[]",
    "command",
    "Command",
    "x",
    "KEY",
    "a b",
    "=",
    ":",
    " = ",
    " : ",
    "value",
    "v;c",
    "v ;c",
    "v #c",
    "v# c",
    ";",
    "#",
    " ",
    "  ",
    "\t",
    "%(here)s",
    "'q'",
    '"',
    "\u00a0",
    "\x0c",
]
LINE = st.lists(st.sampled_from(PIECES), max_size=5).map("".join)
TEXT = st.lists(LINE, max_size=12).map("\n".join)


def _reference(text: str) -> tuple[bool, list[tuple[str, list[tuple[str, str]]]]] | None:
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    try:
        parser.read_string(text)
    except configparser.MissingSectionHeaderError:
        return None
    except configparser.ParsingError:
        return (False, [])
    sections = [("DEFAULT", list(parser._defaults.items()))]
    sections += [(name, list(parser._sections[name].items())) for name in parser.sections()]
    return (True, sections)


def _ours(text: str) -> tuple[bool, list[tuple[str, list[tuple[str, str]]]]] | None:
    document = IniDocument()
    problems = document.read_text(text, "<test>")
    if any(p.message.startswith("File contains no section headers") for p in problems):
        return None
    if problems:
        return (False, [])
    sections = [("DEFAULT", [(k, e.value) for k, e in document.defaults.options.items()])]
    sections += [
        (name, [(k, e.value) for k, e in s.options.items()])
        for name, s in document.sections.items()
    ]
    return (True, sections)


@settings(max_examples=3000, deadline=None)
@given(TEXT)
def test_reader_matches_rawconfigparser(text: str) -> None:
    assert _ours(text) == _reference(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=200))
def test_reader_matches_rawconfigparser_on_any_text(text: str) -> None:
    assert _ours(text) == _reference(text)
