"""The built board in a real browser: Playwright driving Debian's chromium over ``file://``.

Needs the ``playwright`` Python package (the ``test`` extra) and a chromium executable
(``apt-get install chromium``); no browser is ever downloaded. Skips, saying which is missing,
where either is absent.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.leaderboard.boards import Board, Column
from harness.leaderboard.pages import run_page_name
from harness.leaderboard.site_build import build_site
from harness.results.store import ResultsStore, RunRecord

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
SHOT_FOR_HUMANS = Path("/tmp/board-shot.png")
XSS = "<img src=x onerror=alert(1)>"


def chromium_path() -> str | None:
    found = (
        os.environ.get("HARNESS_CHROMIUM")
        or shutil.which("chromium")
        or next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    )
    return found


sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright Python package is not installed (pip install 'playwright>=1.40'; "
    "no browser download is needed, the test drives Debian's chromium)",
)
CHROMIUM = chromium_path()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium executable (apt-get install chromium, or set HARNESS_CHROMIUM to its path)"
)


def board() -> Board:
    columns = (
        Column("PR-AUC-macro", "PR-AUC macro"),
        Column("ROC-AUC-macro", "ROC-AUC macro"),
        Column("F-score-macro", "F-score macro"),
    )
    return Board(
        name="toy",
        title="Toy board",
        dataset="toy",
        fold="split-0",
        split="test",
        primary="PR-AUC-macro",
        columns=columns,
    )


# (submission, team, run name, PR-AUC, ROC-AUC, F-score): ROC-AUC ranks them differently.
RUNS = (
    ("bestnet", "alpha", "ensemble", 0.75, 0.70, 0.30),
    ("midnet", "beta", "run1", 0.50, 0.90, 0.35),
    ("lownet", XSS, XSS, 0.25, 0.80, 0.20),
    ("basenet", "gamma", "popular", 0.05, 0.50, 0.10),
)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    store = ResultsStore(tmp_path / "results.sqlite")
    tags = {f"mood/theme---tag{i}": {"PR-AUC": i / 20, "ROC-AUC": 0.5 + i / 40} for i in range(12)}
    for i, (submission, team, run_name, pr, roc, f1) in enumerate(RUNS):
        store.record(
            RunRecord(
                run_id=f"run-{i}",
                dataset="toy",
                fold="split-0",
                split="test",
                submission=submission,
                team=team,
                run_name=run_name,
                fingerprint="ab" * 32,
                scores={"PR-AUC-macro": pr, "ROC-AUC-macro": roc, "F-score-macro": f1},
                tag_scores=tags,
                created=f"2024-05-0{i + 1}T12:00:00Z",
                provenance={
                    "git_commit": "0123abcd",
                    "git_dirty": False,
                    "libraries": {"numpy": "2.1.0"},
                    "device": "cpu",
                    "intervals": {"PR-AUC-macro": {"low": pr - 0.02, "high": pr + 0.02}},
                },
                config={"epochs": 2},
            )
        )
    out = tmp_path / "site"
    build_site(store, [board()], out)
    return out


@pytest.fixture
def page():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.problems = []  # console errors, uncaught exceptions, dialogs (an alert would be XSS)
        page.on("console", lambda m: page.problems.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: (page.problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.on(
            "request",
            lambda r: (
                page.problems.append(f"network: {r.url}")
                if not r.url.startswith(("file://", "data:", "about:"))
                else None
            ),
        )
        yield page
        browser.close()


def submissions(page) -> list[str]:
    """The submission names of the visible rows, top to bottom."""
    return page.eval_on_selector_all(
        "#board-table tbody tr:not([hidden]) td:nth-child(2) a", "links => links.map(a => a.textContent)"
    )


def test_board_sorts_and_filters_in_a_real_browser(built: Path, page, tmp_path: Path) -> None:
    page.goto((built / "toy.html").as_uri())
    first = page.locator("#board-table tbody tr").first
    assert first.locator("td.rank").inner_text().strip() == "1"
    assert first.locator("td.primary").inner_text().startswith("0.7500")
    assert submissions(page) == ["bestnet", "midnet", "lownet", "basenet"]
    assert page.locator("img").count() == 0  # the hostile team and run names show as text
    assert page.inner_text("#board-table").count(XSS) == 2

    heading = page.locator("#board-table thead th", has_text="ROC-AUC macro")
    heading.click()  # higher is better: best first
    assert submissions(page) == ["midnet", "lownet", "bestnet", "basenet"]
    assert heading.get_attribute("aria-sort") == "descending"
    heading.click()  # reversed
    assert submissions(page) == ["basenet", "bestnet", "lownet", "midnet"]
    assert heading.get_attribute("aria-sort") == "ascending"
    heading.click()  # back to the ranked order
    assert submissions(page) == ["bestnet", "midnet", "lownet", "basenet"]
    assert heading.get_attribute("aria-sort") is None

    page.locator("#board-table thead th", has_text="Submission").click()
    assert submissions(page) == ["basenet", "bestnet", "lownet", "midnet"]
    page.locator("#board-table thead th", has_text="Submission").click()
    page.locator("#board-table thead th", has_text="Submission").click()

    page.fill("#filter", "net")
    assert len(submissions(page)) == 4
    page.fill("#filter", "popular")
    assert submissions(page) == ["basenet"]
    assert page.inner_text("#filter-count") == "1 of 4 runs shown"
    page.fill("#filter", "ONERROR")  # matches the text of the hostile names, case-insensitive
    assert submissions(page) == ["lownet"]
    page.fill("#filter", "")
    assert submissions(page) == ["bestnet", "midnet", "lownet", "basenet"]

    shot = tmp_path / "board.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    try:
        shutil.copyfile(shot, SHOT_FOR_HUMANS)
    except OSError:
        pass
    assert page.problems == []


def test_run_page_renders_charts_without_errors(built: Path, page, tmp_path: Path) -> None:
    page.goto((built / "runs" / run_page_name("run-2")).as_uri())
    chart = page.locator("svg.chart").first
    assert chart.get_attribute("role") == "img"
    assert chart.bounding_box()["width"] > 300
    assert page.locator("svg.chart rect.bar").count() == 12
    page.fill("input.filter", "tag1")  # tag1, tag10, tag11
    assert page.locator("#tags-table tbody tr:not([hidden])").count() == 3
    page.click("text=Leaderboards")
    assert page.url.endswith("/index.html")
    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
    assert page.problems == []
