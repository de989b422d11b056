#!/usr/bin/env bash
# Trains the two MNIST ensembles of issue 10 (K = 5 each, dropout 0.25, 5 epochs like
# mnist_cnn_p025) into weights/ensembles/ (their own manifest.json, so the app's model list in
# weights/manifest.json is unchanged), interleaved so that both grow together: seeds member k
# uses --seed 10+k on all 60,000 images; half-data member k uses --seed 1 on a random 50 % drawn
# by --subset-seed k. A member whose weights file exists is skipped (mnist_cnn has no epoch
# checkpoints, so a stopped run resumes at the next member). Run from the repository root:
#   nohup nice -n 19 notes/ensembles.sh target/ens/quiver > logs/ensembles.log 2>&1 &
set -euo pipefail
Q=${1:-target/release/quiver}
for k in 1 2 3 4 5; do
  for kind in seeds half; do
    out=weights/ensembles/mnist_ens_${kind}_p025_k$k.safetensors
    [ -e "$out" ] && { echo "skip $out"; continue; }
    if [ $kind = seeds ]; then extra="--seed $((10 + k))"; else extra="--seed 1 --subset-fraction 0.5 --subset-seed $k"; fi
    start=$(date +%s)
    echo "== $(date -u +%T) start $out"
    "$Q" train --dropout 0.25 --epochs 5 $extra --report-passes 10 --ensemble mnist_${kind}_p025:$k --out "$out"
    echo "== $(date -u +%T) done $out in $(( $(date +%s) - start )) s"
  done
done
