"""Local sweep workers share the cores out: N workers with all cores' threads each run slower than one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_a_worker_takes_its_share_of_the_threads() -> None:
    code = (
        "import os, torch\n"
        "from harness.sweep.launchers import limit_threads\n"
        "limit_threads(1)\n"
        "print(torch.get_num_threads(), os.environ['OMP_NUM_THREADS'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1"]


def test_the_pool_gives_each_worker_the_cores_divided_by_the_workers(monkeypatch) -> None:
    from concurrent import futures

    from harness.sweep import launchers

    seen = {}

    class Pool(futures.ThreadPoolExecutor):  # records what the launcher asks of its process pool
        def __init__(self, max_workers, mp_context=None, initializer=None, initargs=()):
            seen.update(workers=max_workers, initializer=initializer, initargs=initargs)
            super().__init__(max_workers=max_workers)

    monkeypatch.setattr(launchers, "ProcessPoolExecutor", Pool)
    monkeypatch.setattr(launchers.os, "cpu_count", lambda: 8)
    assert launchers.launch_local([], Path("."), 4, lambda *a: None) == []
    assert seen == {}  # no jobs: no pool
    from harness.sweep.jobs import JobResult, SweepJob

    job = SweepJob("popular", "toy", "split-0", 0, None, "cpu", 1, "runs", None, False)
    monkeypatch.setattr(launchers, "run_job", lambda j: JobResult(j, True, None, None, None))
    launchers.launch_local([job], Path("."), 4, lambda *a: None)
    assert seen == {"workers": 4, "initializer": launchers.limit_threads, "initargs": (2,)}
