"""``python -m harness.sweep.worker JOB_JSON OUT``: one sweep job as one rank of a torchrun (DDP) job.

Rank 0 writes the run folder's path to ``OUT``; the job's output goes where the caller's does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    from harness.protocol import distributed
    from harness.protocol.runner import run
    from harness.sweep.jobs import LogObserver, SweepJob, request_for

    job = SweepJob(**json.loads(argv[0]))
    results = run(request_for(job), LogObserver())
    if distributed.from_environment().is_main:
        Path(argv[1]).write_text(str(results[0].run_dir.resolve()))


if __name__ == "__main__":
    main(sys.argv[1:])
