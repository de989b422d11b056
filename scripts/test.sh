#!/usr/bin/env bash
# Set up, then run every test:
#   1. cargo test --workspace --release   (quiver-core, quiver-cli and the app's native tests)
#   2. scripts/build-site.sh              (the site, into dist/: trunk build --release, twice)
#   3. the e2e suite (tests/e2e/run.mjs)  headless Chromium against dist/, served locally from a
#                                         sub-path (tools/static-server.mjs); the tests are in
#                                         tests/e2e/specs/, one file per area
#   4. tests/e2e/webgpu.mjs               WebGPU (software adapter) against the CPU path
# Any failure stops the script with a non-zero status.
#
# Environment: SKIP_CARGO_TEST=1, SKIP_BUILD=1 (reuse an existing dist/), E2E_FILTER="name part".
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

start=$(date +%s)
step() { printf '\n\033[1m== %s\033[0m  (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "setup"
./scripts/setup.sh

if [ "${SKIP_CARGO_TEST:-0}" != "1" ]; then
    step "cargo test --workspace --release"
    # --no-default-features: the native tests do not need the app's WebGPU backend (wgpu, naga).
    # Optimised tests (Burn is slow unoptimised), without the shipping profile's fat LTO and single
    # codegen unit: those only slow down linking each test binary. The test harness compiles its own
    # (unwinding) copies of the dependencies anyway, so nothing shared with release builds changes.
    CARGO_PROFILE_RELEASE_LTO=${CARGO_PROFILE_RELEASE_LTO:-false} \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-16} \
        cargo test --workspace --release --no-default-features
fi

step "no import cycle among the app's modules"
python3 tools/modgraph.py src

if [ "${SKIP_BUILD:-0}" != "1" ]; then
    step "scripts/build-site.sh (trunk build --release: the CPU build, and the WebGPU copy in dist/gpu/)"
    ./scripts/build-site.sh
fi
test -f dist/index.html || { echo "test: dist/index.html missing after the build" >&2; exit 1; }

step "e2e (headless Chromium)"
# shellcheck disable=SC2086
node tests/e2e/run.mjs ${E2E_FILTER:+"$E2E_FILTER"}

if [ -z "${E2E_FILTER:-}" ]; then
    step "e2e: WebGPU (software adapter) gives the CPU path's numbers"
    node tests/e2e/webgpu.mjs
fi

step "all tests passed in $(( $(date +%s) - start )) s"
