#!/usr/bin/env bash
# Every attack at its defaults on 100 MNIST test digits (indices 0-99, p = 0.25 CNN) and on 100
# CIFAR-10 test images (the first 10 of each class in the committed subset, p = 0.25 AlexNet),
# natively with the release CLI. Writes one summary.json per run under $OUT and prints the
# table rows of notes/attack-figures.md. Usage: notes/attack-figures.sh [path/to/quiver]
set -euo pipefail
cd "$(dirname "$0")/.."
QUIVER=${1:-${CARGO_TARGET_DIR:-target}/release/quiver}
OUT=${OUT:-/tmp/quiver-attack-figures}
mkdir -p "$OUT"
cifar_idx=$(python3 -c 'print(",".join(f"{50*r}-{50*r+9}" for r in range(10)))')
runs=(
  "fgsm-0.1|--attack fgsm --eps 0.1"
  "fgsm-0.2|--attack fgsm --eps 0.2"
  "pgd-0.1|--attack pgd --pgd-eps 0.1"
  "pgd-0.2|--attack pgd --pgd-eps 0.2"
  "pgdl2|--attack pgdl2"
  "cw|--attack cw"
  "deepfool|--attack deepfool"
  "jsma|--attack jsma"
  "lbfgs|--attack lbfgs"
  "iaa|--attack iaa"
  "iaa-fit0|--attack iaa --iaa-fit 0"
)
for data in ${DATASETS:-mnist cifar10}; do
  if [ "$data" = mnist ]; then
    set_args=(--weights weights/mnist_cnn_p025.safetensors --data ../shared/data/mnist --indices 0-99)
  else
    set_args=(--weights weights/alexnet_cifar10_p025.safetensors --data tests/fixtures/cifar10-test-subset.png --indices "$cifar_idx")
  fi
  for r in "${runs[@]}"; do
    name=${r%%|*}; args=${r#*|}
    dir="$OUT/$data/$name"; mkdir -p "$OUT/$data"
    [ -f "$dir/summary.json" ] && continue
    # shellcheck disable=SC2086
    "$QUIVER" attack "${set_args[@]}" $args --out-dir "$dir" >"$dir.log" 2>&1 || { echo "FAILED $data $name"; tail -3 "$dir.log"; }
  done
done
python3 - "$OUT" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
for data in sorted(p.name for p in out.iterdir() if p.is_dir()):
    print(f"\n{data}\n")
    print("| attack | success (8-bit) | on correctly classified | float success | repaired | mean L2 | mean L∞ | mean L0 | mean D | iterations | ms/image |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for d in sorted((out / data).iterdir()):
        f = d / "summary.json"
        if not f.exists():
            continue
        s = json.loads(f.read_text())
        ok = [r for r in s["results"] if r["predicted_before"] == r["label"]]
        on_ok = f"{sum(r['success'] for r in ok)}/{len(ok)}"
        print(f"| {d.name} | {100*s['success_rate']:.0f} % | {on_ok} | {100*s['float_success_rate']:.0f} % | {s['repaired']} | {s['mean_l2']:.3f} | {s['mean_linf']:.3f} | {s['mean_l0']:.1f} | {s['mean_perceptual_distance']:.4f} | {s['mean_iterations']:.1f} | {s['mean_millis']:.1f} |")
PY
