"""User text in CLI output: ``safe()`` fragments never make rich markup, and tables off a terminal are TSV."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from rich.markup import render
from rich.table import Table

from harness.cli._common import _Console, plain, safe

# Characters that make (or break) rich markup, plus letters and control characters.
FRAGMENT = st.text(alphabet=st.sampled_from(list("[]/\\@#=ab ") + ["\x1b", "\x07", "\x9b", "\n"]), max_size=12)


@given(FRAGMENT, FRAGMENT, FRAGMENT)
def test_safe_fragments_joined_with_markup_never_make_tags(a: str, b: str, c: str) -> None:
    """``TEAM[`` + ``/`` + ``]x`` once made the tag ``[/]`` and crashed ``runs show``; any join is text."""
    text = render(f"[bold]{safe(a)}[/]/{safe(b)}[dim]{safe(c)}[/]").plain
    if "\\" not in a + b + c:  # a backslash right before a bracket may show doubled; never a crash
        assert text == plain(a) + "/" + plain(b) + plain(c)


def test_a_trailing_run_of_backslashes_cannot_escape_the_next_tag() -> None:
    """``\\\\\\`` (three) kept one odd backslash before ``[dim]``: the tag was escaped and ``[/]`` crashed."""
    for n in range(1, 7):
        assert render(f"[bold]x{safe(chr(92) * n)}[/][dim]y[/]").plain == "x" + chr(92) * n + "y"


def test_plain_shows_control_characters() -> None:
    assert plain("a\x1b[31mb\x07\tc\nd\x9b") == "a\\x1b[31mb\\x07\tc\nd\\x9b"


def test_tables_off_a_terminal_are_tsv_with_whole_values() -> None:
    out = io.StringIO()
    console = _Console(file=out, width=40, highlight=False)
    assert not console.is_terminal
    table = Table("submission", "title\n(long)", title=f"zoo {safe('[x]')}")
    table.add_row("cnn-spectrogram-simple-with-a-very-long-name", f"{safe('[/]a')}\nsecond line")
    console.print(table)
    assert out.getvalue() == (
        "# zoo [x]\nsubmission\ttitle (long)\ncnn-spectrogram-simple-with-a-very-long-name\t[/]a second line\n"
    )


def test_tables_on_a_terminal_stay_tables() -> None:
    out = io.StringIO()
    console = _Console(file=out, width=60, force_terminal=True, color_system=None, highlight=False)
    table = Table("a", "b")
    table.add_row("1", "2")
    console.print(table)
    assert "┃" in out.getvalue() and "\t" not in out.getvalue()
