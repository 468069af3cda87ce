#!/usr/bin/env bash
# Installs what this project needs on a fresh Debian bookworm machine (root, Node 20, no GPU):
#   - Mesa 25 lavapipe (software Vulkan) from bookworm-backports, so Dawn under Node has an adapter
#   - Debian's Chromium, for the headless-browser tests (it brings its own SwiftShader)
#   - the npm packages (npm ci)
# Idempotent: each step is skipped when what it installs is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

need_apt=()
# lavapipe: Dawn rejects bookworm's Mesa 22.3, so take Mesa 25 from bookworm-backports.
mesa_ver=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo none)
case "$mesa_ver" in
  2[5-9].*|[3-9][0-9].*) ;;
  *) need_apt+=(mesa-vulkan-drivers) ;;
esac
[ -x /usr/bin/chromium ] || need_apt+=(chromium)

if [ ${#need_apt[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  # Derive the backports source from the machine's own Debian source (same URIs), never a fixed host.
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
    src=/etc/apt/sources.list.d/debian.sources
    if [ -f "$src" ]; then
      uri=$(awk '/^URIs:/{print $2; exit}' "$src")
      key=$(awk '/^Signed-By:/{print $2; exit}' "$src")
    else
      uri=$(awk '$1=="deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list)
      key=/usr/share/keyrings/debian-archive-keyring.gpg
    fi
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' \
      "$uri" "${key:-/usr/share/keyrings/debian-archive-keyring.gpg}" | $SUDO tee /etc/apt/sources.list.d/backports.sources >/dev/null
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  pkgs=()
  for p in "${need_apt[@]}"; do
    if [ "$p" = mesa-vulkan-drivers ]; then
      $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
    else
      pkgs+=("$p")
    fi
  done
  if [ ${#pkgs[@]} -gt 0 ]; then
    $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
elif [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: warning: apt-get not found; install by hand: ${need_apt[*]}" >&2
fi

# Say so early if the tests cannot run, rather than failing deep inside a suite.
ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 \
  || echo "setup: warning: no lavapipe ICD in /usr/share/vulkan/icd.d; Dawn in Node will find no adapter" >&2
[ -x /usr/bin/chromium ] || echo "setup: warning: /usr/bin/chromium missing; the browser suite will fail under CI" >&2

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
echo "setup: done (mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo '?'), $(/usr/bin/chromium --version 2>/dev/null || echo 'no chromium'))"
