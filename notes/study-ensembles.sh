#!/usr/bin/env bash
# The ensemble study runs of issue 10, one after another, for the members trained so far
# (notes/ensembles.sh; members are found by their manifest `ensemble` tag). Every attack is white
# box on the ensemble's mean softmax (core's model::Ensemble). Run from the repository root:
#   nohup nice -n 19 notes/study-ensembles.sh target/release/quiver > logs/study-ensembles.log 2>&1 &
set -uo pipefail
Q=${1:-target/release/quiver}
run() { local s=$(date +%s); echo "== $(date -u +%T) $*"; "$Q" "$@"; echo "== $(date -u +%T) rc=$? in $(( $(date +%s) - s )) s"; }
for g in mnist_seeds_p025 mnist_half_p025; do
  run study --ensemble-group $g
  run study --ensemble-group $g --attack fgsm --eps 0.1 --attack-images 2000 --attack-only
  run study --ensemble-group $g --attack fgsm --eps 0.2 --attack-images 2000 --attack-only
  run study --ensemble-group $g --attack iaa --attack-images 1000 --attack-only
done
# L-BFGS is ~5× the single model's cost on K = 5 members: the first 500 test images.
for g in mnist_seeds_p025 mnist_half_p025; do
  run study --ensemble-group $g --attack lbfgs --attack-images 500 --attack-only
done
