#!/usr/bin/env bash
# Goes back one release: /opt/app/bin is switched to the release installed
# before the active one (deploy/release.sh), its units are installed again, and
# the services restart one at a time (price, api, ws), each waited for until it
# answers its readiness check, as deploy/install.sh does. If one is not ready,
# the release that was active is restored and the exit status is 1.
#
#   sudo deploy/rollback.sh         # one release back
#   sudo deploy/rollback.sh --list  # the releases, the active one marked
#
# The release rolled back from is kept (deploy/install.sh keeps the last 3).
# /data is not touched: a release never changes the database's schema
# backwards, see docs/deployment.md.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'rollback: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
# shellcheck source=deploy/release.sh
source "$root/deploy/release.sh"

list=0
case ${1:-} in
  "") ;;
  --list) list=1 ;;
  *) echo "usage: $0 [--list]" >&2; exit 64 ;;
esac

active=$(active_release)
mapfile -t all < <(list_releases)
if ((list)); then
  for version in "${all[@]}"; do
    if [[ $version == "$active" ]]; then printf '%s (active)\n' "$version"; else printf '%s\n' "$version"; fi
  done
  exit 0
fi

[[ $(id -u) -eq 0 ]] || die "run as root (sudo $0)"
[[ -n $active ]] || die "$bin_link is not a link to a release: nothing to roll back (install with deploy/install.sh first)"
target=
for version in "${all[@]}"; do
  [[ $version < $active ]] && target=$version
done
[[ -n $target ]] || die "no release older than the active one ($active) in $releases_dir"

say "going back from $active to $target"
activate "$target" "$active" || die "release $target is not ready: $active is active again"
say "release $target is active and ready (was $active)"
