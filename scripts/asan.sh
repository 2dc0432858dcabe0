#!/usr/bin/env bash
# npm run test:asan: build the addon with AddressSanitizer into a scratch copy of the package
# (the real build/ is left alone), run a native-heavy exercise under it with LeakSanitizer,
# and fail on any ASan error or any leak. Node itself is not instrumented, so libasan is
# preloaded. Needs root (namespaces), gcc with libasan. Takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d /tmp/netns-asan.XXXXXX)
trap 'rm -rf "$work"' EXIT
npm run -s build:ts
cp -r binding.gyp native package.json dist "$work"/
ln -s "$root/node_modules" "$work/node_modules"
(cd "$work" && CXXFLAGS="-fsanitize=address -fno-omit-frame-pointer -g -O1" LDFLAGS="-fsanitize=address" \
  npx node-gyp rebuild >"$work/build.log" 2>&1) || { cat "$work/build.log"; exit 1; }
# (no `nm | grep -q` under pipefail: grep -q exits at the first match, nm dies of SIGPIPE)
syms=$(nm -D "$work/build/Release/netns.node")
grep -q __asan_init <<<"$syms" || { echo "asan: the addon is not instrumented"; exit 1; }
# One leak is N-API's, not ours: napi_create_promise allocates a holder for the deferred that
# only napi_resolve/reject_deferred frees, and those cannot run once a Worker is terminated
# (no JavaScript may run). Promises still pending then leave 8 bytes each. Nothing else is
# suppressed.
cat >"$work/lsan.supp" <<'SUPP'
leak:napi_create_promise
SUPP
log="$work/asan.log"
set +e
LD_PRELOAD="$(gcc -print-file-name=libasan.so)" \
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_odr_violation=0:exitcode=86" \
LSAN_OPTIONS="suppressions=$work/lsan.supp:print_suppressions=1" \
  env -u NODE_OPTIONS node test/fixtures/asan-exercise.mjs "$work/dist/index.js" >"$log" 2>&1
status=$?
set -e
cat "$log" | grep -v '^\s*$' | tail -n 40
if [ $status -ne 0 ] || grep -q 'ERROR: \(Address\|Leak\)Sanitizer' "$log"; then
  echo "asan: FAILED (exit $status)"
  exit 1
fi
grep -q '^asan exercise:' "$log" || { echo "asan: the exercise did not finish"; exit 1; }
echo "asan: no errors, no leaks (suppressed: N-API deferreds of promises pending at Worker termination, listed above)"
