#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (test/web.test.ts) when it is
# missing; does nothing, quickly, when it is there. Playwright's own browser
# download cannot be reached here, so playwright-core drives /usr/bin/chromium.
#
#   bash web/ensure-chromium.sh
#
# A font with the page's glyphs (◆, –, ✓) comes along, so screenshots read well.
set -euo pipefail

if [[ -x /usr/bin/chromium ]] && fc-list 2>/dev/null | grep -qi dejavu; then
  exit 0
fi
packages=(chromium fonts-dejavu-core)
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-chromium: Chromium is missing. Install it with:" >&2
  echo "  sudo apt-get install -y ${packages[*]}" >&2
  exit 1
fi
echo "ensure-chromium: installing ${packages[*]} (apt-get)" >&2
DEBIAN_FRONTEND=noninteractive apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" </dev/null
/usr/bin/chromium --version >&2
