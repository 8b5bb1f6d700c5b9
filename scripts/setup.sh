#!/usr/bin/env bash
# Brings this machine up to what `make run` and `make test` need, and does
# nothing (quickly) when it is already there. Safe to run again and again.
#
#   - node_modules from package-lock.json (npm ci), which brings the pinned Bun
#     and TypeScript to node_modules/.bin;
#   - system programs from Debian/Ubuntu packages, installed with apt-get when
#     running as root, otherwise printed as the one command to run.
#
# A later need is one more line at the bottom, e.g. `need_apt_package nginx nginx`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

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
    if ! PATH="$PATH:/usr/sbin:/sbin" command -v "${missing_commands[i]}" >/dev/null 2>&1; then
      say "installed ${missing_apt_packages[i]}, but ${missing_commands[i]} is still not on PATH ($PATH)"
      exit 1
    fi
  done
  missing_apt_packages=()
  missing_commands=()
}

ensure_node_modules

# `make run` starts its own redis-server, and so do the tests (on free ports).
need_apt_package redis-server redis-server
need_apt_package nginx nginx
install_missing_apt_packages
