#!/bin/bash
# User-space instructions per operation, library and C, counted with callgrind (issue 30;
# bench/analysis.md). As root, after `npm run bench` has built dist/bench:
#
#   bash bench/fixed-cost.sh [OP...]      (default: get handle async1)
#
# Each count is (instructions with N ops - instructions with 0 ops) / N, so startup and
# warm-up cancel out. The totals include node's background threads (TurboFan compiling, a
# prime test from start-up): ±100 per op between runs; bench/analysis.md's figures leave them
# out (callgrind_annotate per symbol: `compiler::`, `sprp`). Valgrind has no openat2 (ENOSYS): under it the library opens a key one
# component at a time (core::OpenByComponents), about 260 instructions and 3 system calls more
# per one-shot read than on a real kernel; subtract that from `get` and `async1`.
# getAll and audit are listed for completeness: under valgrind the optimising compiler lags far
# behind, so their JavaScript runs in the baseline tiers and the counts overstate it (time
# them with CPU time instead, as bench/analysis.md does).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "fixed-cost: needs valgrind" >&2; exit 1; }
[ -f dist/bench/fixed-cost.js ] || { echo "fixed-cost: run npm run bench (or tsc -p tsconfig.bench.json) first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -Wall -o "$tmp/baseline" bench/baseline.c -lpthread

count() { # count NAME [--toggle-collect=FN] CMD... : total instructions of one run (inside FN)
  local name=$1 opt=()
  shift
  case "$1" in --toggle-collect=*) opt=("$1"); shift ;; esac
  valgrind --tool=callgrind "${opt[@]}" --callgrind-out-file="$tmp/$name.out" "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
declare -A C_CASE=([get]=oneshot_read [handle]=cached_pread [async1]=worker_rt [getAll]=walk_all [audit]=walk_all)
declare -A N=([get]=100000 [handle]=200000 [async1]=20000 [getAll]=200 [audit]=100)
for op in "${@:-get handle async1}"; do
  for o in $op; do
    n=${N[$o]}
    c=${C_CASE[$o]}
    a=$(count "lib-$o-0" node dist/bench/fixed-cost.js "$o" 0)
    b=$(count "lib-$o-n" node dist/bench/fixed-cost.js "$o" "$n")
    echo "library $o: $(((b - a) / n)) instructions/op"
    a=$(count "c-$c-0" "$tmp/baseline" "$c" 0)
    b=$(count "c-$c-n" "$tmp/baseline" "$c" "$n")
    echo "C $c: $(((b - a) / n)) instructions/op"
    if [ "$o" = getAll ]; then
      # The native walk alone (callgrind counts only inside DoWalk), against C's walk function:
      # the part of getAll that the optimising compiler's lag under valgrind does not distort.
      a=$(count "lib-walk-0" --toggle-collect='*DoWalk*' node dist/bench/fixed-cost.js getAll 0)
      b=$(count "lib-walk-n" --toggle-collect='*DoWalk*' node dist/bench/fixed-cost.js getAll "$n")
      echo "library getAll, the addon's walk alone: $(((b - a) / n)) instructions/op"
      a=$(count "c-walk-0" --toggle-collect=walk "$tmp/baseline" walk_all 0)
      b=$(count "c-walk-n" --toggle-collect=walk "$tmp/baseline" walk_all "$n")
      echo "C walk_all, its walk function alone: $(((b - a) / n)) instructions/op"
    fi
  done
done
