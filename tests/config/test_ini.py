"""The INI reader (Supervisor's RawConfigParser rules, with locations) and [include]."""

from __future__ import annotations

import os
from pathlib import Path

from vigil.config.errors import Severity
from vigil.config.ini import IniDocument, read_with_includes


def _read(text: str) -> IniDocument:
    document = IniDocument()
    assert document.read_text(text, "f.conf") == []
    return document


def _value(document: IniDocument, section: str, option: str) -> str | None:
    entry = document.get(section, option)
    return None if entry is None else entry.value


def test_inline_comments_need_whitespace_before_them() -> None:
    document = _read("[s]\na=b ;comment\nc=d;not\ne=f #comment\ng=h#not\n")
    assert _value(document, "s", "a") == "b"
    assert _value(document, "s", "c") == "d;not"
    assert _value(document, "s", "e") == "f"
    assert _value(document, "s", "g") == "h#not"


def test_the_documented_command_truncation() -> None:
    document = _read("[program:x]\ncommand=bash -c 'foo ; bar'\n")
    assert _value(document, "program:x", "command") == "bash -c 'foo"


def test_full_line_comments_and_a_later_semicolon_winning_over_an_earlier_hash() -> None:
    # RawConfigParser looks for ';' and '#' in rounds: a valid ';' found in the first round
    # wins over a valid '#' that only a later round would reach.
    document = _read("[s]\n  ; indented comment\n# comment\na=x#y#z #c ;d\n")
    assert _value(document, "s", "a") == "x#y#z #c"


def test_option_names_are_lower_cased_and_section_names_kept() -> None:
    document = _read("[Program:X]\nCOMMAND = /bin/cat\nKey : value\n")
    assert list(document.sections) == ["Program:X"]
    assert _value(document, "Program:X", "command") == "/bin/cat"
    assert _value(document, "Program:X", "key") == "value"


def test_continuation_lines_and_blank_lines_inside_values() -> None:
    document = _read("[s]\na=1\n  2\n\n  3\n\n\nb=x\n")
    assert _value(document, "s", "a") == "1\n2\n\n3"
    assert _value(document, "s", "b") == "x"


def test_duplicates_merge_and_the_last_value_wins() -> None:
    document = _read("[s]\na=1\nb=1\n[t]\n[s]\na=2\n")
    assert list(document.sections) == ["s", "t"]
    assert _value(document, "s", "a") == "2"
    assert _value(document, "s", "b") == "1"


def test_default_section_is_visible_everywhere() -> None:
    document = _read("[DEFAULT]\na=d\nb=d\n[s]\nb=s\n")
    assert "DEFAULT" not in document.sections
    assert _value(document, "s", "a") == "d"
    assert _value(document, "s", "b") == "s"
    assert document.options("s") == ["b", "a"]


def test_locations_of_sections_and_options() -> None:
    document = _read("; header\n[s]\n\na=1\n  more\nb = 2\n[s]\na = 3\n")
    section = document.sections["s"]
    assert (section.file, section.line) == ("f.conf", 2)
    a, b = document.get("s", "a"), document.get("s", "b")
    assert a is not None and (a.file, a.line, a.value) == ("f.conf", 8, "3")
    assert b is not None and b.line == 6


def test_lines_that_are_not_options_are_reported_with_their_line() -> None:
    problems = IniDocument().read_text("[s]\nok=1\nnot an option\n=empty name\n", "f.conf")
    assert [(p.line, p.section) for p in problems] == [(3, "s"), (4, "s")]
    assert "Source contains parsing errors" in problems[0].message
    assert "'not an option'" in problems[0].message


def test_text_before_any_section_is_reported() -> None:
    problems = IniDocument().read_text("; c\nlogfile=x\n[s]\n", "f.conf")
    assert len(problems) == 1
    assert problems[0].line == 2
    assert problems[0].message.startswith("File contains no section headers")


def test_undecodable_files_are_a_problem_not_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "x.conf"
    path.write_bytes(b"[s]\na=\xff\n")
    problems = IniDocument().read_file(str(path))
    assert "UTF-8" in problems[0].message


# [include]


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "main.conf"


def test_includes_are_globbed_relative_to_the_main_file_and_sorted(tmp_path: Path) -> None:
    main = _tree(
        tmp_path,
        {
            "main.conf": "[supervisord]\n[include]\nfiles=d/*.conf  other.ini\n",
            "d/b.conf": "[program:b]\ncommand=%(here)s/b\n",
            "d/a.conf": "[program:a]\ncommand=%(here)s/a\n[program:b]\npriority=1\n",
            "other.ini": "[program:c]\ncommand=%(here)s/c\n",
        },
    )
    result = read_with_includes(str(main), {"here": str(tmp_path)})
    assert result.problems == []
    assert result.infos == [
        f'Included extra file "{tmp_path}/d/a.conf" during parsing',
        f'Included extra file "{tmp_path}/d/b.conf" during parsing',
        f'Included extra file "{tmp_path}/other.ini" during parsing',
    ]
    document = result.document
    assert list(document.sections) == [
        "supervisord",
        "include",
        "program:a",
        "program:b",
        "program:c",
    ]
    assert _value(document, "program:a", "command") == f"{tmp_path}/d/a"
    assert _value(document, "program:c", "command") == f"{tmp_path}/c"
    entry = document.get("program:b", "command")
    assert entry is not None and entry.file == f"{tmp_path}/d/b.conf" and entry.line == 2


def test_include_patterns_are_expanded(tmp_path: Path) -> None:
    main = _tree(
        tmp_path,
        {
            "main.conf": "[include]\nfiles=%(here)s/%(ENV_SUB)s/*.conf\n",
            "sub/x.conf": "[program:x]\ncommand=x\n",
        },
    )
    result = read_with_includes(str(main), {"here": str(tmp_path), "ENV_SUB": "sub"})
    assert "program:x" in result.document.sections


def test_a_pattern_matching_nothing_is_a_warning(tmp_path: Path) -> None:
    main = _tree(tmp_path, {"main.conf": "[include]\nfiles=nothing/*.conf\n"})
    result = read_with_includes(str(main), {"here": str(tmp_path)})
    (problem,) = result.problems
    assert problem.severity is Severity.WARNING
    assert problem.message == f'No file matches via include "{tmp_path}/nothing/*.conf"'
    assert (problem.line, problem.option) == (2, "files")


def test_nested_includes_are_not_followed(tmp_path: Path) -> None:
    main = _tree(
        tmp_path,
        {
            "main.conf": "[include]\nfiles=a.conf\n",
            "a.conf": "[include]\nfiles=b.conf\n",
            "b.conf": "[program:b]\ncommand=b\n",
        },
    )
    result = read_with_includes(str(main), {"here": str(tmp_path)})
    assert "program:b" not in result.document.sections


def test_include_without_files_is_an_error(tmp_path: Path) -> None:
    main = _tree(tmp_path, {"main.conf": "[supervisord]\n[include]\n"})
    (problem,) = read_with_includes(str(main), {"here": str(tmp_path)}).problems
    assert problem.message == ".ini file has [include] section, but no files setting"
    assert problem.line == 2


def test_directories_and_pipes_matched_by_a_glob_are_skipped(tmp_path: Path) -> None:
    main = _tree(tmp_path, {"main.conf": "[include]\nfiles=d/*\n", "d/ok.conf": "[x]\n"})
    (tmp_path / "d" / "subdir").mkdir()
    os.mkfifo(tmp_path / "d" / "pipe")
    result = read_with_includes(str(main), {"here": str(tmp_path)})
    assert "x" in result.document.sections
    skipped = sorted(p.message for p in result.problems)
    assert len(skipped) == 2
    assert all("was skipped: it is not a regular file" in m for m in skipped)
    assert all(p.severity is Severity.WARNING for p in result.problems)


def test_here_is_replaced_textually_only_when_there_is_an_include(tmp_path: Path) -> None:
    # Supervisor replaces %(here)s in the text of every value once an [include] exists, so
    # "%%(here)s" becomes "%" followed by the directory there; without [include] it stays
    # a literal "%(here)s" after expansion.
    main = _tree(tmp_path, {"main.conf": "[include]\nfiles=\n[s]\na=%%(here)s\n"})
    result = read_with_includes(str(main), {"here": str(tmp_path)})
    assert _value(result.document, "s", "a") == f"%{tmp_path}"
