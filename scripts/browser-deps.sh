#!/usr/bin/env bash
# The browser the browser tests drive: Debian's chromium (Playwright never downloads one here).
# Installs it with apt when we can (root, or passwordless sudo); otherwise says so, and the browser
# tests skip with that message. Never fails the caller.
set -uo pipefail

[ -x /usr/bin/chromium ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser tests: no apt-get here to install chromium; they will be skipped" >&2
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "browser tests: to run them, install chromium once as root: apt-get install -y chromium" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq || true
if "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
    echo "installed: chromium (for the browser tests)" >&2
else
    echo "browser tests: installing chromium failed; they will be skipped" >&2
fi
exit 0
