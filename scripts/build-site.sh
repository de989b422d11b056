#!/usr/bin/env bash
# Build the site into dist/ (release): first the WebGPU copy of the app (cargo feature `webgpu`)
# into target/dist-gpu/, then the CPU build every visitor loads, whose post-build hook puts the
# WebGPU copy's module under dist/gpu/ and makes the start-up script choose between them
# (tools/variants.mjs). Extra arguments go to both `trunk build` calls.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
gpu_dist="$PWD/target/dist-gpu"
echo "build-site: trunk build --release --features webgpu --dist target/dist-gpu $*"
env -u QUIVER_GPU_DIST trunk build --release --features webgpu --dist "$gpu_dist" "$@"
echo "build-site: trunk build --release $* (CPU build, with the WebGPU copy in dist/gpu/)"
QUIVER_GPU_DIST="$gpu_dist" trunk build --release "$@"
