#!/usr/bin/env bash
# Makes systemd-nspawn available for test/deploy-systemd.test.ts (which boots a
# throwaway systemd to run deploy/install.sh in). Called by scripts/setup.sh;
# quick and silent when it is already there.
#
# systemd-nspawn comes in Debian's systemd-container, which must be the exact
# version of the installed systemd: any other version would make apt-get
# upgrade (or downgrade) systemd itself. Without root, or off Debian, it only
# says what is missing: the systemd test then skips with the same reason.
set -euo pipefail

say() { printf 'ensure-nspawn: %s\n' "$*" >&2; }

command -v systemd-nspawn >/dev/null 2>&1 && exit 0

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  say "systemd-nspawn is missing and this is not Debian/Ubuntu: install systemd-container to run the systemd test"
  exit 0
fi
version=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null || true)
if [[ -z $version ]]; then
  say "systemd is not installed here: the systemd test will be skipped"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  say "systemd-nspawn is missing; to run the systemd test: sudo apt-get install systemd-container=$version"
  exit 0
fi

candidates() { apt-cache madison systemd-container 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }'; }
if ! candidates | grep -qxF "$version"; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
fi
if ! candidates | grep -qxF "$version"; then
  say "apt has no systemd-container $version (the installed systemd's version); found: $(candidates | tr '\n' ' ')"
  say "upgrade systemd and systemd-container together (apt-get install systemd systemd-container), then run this again"
  exit 1
fi
say "installing systemd-container=$version (apt-get)"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "systemd-container=$version" </dev/null
[[ $(dpkg-query -W -f='${Version}' systemd) == "$version" ]] || { say "apt-get changed systemd's version: that must not happen"; exit 1; }
command -v systemd-nspawn >/dev/null 2>&1 || { say "systemd-container is installed but systemd-nspawn is not on PATH"; exit 1; }
