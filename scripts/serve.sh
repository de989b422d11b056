#!/usr/bin/env bash
# Set up, build the site in release mode and serve dist/ on http://127.0.0.1:8080
# (PORT=… to change the port). Ctrl-C stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
PORT=${PORT:-8080}

QUIVER_SKIP_BROWSER=${QUIVER_SKIP_BROWSER:-1} ./scripts/setup.sh

echo "serve: scripts/build-site.sh (CPU build, and the WebGPU copy in dist/gpu/)"
./scripts/build-site.sh

echo "serve: http://127.0.0.1:$PORT/"
# A static server that knows application/wasm, with no dependencies beyond Node or Python.
if command -v node >/dev/null 2>&1; then
    exec node tools/static-server.mjs dist "$PORT" /
else
    exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory dist
fi
