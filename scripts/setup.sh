#!/usr/bin/env bash
# Installs everything Quiver's build and tests need, on a fresh Debian 12 machine that has only
# rustup's Rust. Idempotent: each step is skipped when the tool is already there at the right
# version, so a second run takes seconds.
#
#   wasm32-unknown-unknown target   rustup target add
#   trunk 0.21.14                   cargo install --locked (about 15 min the first time)
#   wasm-bindgen-cli = Cargo.lock's wasm-bindgen (cargo install, about 4 min)
#   chromium (+ chromium-driver)    apt-get, only when no Chromium is found (for the e2e tests)
#   Node.js + npm                   apt-get, only when missing (the build's CSP hook needs Node)
#   tests/e2e/node_modules          npm ci (playwright-core, axe-core, pinned in package-lock.json)
#
# Environment: QUIVER_SKIP_BROWSER=1 skips Chromium and playwright-core (build and serve only).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
TRUNK_VERSION=0.21.14

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# Root or sudo for apt-get.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "setup: need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

APT_UPDATED=0
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "setup: apt-get not found; please install these packages yourself: $*" >&2
        exit 1
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
    say "apt-get install -y $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# --- Rust toolchain -----------------------------------------------------------------------------
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null 2>&1 || ! command -v rustup >/dev/null 2>&1; then
    echo "setup: cargo/rustup not found; install Rust with rustup first (https://rustup.rs)" >&2
    exit 1
fi
say "$(rustc --version)"

# A C compiler and linker: rustup's Rust needs one, and so do some of trunk's dependencies.
if ! command -v cc >/dev/null 2>&1; then
    apt_install build-essential pkg-config
fi

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "wasm32-unknown-unknown target: present"
else
    say "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi

# --- trunk --------------------------------------------------------------------------------------
have_trunk=$(trunk --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_trunk" = "$TRUNK_VERSION" ]; then
    say "trunk $TRUNK_VERSION: present"
else
    say "cargo install trunk --version $TRUNK_VERSION --locked (found: ${have_trunk:-none}; takes ~15 min)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# --- wasm-bindgen-cli: must equal the wasm-bindgen crate in Cargo.lock ---------------------------
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ -z "$WB_VERSION" ]; then
    echo "setup: could not read the wasm-bindgen version from Cargo.lock" >&2
    exit 1
fi
TRUNK_WB=$(sed -n 's/^wasm_bindgen *= *"\(.*\)"/\1/p' Trunk.toml)
if [ -n "$TRUNK_WB" ] && [ "$TRUNK_WB" != "$WB_VERSION" ]; then
    echo "setup: Trunk.toml asks for wasm-bindgen $TRUNK_WB but Cargo.lock has $WB_VERSION; make them equal" >&2
    exit 1
fi
have_wb=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_wb" = "$WB_VERSION" ]; then
    say "wasm-bindgen-cli $WB_VERSION: present"
else
    say "cargo install wasm-bindgen-cli --version $WB_VERSION (found: ${have_wb:-none}; takes ~4 min)"
    cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# --- Node.js: the build's post-build hook (tools/csp.mjs), the static server, the e2e suite -------
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    say "node $(node --version), npm $(npm --version): present"
else
    apt_install nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
    echo "setup: Node.js $(node --version) is too old (the build's CSP hook and playwright-core need 18 or newer)" >&2
    exit 1
fi

if [ "${QUIVER_SKIP_BROWSER:-0}" = "1" ]; then
    say "QUIVER_SKIP_BROWSER=1: skipping Chromium and playwright-core"
    say "done"
    exit 0
fi

# --- Chromium for the e2e tests -----------------------------------------------------------------
chromium_bin=""
for c in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$c" ] && [ -x "$c" ]; then chromium_bin=$c; break; fi
done
if [ -n "$chromium_bin" ]; then
    say "chromium: $chromium_bin ($("$chromium_bin" --version 2>/dev/null | head -n1))"
else
    apt_install chromium chromium-driver
fi

# --- the e2e suite's npm packages ---------------------------------------------------------------

E2E="$ROOT/tests/e2e"
# Each dependency at the version package-lock.json pins (playwright-core, axe-core).
missing=$(node -e "
  const lock = require('$E2E/package-lock.json').packages;
  const deps = Object.keys(require('$E2E/package.json').dependencies);
  const have = (d) => { try { return require('$E2E/node_modules/' + d + '/package.json').version; } catch { return ''; } };
  console.log(deps.filter((d) => have(d) !== lock['node_modules/' + d].version).join(' '));
")
if [ -z "$missing" ]; then
    say "tests/e2e: npm packages present (package-lock.json)"
else
    say "tests/e2e: npm ci for $missing (browsers are not downloaded, Debian's chromium is used)"
    (cd "$E2E" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

say "done"
