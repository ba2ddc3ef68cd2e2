#!/usr/bin/env bash
# The console's browser tests drive Debian's Chromium (/usr/bin/chromium) with Playwright;
# screenshots of the Chinese pages need a CJK font. Install what is missing (apt, with sudo
# when not root), like `make system-deps`.
set -euo pipefail

packages=()
[[ -x /usr/bin/chromium ]] || packages+=(chromium)
if ! command -v fc-list >/dev/null || [[ -z "$(fc-list :lang=zh family 2>/dev/null)" ]]; then
  packages+=(fonts-wqy-microhei)
fi
(( ${#packages[@]} )) || exit 0

if ! command -v apt-get >/dev/null; then
  echo "Install ${packages[*]} (the console's browser tests use /usr/bin/chromium), then run make again." >&2
  exit 1
fi
sudo=""
[[ "$(id -u)" == 0 ]] || sudo=sudo
echo "Installing ${packages[*]} (the console's browser tests)"
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${packages[@]}"
