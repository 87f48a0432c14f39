"""``python -m harness.cli``: how torchrun starts each rank of ``harness run --nproc N``."""

from harness.cli import main

main()
