"""Where each page of the site lives: file names and anchors, safe on any file system.

index.html              every board
<board>.html            a board (:attr:`~harness.leaderboard.boards.Board.page_name`)
runs/<slug>.html        one run (:func:`run_page_name`)
groups/<slug>.html      one configuration of a k-fold board (:func:`group_page_names`)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.leaderboard.boards import Board
    from harness.leaderboard.grouping import SeedGroup

RUNS_DIR = "runs"
GROUPS_DIR = "groups"
MAX_SLUG = 80


def short_hash(text: str) -> str:
    """Ten hex digits of the SHA-256 of ``text``: a stable, file-safe tag."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def run_page_name(run_id: str) -> str:
    """A file name for the run's page, safe on any file system and unique per run id.

    Ids made only of lower-case letters, digits, '.', '_' and '-' are kept as they are; any
    other id is slugged and given a short hash of the id, so distinct ids never collide.
    """
    slug = re.sub(r"[^a-z0-9._-]+", "-", run_id.lower()).strip(".-_")[:MAX_SLUG] or "run"
    if slug != run_id:
        slug = f"{slug}-{short_hash(run_id)}"
    return f"{slug}.html"


def run_href(run_id: str) -> str:
    """The run's page, relative to the site's root."""
    return f"{RUNS_DIR}/{run_page_name(run_id)}"


def seed_anchor(group: SeedGroup) -> str:
    """The id of a seed group's row in a board's "Over seeds" table."""
    return f"seeds-{short_hash(group.key)}"


def section_ids(group: SeedGroup) -> list[str]:
    """Ids of the members' sections on a k-fold group page: ``seed-3``, ``seed-3-2`` for a
    second row of seed 3, ``run`` for a row without a seed."""
    ids, seen = [], {}
    for member in group.members:
        base = "run" if member.seed is None else f"seed-{member.seed}"
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def group_page_names(board: Board, groups: Iterable[SeedGroup]) -> dict[str, str]:
    """File names (under ``groups/``) of a k-fold board's pages, one per seed group, by its key.

    A page of one row is named after the row's submission, team and run name, a page of several
    seeds after ``seeds``; a name two pages would share gets the group's key hashed into it.
    """
    groups = list(groups)
    bases = {
        g.key: f"{board.name}/{g.submission}/{g.team}/" + (g.members[0].run_name if len(g.members) == 1 else "seeds")
        for g in groups
    }
    counts: dict[str, int] = {}
    for base in bases.values():
        counts[base] = counts.get(base, 0) + 1
    return {
        key: run_page_name(base if counts[base] == 1 else f"{base}/{short_hash(key)}") for key, base in bases.items()
    }
