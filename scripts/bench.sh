#!/usr/bin/env bash
# Benchmark the built site (dist/) in headless Chromium: the app's ?bench=1 report (forward,
# MC dropout T = 50 and FGSM timings, bytes transferred), for device=auto and device=cpu, plus the
# raw and gzip sizes of the wasm module and plotly.js.
#
#   ./scripts/bench.sh            (builds dist/ first when it is missing; BUILD=1 forces a build)
#   ./scripts/bench.sh --json     (machine-readable)
#   ./scripts/bench.sh --attacks  (FGSM ε 0.1/0.2, L-BFGS, IAA on the first 100 MNIST test digits)
#   ./scripts/bench.sh --colour   (the timings on the CIFAR-10 AlexNet)
#   ./scripts/bench.sh --peers    (beside TensorFlow.js's wasm backend, same model and work, same
#                                  browser run, with the ratios: tools/bench-peers/run.mjs)
#
# The attack benchmark page (?bench=attacks) is not in the shipped build: --attacks builds a
# separate site with the cargo feature attack-bench into target/dist-attack-bench (every time, so
# that it is never stale) and benchmarks that one; dist/ is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

attacks=0
for arg in "$@"; do
    if [ "$arg" = "--attacks" ]; then attacks=1; fi
done

./scripts/setup.sh >&2

if [ "$attacks" = "1" ]; then
    ATTACK_DIST=target/dist-attack-bench
    echo "bench: trunk build --release --features attack-bench --dist $ATTACK_DIST" >&2
    trunk build --release --features attack-bench --dist "$ATTACK_DIST" >&2
    QUIVER_DIST="$ATTACK_DIST" node tools/bench.mjs "$@"
    exit 0
fi

peers=0
for arg in "$@"; do
    if [ "$arg" = "--peers" ]; then peers=1; fi
done

if [ "${BUILD:-0}" = "1" ] || [ ! -f dist/index.html ]; then
    echo "bench: scripts/build-site.sh" >&2
    ./scripts/build-site.sh >&2
fi
if [ "$peers" = "1" ]; then
    # TF.js is this tool's dev-dependency only (tools/bench-peers/package.json), never the site's.
    (cd tools/bench-peers && npm ci --no-audit --no-fund >&2)
    exec node tools/bench-peers/run.mjs
fi
node tools/bench.mjs "$@"

if [ "${1:-}" != "--json" ]; then
    echo
    echo "gzip -c | wc -c (default level, for comparison):"
    for f in dist/*.wasm dist/vendor/plotly*.js; do
        [ -f "$f" ] || continue
        printf '  %-60s raw %9d  gzip %9d\n' "$f" "$(wc -c <"$f")" "$(gzip -c "$f" | wc -c)"
    done
fi
