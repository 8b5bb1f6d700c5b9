#!/usr/bin/env bash
# Compiles each service into one standalone executable: dist/bin/api, dist/bin/ws,
# dist/bin/price. They embed the Bun runtime and every dependency, so they run
# with no node_modules beside them (that is how /opt/app/bin gets them).
#
#   scripts/build.sh            # builds what is older than its sources
#   scripts/build.sh --force    # builds all three
#   scripts/build.sh api ws     # only these
#
# Full --minify is not used: identifier minification breaks Elysia's error
# handler, so only whitespace and syntax are minified.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bun=${BUN:-}
if [[ -z $bun ]]; then
  if [[ -x node_modules/.bin/bun ]]; then bun=node_modules/.bin/bun; else bun=$(command -v bun || true); fi
fi
[[ -n $bun ]] || { echo "build: bun not found (run npm ci, or set BUN=/path/to/bun)" >&2; exit 1; }

force=0
services=()
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    api | ws | price) services+=("$arg") ;;
    *) echo "build: unknown argument '$arg' (expected --force, api, ws or price)" >&2; exit 64 ;;
  esac
done
((${#services[@]})) || services=(api ws price)

out=dist/bin
mkdir -p "$out"
# Two builds at once (two test files, or make build beside a test) take turns.
exec 9>"$out/.build.lock"
flock 9

# A binary is stale when any source it may include, the dependency set, or how it is built is newer.
stale() {
  local bin=$out/$1
  [[ -x $bin ]] || return 0
  [[ -n $(find "$1" common package.json package-lock.json bunfig.toml tsconfig.json scripts/build.sh -newer "$bin" -type f -print -quit 2>/dev/null) ]]
}

for name in "${services[@]}"; do
  [[ -f $name/main.ts ]] || { echo "build: $name/main.ts is missing" >&2; exit 1; }
  if ((force == 0)) && ! stale "$name"; then
    echo "build: $out/$name is up to date"
    continue
  fi
  tmp=$(mktemp "$out/.$name.XXXXXX")
  # ws holds thousands of sockets and memory is its limit, not CPU: its per-message
  # work is Bun's native publish. --smol collects its heap more often, and a JIT
  # tier-up 16 times later keeps the optimising compilers (their code and memory)
  # for what is really hot. Together ~6 MB off its peak RSS at 5,000 clients, CPU
  # per message unchanged (docs/benchmarks.md, "ws peak RSS: how it came down").
  runtime=()
  [[ $name == ws ]] && runtime=(--compile-exec-argv=--smol --compile-jit-policy=16)
  if ! "$bun" build "$name/main.ts" --compile "${runtime[@]}" --target bun --minify-whitespace --minify-syntax --outfile "$tmp" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -f "$tmp" "$tmp.log"
    echo "build: $name failed" >&2
    exit 1
  fi
  rm -f "$tmp.log"
  chmod 0755 "$tmp"
  mv -f "$tmp" "$out/$name" # atomic: a running test never sees half a binary
  echo "build: $out/$name ($(du -h "$out/$name" | cut -f1))"
done
