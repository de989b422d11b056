#!/usr/bin/env bash
# The L-BFGS and IAA detector runs of issue 10 (MC dropout, the three shipped MNIST models,
# T = 50, seed 0, test images 0–999, default attack parameters, untargeted). Run from the
# repository root:  nohup nice -n 19 notes/study-attacks.sh /tmp/qbin/quiver > logs/study-attacks.log 2>&1 &
set -uo pipefail
Q=${1:-target/release/quiver}
run() { local s=$(date +%s); echo "== $(date -u +%T) $*"; "$Q" "$@"; echo "== $(date -u +%T) rc=$? in $(( $(date +%s) - s )) s"; }
run study --passes 50 --seed 0 --attack iaa --attack-images 1000 --attack-only
run study --passes 50 --seed 0 --attack lbfgs --attack-images 1000 --attack-only
