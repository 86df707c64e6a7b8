"""%(name)s expansion: Python's % semantics with Supervisor's error messages."""

from __future__ import annotations

import pytest

from vigil.config.expand import ExpansionError, environment_names, expand

NAMES = {"here": "/etc", "process_num": 3, "ENV_HOME": "/root"}


def test_names_and_conversions() -> None:
    assert expand("%(here)s/x", NAMES, "l") == "/etc/x"
    assert expand("%(process_num)02d", NAMES, "l") == "03"
    assert expand("no names", NAMES, "l") == "no names"


def test_double_percent_is_a_literal_percent() -> None:
    assert expand("100%% of %(ENV_HOME)s", NAMES, "l") == "100% of /root"


def test_unknown_name_lists_what_is_available() -> None:
    with pytest.raises(ExpansionError) as caught:
        expand("%(nope)s", NAMES, "program:a.command")
    assert str(caught.value) == (
        "Format string '%(nope)s' for 'program:a.command' contains names ('nope') which "
        "cannot be expanded. Available names: ENV_HOME, here, process_num"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("100%", "incomplete format"),
        ("%(here)", "incomplete format"),
        ("%(here)z", "unsupported format character 'z' (0x7a) at index 7"),
        ("%(here)d", "%d format: a real number is required, not str"),
    ],
)
def test_bad_formats_give_pythons_reason(text: str, reason: str) -> None:
    with pytest.raises(ExpansionError) as caught:
        expand(text, NAMES, "x.y")
    assert str(caught.value) == f"Format string {text!r} for 'x.y' is badly formatted: {reason}"


def test_an_unnamed_specifier_is_refused_rather_than_leaking_the_names() -> None:
    # Supervisor would put its whole table of names, environment included, into the value.
    with pytest.raises(ExpansionError, match="without a name"):
        expand("date +%s", NAMES, "program:a.command")
    with pytest.raises(ExpansionError, match="real number is required, not dict"):
        expand("%d", NAMES, "l")


def test_huge_field_widths_are_refused_instead_of_allocated() -> None:
    with pytest.raises(ExpansionError, match="too large"):
        expand("%(here)999999999s", NAMES, "l")


def test_environment_names() -> None:
    assert environment_names({"A": "1"}) == {"ENV_A": "1"}
