#!/usr/bin/env bash
# Make sure the system libraries WeasyPrint needs are present (Debian/Ubuntu names).
# Installs them with apt when we can (root, or passwordless sudo); otherwise says exactly what to run.
set -euo pipefail

PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core)
LIBS=(libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz.so.0 libharfbuzz-subset.so.0 libfontconfig.so.1)

missing_libs=()
for lib in "${LIBS[@]}"; do
    if ! /sbin/ldconfig -p 2>/dev/null | grep -q "$lib"; then
        missing_libs+=("$lib")
    fi
done
if ! fc-list 2>/dev/null | grep -qi dejavu && [ ! -d /usr/share/fonts/truetype/dejavu ]; then
    missing_libs+=("fonts-dejavu-core")
fi
[ ${#missing_libs[@]} -eq 0 ] && exit 0

echo "system libraries missing for PDF rendering: ${missing_libs[*]}" >&2
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get here: install Pango >= 1.44, HarfBuzz (with hb-subset) and a TrueType font, then retry." >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "run this once as root, then retry:" >&2
    echo "    apt-get update && apt-get install -y ${PACKAGES[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
echo "installed: ${PACKAGES[*]}" >&2
