#!/usr/bin/env bash
# The static gate (npm run check): typecheck, Biome's linter and formatter for TypeScript and
# JavaScript, clang-format for the C and C++ sources, and the layering of lib/. Each check runs
# even when an earlier one failed; the exit status is the number of checks that failed.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=0
check() { # check NAME COMMAND...
  local name=$1
  shift
  if "$@"; then echo "check: ok: $name"; else echo "check: FAILED: $name"; failed=$((failed + 1)); fi
}
check typecheck npx tsc -p tsconfig.json --noEmit
check lint npx biome lint --error-on-warnings .
check format npx biome format .
if command -v clang-format >/dev/null; then
  mapfile -t native < <(git ls-files '*.c' '*.cc' '*.h' 2>/dev/null || find native bench test -name '*.c' -o -name '*.cc' -o -name '*.h')
  check native-format clang-format --dry-run --Werror "${native[@]}"
else
  echo "check: FAILED: native-format (clang-format is not installed: apt-get install clang-format)"
  failed=$((failed + 1))
fi
[ -f scripts/check-layers.mjs ] && check layers node scripts/check-layers.mjs
exit "$failed"
