"""``<sweep_dir>/sweep.json``: a sweep's grid and each job's state, rewritten atomically as events arrive.

``harness sweep status SWEEP_DIR`` reads it back. States: ``done`` (skipped: a finished run
existed), ``queued``, ``running``, ``done``, ``failed``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness import atomic
from harness.errors import BadInputError
from harness.results.record import now_utc
from harness.sweep.jobs import JobResult, SweepJob

STATE_FILE = "sweep.json"
STATES: tuple[str, ...] = ("skipped", "queued", "running", "done", "failed")


class SweepState:
    """The sweep's document in memory; :meth:`save` writes it whole."""

    def __init__(self, sweep_dir: Path, header: dict[str, Any]) -> None:
        self.path = Path(sweep_dir) / STATE_FILE
        self.doc: dict[str, Any] = {**header, "started": now_utc(), "finished": None, "jobs": []}
        self.index: dict[SweepJob, int] = {}

    def add(self, job: SweepJob, state: str, run_dir: str | None = None) -> None:
        self.index[job] = len(self.doc["jobs"])
        entry = {"label": job.label(), **asdict(job), "state": state, "run_dir": run_dir, "error": None}
        entry.update(started=None, finished=None)
        self.doc["jobs"].append(entry)

    def update(self, job: SweepJob, state: str, result: JobResult | None = None, error: str | None = None) -> None:
        entry = self.doc["jobs"][self.index[job]]
        entry["state"] = state
        if state == "running":
            entry["started"] = now_utc()
        if result is not None:
            entry.update(run_dir=result.run_dir, error=error or result.error, log=result.log, finished=now_utc())
        self.save()

    def finish(self) -> None:
        self.doc["finished"] = now_utc()
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_json(self.path, self.doc)


def read_state(sweep_dir: Path) -> dict[str, Any]:
    path = Path(sweep_dir) / STATE_FILE
    if not path.is_file():
        raise BadInputError(f"{sweep_dir}: no {STATE_FILE} here (expected the folder of a `harness sweep run`)")
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(f"{path}: not readable as a sweep state ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), list):
        raise BadInputError(f"{path}: not a sweep state (no list of jobs)")
    return doc


def counts(doc: dict[str, Any]) -> dict[str, int]:
    """How many jobs are in each state."""
    out = dict.fromkeys(STATES, 0)
    for job in doc["jobs"]:
        out[job.get("state", "queued")] = out.get(job.get("state", "queued"), 0) + 1
    return out
