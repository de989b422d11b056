#!/usr/bin/env bash
# The MC-dropout study runs of issue 10 (T = 50, seed 0, each model at its training p), one after
# another. While they run, the ensemble training (notes/ensembles.sh, process id in $1 if given)
# is paused so that only one heavy job runs at a time. Run from the repository root:
#   nohup nice -n 19 notes/study-runs.sh [TRAIN_PID] > logs/study-runs.log 2>&1 &
set -uo pipefail
Q=target/ens/quiver-study
TRAIN=${1:-}
pause() { [ -n "$TRAIN" ] && kill -STOP "$TRAIN" $(pgrep -P "$TRAIN"); true; }
resume() { [ -n "$TRAIN" ] && kill -CONT "$TRAIN" $(pgrep -P "$TRAIN"); true; }
trap resume EXIT
pause
run() { local s=$(date +%s); echo "== $(date -u +%T) $*"; "$Q" "$@"; echo "== $(date -u +%T) rc=$? in $(( $(date +%s) - s )) s"; }
run study --passes 50 --seed 0
run study --passes 50 --seed 0 --attack fgsm --eps 0.1 --attack-images 2000 --attack-only
run study --passes 50 --seed 0 --attack fgsm --eps 0.2 --attack-images 2000 --attack-only
