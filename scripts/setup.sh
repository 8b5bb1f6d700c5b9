#!/usr/bin/env bash
# Brings this machine up to what `make run` and `make test` need, and does
# nothing (quickly) when it is already there. Safe to run again and again.
#
#   scripts/setup.sh        # everything (make setup)
#   scripts/setup.sh run    # what make run needs: npm packages, redis-server, nginx
#   scripts/setup.sh test   # that, plus Chromium and a font for the browser test,
#                           # promtool for the monitoring test, and systemd-nspawn
#                           # for the systemd test (deploy/ensure-nspawn.sh), and
#                           # PostgreSQL (running) for the store tests
#   scripts/setup.sh npm    # only node_modules (make typecheck, make build)
#
#   - node_modules from package-lock.json (npm ci), which brings the pinned Bun
#     and TypeScript to node_modules/.bin;
#   - system programs from Debian/Ubuntu packages, installed with apt-get when
#     running as root, otherwise printed as the one command to run.
#
# A later need is one more line at the bottom, e.g. `need_apt_package nginx nginx`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=${1:-all}
case $mode in
  all | run | test | npm) ;;
  *) printf 'setup: unknown argument %s (expected run, test or npm)\n' "$mode" >&2; exit 64 ;;
esac

say() { printf 'setup: %s\n' "$*" >&2; }

# --- npm packages -----------------------------------------------------------

ensure_node_modules() {
  if ! command -v npm >/dev/null 2>&1; then
    say "npm is not installed; it is needed to install Bun and TypeScript into node_modules/."
    say "Install Node.js 20 or newer with npm, e.g. on Debian/Ubuntu:"
    printf '  sudo apt-get install -y nodejs npm\n' >&2
    exit 1
  fi
  if [[ -f node_modules/.package-lock.json && ! package-lock.json -nt node_modules/.package-lock.json && -x node_modules/.bin/bun && -x node_modules/.bin/tsc ]]; then
    return 0
  fi
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  if ! node_modules/.bin/bun --version >/dev/null 2>&1; then
    say "npm ci finished but node_modules/.bin/bun does not run; see npm's output above."
    exit 1
  fi
}

# --- Debian/Ubuntu packages -------------------------------------------------

missing_apt_packages=()
missing_commands=()

# need_apt_package <command> <package>: <package> provides <command>; install it if <command> is missing.
need_apt_package() {
  local command=$1 package=$2
  # Daemons such as nginx live in sbin, which a non-root PATH may lack.
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$command" >/dev/null 2>&1; then
    missing_apt_packages+=("$package")
    missing_commands+=("$command")
  fi
}

# need_apt_file <path> <package>: <package> provides the file <path>; install it if <path> is missing.
need_apt_file() {
  local path=$1 package=$2
  if [[ ! -e $path ]]; then
    missing_apt_packages+=("$package")
    missing_commands+=("")
  fi
}

install_missing_apt_packages() {
  ((${#missing_apt_packages[@]} == 0)) && return 0
  local packages="${missing_apt_packages[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    say "missing system packages: $packages. Install them with:"
    printf '%s\n' "sudo apt-get install -y $packages" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing system packages: $packages, and apt-get is not here (not Debian/Ubuntu?): install them with your package manager."
    exit 1
  fi
  say "installing $packages (apt-get)"
  # One update for the whole list; no prompts (CI has no stdin). The packages' own
  # services may start (Debian starts redis-server on 6379); nothing here uses them.
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_apt_packages[@]}" </dev/null
  local i
  for i in "${!missing_commands[@]}"; do
    [[ -n ${missing_commands[i]} ]] || continue
    if ! PATH="$PATH:/usr/sbin:/sbin" command -v "${missing_commands[i]}" >/dev/null 2>&1; then
      say "installed ${missing_apt_packages[i]}, but ${missing_commands[i]} is still not on PATH ($PATH)"
      exit 1
    fi
  done
  missing_apt_packages=()
  missing_commands=()
}

ensure_node_modules
[[ $mode == npm ]] && exit 0

# `make run` starts its own redis-server and nginx, and so do the tests (on free ports).
need_apt_package redis-server redis-server
need_apt_package nginx nginx
if [[ $mode != run ]]; then
  # The browser test (test/web.test.ts) drives Debian's Chromium, with a font that has
  # the page's glyphs (as web/ensure-chromium.sh installs them).
  need_apt_package chromium chromium
  need_apt_file /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf fonts-dejavu-core
  # test/monitoring.test.ts checks deploy/monitoring with promtool, from Debian's
  # Prometheus package (its server may start on 9090; nothing here uses it).
  need_apt_package promtool prometheus
  # test/nginx-tls.test.ts makes a self-signed certificate and probes TLS versions with openssl.
  need_apt_package openssl openssl
  # test/pg-store.test.ts and test/pg-client-torture.test.ts each make a database of their own
  # on the PostgreSQL at 127.0.0.1:5432 (user postgres); the package brings psql and the server.
  need_apt_package psql postgresql
fi
install_missing_apt_packages

# Debian starts the packaged cluster on install; a machine may still have it stopped.
if [[ $mode != run ]] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  [[ $(id -u) -eq 0 ]] && service postgresql start >/dev/null 2>&1 || true
  pg_isready -q -h 127.0.0.1 -p 5432 ||
    say "no PostgreSQL listens on 127.0.0.1:5432; start it with: sudo service postgresql start (or pg_ctlcluster <version> main start)"
fi

# The systemd test boots a throwaway systemd: systemd-container must match systemd's version.
[[ $mode == run ]] || bash deploy/ensure-nspawn.sh
