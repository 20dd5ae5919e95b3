#!/usr/bin/env bash
# The weak-to-strong study at full size on one GPU machine: every run of
# configs/study/w2s_fashion-mnist_full.py, JOBS at a time on the one GPU,
# one CPU thread each (their data loading shares the cores).
#
#   bash tools/study_gpu.sh [--data-root DIR] [more w2s_study.py options]
#
# CONFIG, JOBS, WORK_DIR and PYTHON override the config, the runs at a time (14:
# a 16-core machine, two cores left to the dispatcher) and the output
# directory. Rerunning it reuses every finished run.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-configs/study/w2s_fashion-mnist_full.py}
JOBS=${JOBS:-14}
WORK_DIR=${WORK_DIR:-work_dirs/w2s_fashion-mnist_full}
"${PYTHON:-python}" tools/w2s_study.py "$CONFIG" --jobs "$JOBS" --threads 1 \
    --work-dir "$WORK_DIR" "$@"
