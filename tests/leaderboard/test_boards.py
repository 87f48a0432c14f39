"""Board files against the metric registry: unknown keys, contradicting directions, aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInputError, FormatError
from harness.leaderboard.boards import Board, Column, Reference, load_board, load_boards
from harness.metrics import keys

REPO = Path(__file__).resolve().parents[2]

BOARD = """
name = "mine"
title = "Mine"
dataset = "cal500"
folds = ["fold-0", "fold-1"]
split = "test"
primary = "{primary}"
[[columns]]
key = "{key}"
{extra}
[[columns]]
key = "PR-AUC-macro"
"""


def _load(tmp_path: Path, primary: str = "PR-AUC-macro", key: str = "hamming-loss", extra: str = "") -> Board:
    path = tmp_path / "mine.toml"
    path.write_text(BOARD.format(primary=primary, key=key, extra=extra))
    return load_board(path)


@pytest.mark.parametrize(
    "key, extra, message",
    [
        ("mAP", "", "unknown metric key 'mAP'; known: ROC-AUC-macro, PR-AUC-macro"),
        ("PR-AUC", "", "unknown metric key 'PR-AUC'"),  # a per-tag key is no board column
        (
            "hamming-loss",
            "higher_is_better = true",
            "higher_is_better = true contradicts the metric registry: hamming-loss is lower-is-better",
        ),
        (
            "F1-macro",
            "higher_is_better = false",
            "higher_is_better = false contradicts the metric registry: F-score-macro is higher-is-better",
        ),
    ],
)
def test_a_column_the_registry_contradicts_is_one_error_naming_file_and_key(
    tmp_path: Path, key: str, extra: str, message: str
) -> None:
    with pytest.raises(FormatError) as info:
        _load(tmp_path, key=key, extra=extra)
    assert isinstance(info.value, BadInputError)
    text = str(info.value)
    assert str(tmp_path / "mine.toml") in text and f"key {key!r}" in text and message in text


def test_directions_default_to_the_registry(tmp_path: Path) -> None:
    board = _load(tmp_path)
    assert [(c.key, c.higher_is_better) for c in board.columns] == [("hamming-loss", False), ("PR-AUC-macro", True)]
    assert _load(tmp_path, extra="higher_is_better = false").columns == board.columns  # agreeing is fine


def test_f1_macro_is_an_alias_of_f_score_macro_everywhere_on_a_board(tmp_path: Path) -> None:
    text = BOARD.format(primary="F1-macro", key="F1-macro", extra='label = "F1 macro"') + (
        '[[references]]\nname = "Paper"\ncitation = "Someone 2020"\nscores = { "F1-macro" = 0.41, "PR-AUC-macro" = 0.5 }\n'
    )
    path = tmp_path / "mine.toml"
    path.write_text(text)
    board = load_board(path)
    assert board.primary == "F-score-macro" and board.primary_column.label == "F1 macro"
    assert board.references[0].scores == {"F-score-macro": 0.41, "PR-AUC-macro": 0.5}
    # both names of one metric are one column twice
    path.write_text(text.replace('key = "PR-AUC-macro"', 'key = "F-score-macro"'))
    with pytest.raises(FormatError, match="repeats the keys F-score-macro"):
        load_board(path)


def test_a_board_built_in_code_maps_aliases_too() -> None:
    board = Board(
        name="b",
        title="B",
        dataset="d",
        fold="f",
        split="test",
        primary="F1-macro",
        columns=(Column("F1-macro"), Column("one-error")),
        references=(Reference("P", "C", {"F1-macro": 0.4}),),
    )
    assert board.primary == "F-score-macro" and board.columns[0].label == "F1-macro"  # the name as given
    assert board.columns[1].higher_is_better is False
    assert board.references[0].scores == {"F-score-macro": 0.4}


def test_the_real_boards_use_canonical_keys_in_the_registry_directions() -> None:
    boards = {b.name: b for b in load_boards(REPO / "leaderboards")}
    assert {"toy", "mtg-jamendo-moodtheme", "cal500", "cal500exp"} <= set(boards)
    for board in boards.values():
        for column in board.columns:
            assert column.key == keys.canonical(column.key)
            assert column.higher_is_better == keys.get(column.key).higher_is_better
    for name in ("cal500", "cal500exp"):
        assert boards[name].primary == "F-score-macro" and boards[name].primary_column.label == "F1 macro"
