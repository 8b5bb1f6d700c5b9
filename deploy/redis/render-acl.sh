#!/usr/bin/env bash
# Prints the Redis ACL file of tap-trading: deploy/redis/users.acl without its
# comments, each @<name>-password-sha256@ replaced by the SHA-256 of the first
# line of <folder>/redis-<name>.password (trimmed, as the services read it).
#
#   deploy/redis/render-acl.sh /etc/tap-trading > /etc/redis/tap-trading.acl
#
# Used by deploy/install.sh and by the tests (test/support/redis-server.ts).
set -euo pipefail

die() { printf 'render-acl: %s\n' "$*" >&2; exit 1; }
(($# == 1)) || die "usage: $0 <folder holding redis-<name>.password>"
dir=$1
template=$(dirname "${BASH_SOURCE[0]}")/users.acl

edits=(-e '/^#/d' -e '/^[[:space:]]*$/d')
for name in $(grep -oE '@[a-z]+-password-sha256@' "$template" | sed -E 's/^@([a-z]+)-.*/\1/' | sort -u); do
  file=$dir/redis-$name.password
  [[ -r $file ]] || die "$file is missing"
  password=
  IFS= read -r password <"$file" || true # a last line without a newline is still read
  password=${password#"${password%%[![:space:]]*}"}
  password=${password%"${password##*[![:space:]]}"}
  [[ -n $password ]] || die "$file is empty: the password is its first line"
  hash=$(printf '%s' "$password" | sha256sum)
  edits+=(-e "s/@$name-password-sha256@/${hash%% *}/g")
done

acl=$(sed "${edits[@]}" "$template")
! grep -q 'password-sha256@' <<<"$acl" || die "a placeholder of $template was left unfilled"
printf '%s\n' "$acl"
