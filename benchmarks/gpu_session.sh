#!/usr/bin/env bash
# Issue 8's GPU figures and CUDA checks in one command on a lent GPU machine (the `device` tool):
#
#   run(command="bash benchmarks/gpu_session.sh 'H100 device machine'", timeout_s=600)
#
# The device image has torch, torchaudio, timm, typer, rich, scikit-learn, pandas and jinja2, so
# the package goes in without dependencies. Runs the CUDA tests, then train_speed.py at split-0's
# full size with three full epochs, then feature_speed.py (CUDA extraction rows). Each benchmark
# appends its rows to benchmarks/RESULTS.md there; the file and the logs come back under $OUT, and
# the new rows are copied into this checkout's RESULTS.md by hand (the device tree is a copy).
# A step that fails is reported and the next one still runs; the exit status is the first failure's.
set -uo pipefail
MACHINE="${1:-GPU device machine}"
OUT="${OUT:-/tmp/gpu_session}"
mkdir -p "$OUT"
status=0
step() {  # step NAME COMMAND...: run, log to $OUT/NAME.log, remember the first failure
    local name="$1"; shift
    echo "== $name: $*"
    "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    tail -n 25 "$OUT/$name.log"
    echo "== $name: exit $rc"
    [ "$rc" -ne 0 ] && [ "$status" -eq 0 ] && status=$rc
    return 0
}
step install pip install --no-deps -e .
step gpu nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
step cuda-tests python -m pytest -q -p no:cacheprovider -k "cuda" tests/protocol tests/submissions tests/features
step train-speed python benchmarks/train_speed.py --full-epochs 3 --machine "$MACHINE" --append-results
step feature-speed python benchmarks/feature_speed.py --machine "$MACHINE" --append-results
cp benchmarks/RESULTS.md "$OUT/RESULTS.md"
exit "$status"
