#!/usr/bin/env bash
# The web console builds with Node.js >= 20 and npm >= 10: say what to install if they are
# missing or too old. (Debian 12's own `nodejs`/`npm` packages are 18 and 9: too old; the
# NodeSource `nodejs` package, 20 or newer, brings a recent npm with it.)
set -uo pipefail

NODE_MIN=20
NPM_MIN=10

major() { sed -E 's/^v?([0-9]+).*/\1/' <<<"$1"; }

advice() {
  cat >&2 <<'TEXT'
Install Node.js 20 or newer (npm comes with it), then run make again:
  Debian/Ubuntu: curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash - \
                 && sudo apt-get install -y nodejs
  (Debian 12's own `apt-get install nodejs npm` gives Node 18 and npm 9: too old.)
  Or with nvm:   nvm install 20
TEXT
  exit 1
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "The web console needs Node.js (>= $NODE_MIN) and npm (>= $NPM_MIN); not found." >&2
  advice
fi
node_version=$(node --version)
npm_version=$(npm --version)
if (( $(major "$node_version") < NODE_MIN )); then
  echo "Node.js $node_version is too old for the web console (needs >= $NODE_MIN)." >&2
  advice
fi
if (( $(major "$npm_version") < NPM_MIN )); then
  echo "npm $npm_version is too old for the web console (needs >= $NPM_MIN): npm install -g npm@10" >&2
  exit 1
fi
