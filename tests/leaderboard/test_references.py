"""Published reference rows (``[[references]]``): loaded and validated from a board file, shown
unranked with a "published" badge, their citation, note, address and external-data badge, and
never moving the ranks of the runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import BadInputError, FormatError
from harness.leaderboard.boards import Board, Column, Reference, load_board
from harness.leaderboard.checked_store import CheckedStore
from harness.leaderboard.site_build import build_site, plan_site
from harness.results.store import ResultsStore, RunRecord

REPO = Path(__file__).resolve().parents[2]
JAMENDO = REPO / "leaderboards" / "mtg-jamendo-moodtheme.toml"

HEAD = (
    'name = "b"\ntitle = "B"\ndataset = "toy"\nfold = "split-0"\nsplit = "test"\nprimary = "PR-AUC-macro"\n'
    '[[columns]]\nkey = "PR-AUC-macro"\n[[columns]]\nkey = "ROC-AUC-macro"\n'
)


def reference_toml(**fields: str) -> str:
    """One ``[[references]]`` table: name, citation and scores by default, ``fields`` as TOML values."""
    values = {"name": '"Paper net"', "citation": '"Someone et al., A paper, Venue, 2020"'}
    values["scores"] = '{ "PR-AUC-macro" = 0.15 }'
    values.update(fields)
    return "[[references]]\n" + "".join(f"{key} = {value}\n" for key, value in values.items())


def board_file(tmp_path: Path, *references: str) -> Path:
    path = tmp_path / "b.toml"
    path.write_text(HEAD + "".join(references), encoding="utf-8")
    return path


def toy_board(*references: Reference) -> Board:
    return Board(
        name="toy",
        title="Toy board",
        dataset="toy",
        fold="split-0",
        split="test",
        primary="PR-AUC-macro",
        columns=(Column("PR-AUC-macro"), Column("ROC-AUC-macro")),
        references=references,
    )


def run(run_id: str, pr_auc: float, roc_auc: float = 0.7, dataset: str = "toy") -> RunRecord:
    return RunRecord(
        run_id=run_id,
        dataset=dataset,
        fold="split-0",
        split="test",
        submission=run_id,
        team="harness",
        run_name="seed-0",
        fingerprint="cd" * 32,
        scores={"PR-AUC-macro": pr_auc, "ROC-AUC-macro": roc_auc},
        tag_scores={},
        seed=0,
        created="2024-05-01T12:00:00Z",
        provenance={},
        config={},
    )


def board_rows(store: ResultsStore, board: Board) -> list[dict]:
    return plan_site(CheckedStore(store), [board]).board(board.name)["rows"]


def run_ranks(rows: list[dict]) -> list[tuple[str, int | None]]:
    return [(row["submission"], row["rank"]) for row in rows if not row["reference"]]


# loading and validation


def test_the_new_fields_load_from_a_board_file(tmp_path: Path) -> None:
    path = board_file(
        tmp_path,
        reference_toml(
            url='"https://arxiv.org/abs/2502.03979"', external_data="true", note='"Averaged from per-tag AP."'
        ),
        reference_toml(name='"Plain"'),
    )
    board = load_board(path)
    first, plain = board.references
    assert (first.url, first.external_data, first.note) == (
        "https://arxiv.org/abs/2502.03979",
        True,
        "Averaged from per-tag AP.",
    )
    assert (plain.url, plain.external_data, plain.note) == ("", False, "")  # all three optional


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("external_data", '"yes"', "field 'external_data' must be true or false"),
        ("external_data", "1", "field 'external_data' must be true or false"),
        ("url", "3", "field 'url' must be an http"),
        ("url", '"javascript:alert(1)"', "field 'url' must be an http"),
        ("url", '"doi.org/10.1/x"', "field 'url' must be an http"),
        ("url", '"https://a b"', "field 'url' must be an http"),
        ("note", "0.5", "field 'note' must be a string"),
        ("citation", '""', "field 'citation' must be a non-empty string"),
        ("scores", '{ "PR-AUC-macro" = "high" }', "field 'scores.PR-AUC-macro' must be a finite number"),
        ("scores", '{ "PR-AUC-macro" = true }', "field 'scores.PR-AUC-macro' must be a finite number"),
    ],
)
def test_a_bad_field_is_refused_naming_the_file_and_the_row(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    path = board_file(tmp_path, reference_toml(name='"Fine"'), reference_toml(**{field: value}))
    with pytest.raises(FormatError) as caught:
        load_board(path)
    assert isinstance(caught.value, BadInputError)
    text = str(caught.value)
    assert text.startswith(f"{path}: references[1] ('Paper net'): "), text  # the file, the row's index and name
    assert message in text


def test_an_unknown_field_and_a_repeated_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"b.toml: unknown field 'references\[0\]\.doi'"):
        load_board(board_file(tmp_path, reference_toml(doi='"10.1/x"')))
    with pytest.raises(FormatError, match=r"b.toml: references\[1\] \('Paper net'\): another reference row"):
        load_board(board_file(tmp_path, reference_toml(), reference_toml()))
    with pytest.raises(FormatError, match=r"b.toml: references\[0\] \('Paper net'\): .*not columns: F-score-macro"):
        load_board(board_file(tmp_path, reference_toml(scores='{ "F1-macro" = 0.4 }')))


def test_the_dataclass_checks_the_same_fields() -> None:
    with pytest.raises(BadInputError, match="external_data"):
        Reference("P", "C", {"PR-AUC-macro": 0.1}, external_data="false")  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match="url"):
        Reference("P", "C", {"PR-AUC-macro": 0.1}, url="ftp://example.org/p.pdf")
    assert Reference("P", "C", {"PR-AUC-macro": 0.1}, url="http://example.org/p.pdf").url.startswith("http://")


def test_the_jamendo_board_carries_the_published_state_of_the_art() -> None:
    board = load_board(JAMENDO)
    found = {r.name: (r.scores, r.external_data) for r in board.references}
    assert found == {
        "SAIL-MiM-USC ensemble (MediaEval 2020)": ({"PR-AUC-macro": 0.1610}, True),
        "SAIL-MiM-USC best single model (MediaEval 2020)": ({"PR-AUC-macro": 0.1561}, False),
        "lileonardo (MediaEval 2021)": ({"PR-AUC-macro": 0.1508, "ROC-AUC-macro": 0.7747}, False),
        "MERT-330M probe": ({"PR-AUC-macro": 0.1400, "ROC-AUC-macro": 0.7650}, True),
        "MERT-95M probe": ({"PR-AUC-macro": 0.1340, "ROC-AUC-macro": 0.7640}, True),
        "Music2Emo (MTG-Jamendo labels only)": ({"PR-AUC-macro": 0.1521, "ROC-AUC-macro": 0.7806}, True),
        "Music2Emo (with DEAM, EmoMusic, PMEmo)": ({"PR-AUC-macro": 0.1543, "ROC-AUC-macro": 0.7810}, True),
    }
    for reference in board.references:
        assert reference.url.startswith("https://") and reference.note, reference.name
        assert any(year in reference.citation for year in ("2020", "2021", "2025")), reference.name
    for name in ("MERT-330M probe", "MERT-95M probe"):  # taken from another paper's table: said on the row
        reference = next(r for r in board.references if r.name == name)
        assert "Kang" in reference.citation and "not from the MERT paper" in reference.note


# the board


def test_reference_rows_are_unranked_with_badges_citation_and_note(tmp_path: Path) -> None:
    references = (
        Reference(
            "Ensemble",
            "Team, Overview, Workshop, 2020",
            {"PR-AUC-macro": 0.16},
            note="PR-AUC macro only.",
            url="https://example.org/overview",
            external_data=True,
        ),
        Reference("Probe", "Kang and Herremans, 2025", {"PR-AUC-macro": 0.14, "ROC-AUC-macro": 0.765}),
    )
    store = ResultsStore(tmp_path / "results.sqlite")
    for run_id, value in (("a", 0.17), ("b", 0.15), ("c", 0.13)):
        store.record(run(run_id, value))
    rows = board_rows(store, toy_board(*references))
    assert [(row["submission"], row["rank"], row["reference"]) for row in rows] == [
        ("a", 1, False),
        ("Ensemble", None, True),
        ("b", 2, False),
        ("Probe", None, True),
        ("c", 3, False),
    ]
    ensemble, probe = rows[1], rows[3]
    assert [b["text"] for b in ensemble["badges"]] == ["published", "external data"]
    assert [b["text"] for b in probe["badges"]] == ["published"]
    assert (ensemble["run_name"], ensemble["note"], ensemble["url"]) == (
        "Team, Overview, Workshop, 2020",
        "PR-AUC macro only.",
        "https://example.org/overview",
    )
    assert (probe["note"], probe["url"]) == ("", "")
    assert [c["text"] for c in ensemble["cells"]] == ["0.1600", "—"]  # ROC-AUC not reported: a dash
    assert [c["text"] for c in probe["cells"]] == ["0.1400", "0.7650"]


def test_the_page_shows_the_citation_note_and_address_without_linking_out(tmp_path: Path) -> None:
    reference = Reference(
        "Ensemble <i>x</i>",
        "Team, Overview & notes, 2020",
        {"PR-AUC-macro": 0.16},
        note="Averaged from <b>per-tag</b> AP.",
        url="https://example.org/overview?a=1&b=2",
        external_data=True,
    )
    store = ResultsStore(tmp_path / "results.sqlite")
    store.record(run("a", 0.17))
    out = tmp_path / "site"
    build_site(store, [toy_board(reference)], out)
    page = (out / "toy.html").read_text(encoding="utf-8")
    row = page[page.index('<tr class="reference">') :]
    row = row[: row.index("</tr>")]
    assert "Ensemble &lt;i&gt;x&lt;/i&gt;" in row and ">published</span>" in row and ">external data</span>" in row
    assert "Team, Overview &amp; notes, 2020" in row
    assert "Averaged from &lt;b&gt;per-tag&lt;/b&gt; AP." in row
    assert "https://example.org/overview?a=1&amp;b=2" in row
    assert 'href="https://' not in page  # the site stays self-contained: the address is text
    assert '<span class="sub" title="A published figure: not ranked">ref</span>' in row
    assert '<span class="sub">by' not in row  # a reference row has no team: no empty "by"
    # citation, note and address fold into one line until opened: a row stays one line tall
    assert '<details class="ref"><summary class="sub">source and note</summary>' in row
    assert (
        row.index("<details") < row.index("Averaged from") < row.index("https://example.org") < row.index("</details>")
    )


def test_reference_rows_do_not_change_the_runs_ranks(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    values = [0.17, 0.165, 0.16, 0.1555, 0.152, 0.15, 0.14, 0.1345, 0.12, 0.1]
    for i, value in enumerate(values):
        store.record(run(f"r{i}", value, dataset="mtg-jamendo-moodtheme"))
    board = load_board(JAMENDO)
    with_references = board_rows(store, board)
    without = board_rows(store, replace(board, references=()))
    assert len(with_references) == len(without) + len(board.references)
    assert run_ranks(with_references) == run_ranks(without)
    assert all(row["rank"] is None for row in with_references if row["reference"])
    primary = [next(c["raw"] for c in row["cells"] if c["primary"]) for row in with_references]
    assert primary == sorted(primary, reverse=True)  # references sort in by their PR-AUC macro
    assert [row["position"] for row in with_references] == list(range(1, len(with_references) + 1))
