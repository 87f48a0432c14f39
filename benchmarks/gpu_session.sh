#!/usr/bin/env bash
# Issue 8's GPU figures and CUDA checks on a lent GPU machine (the `device` tool), e.g.
#
#   run(command="bash benchmarks/gpu_session.sh 'H100 device machine'", timeout_s=600)
#   run(command="bash benchmarks/gpu_session.sh 'H100 device machine' train-speed", timeout_s=600)
#
# Steps, in order (all by default; name some to run only those, e.g. one per device call when a
# whole session would pass the 10-minute limit of one call):
#   install        pip install --no-deps -e .  (the image has torch, torchaudio, timm, typer, rich,
#                  scikit-learn, pandas and jinja2); always run first
#   gpu            nvidia-smi: the GPU's name, memory and driver
#   cuda-tests     the tests that need CUDA (skipped on the CPU)
#   train-speed    benchmarks/train_speed.py at split-0's full size, three full epochs
#   feature-speed  benchmarks/feature_speed.py (CUDA extraction and crop rows)
# Each benchmark appends its rows to benchmarks/RESULTS.md there. After every step its log and
# RESULTS.md are copied under $OUT, so a step cut off by the time limit still returns the rows of
# the steps before it; copy the new rows into this checkout's RESULTS.md (the device tree is a
# copy). A failed step is reported and the next one still runs; the exit status is the first
# failure's.
set -uo pipefail
MACHINE="${1:-GPU device machine}"
shift || true
STEPS=("$@")
[ ${#STEPS[@]} -eq 0 ] && STEPS=(gpu cuda-tests train-speed feature-speed)
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
    cp benchmarks/RESULTS.md "$OUT/RESULTS.md"
    return 0
}
step install pip install --no-deps -e .
for name in "${STEPS[@]}"; do
    case "$name" in
        install) ;;
        gpu) step gpu nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv ;;
        cuda-tests) step cuda-tests python -m pytest -q -p no:cacheprovider -k cuda tests/protocol tests/submissions tests/features ;;
        train-speed) step train-speed python benchmarks/train_speed.py --full-epochs 3 --machine "$MACHINE" --append-results ;;
        feature-speed) step feature-speed python benchmarks/feature_speed.py --machine "$MACHINE" --append-results ;;
        *) echo "unknown step '$name'; steps: install gpu cuda-tests train-speed feature-speed" >&2; exit 2 ;;
    esac
done
exit "$status"
