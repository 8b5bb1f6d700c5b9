#!/usr/bin/env bash
# Runs `bun test` (extra arguments go to it), keeps its exit status, and ends
# with one plain line that any reader can count: `N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

output=$(mktemp)
trap 'rm -f "$output"' EXIT

status=0
# Integration tests start real servers: 30 s per test (each test/ file also sets it, for plain bun test).
node_modules/.bin/bun test --timeout 30000 "$@" 2>&1 | tee "$output" || status=$?

# Bun's summary: " 38 pass", " 1 skip", " 0 fail" (" 1 error" for an error outside a test).
count() {
  sed 's/\x1b\[[0-9;]*m//g' "$output" | awk -v word="$1" '$2 == word && $1 ~ /^[0-9]+$/ && NF == 2 { n = $1 } END { print n + 0 }'
}
passed=$(count pass)
failed=$(count fail)
skipped=$(($(count skip) + $(count todo)))
# A failing run must never read as all green.
if ((status != 0 && failed == 0)); then failed=$(( $(count error) > 0 ? $(count error) : 1 )); fi

line="$passed passed, $failed failed"
((skipped > 0)) && line+=", $skipped skipped"
echo
echo "$line"
exit "$status"
