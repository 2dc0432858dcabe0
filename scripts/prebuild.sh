#!/usr/bin/env bash
# npm run prebuild [-- ARCH...]: build the prebuilt binaries the package ships, the N-API addon
# (netns.node) and the rootless helper program (netns-rootless), for linux-x64 and linux-arm64
# (glibc), into prebuilds/linux-<arch>/. Each arch is built by node-gyp in a scratch copy of the
# sources (build/ is left alone); arm64 with Debian's cross compiler (g++-aarch64-linux-gnu).
# N-API: the headers of any Node line >= the NAPI_VERSION of binding.gyp make a binary that
# loads on every supported line. The headers are the running node's (NODEDIR overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(x64 arm64)
nodedir=${NODEDIR:-$(dirname "$(dirname "$(command -v node)")")}
[ -f "$nodedir/include/node/node_api.h" ] || { echo "prebuild: no Node headers in $nodedir/include/node (set NODEDIR)"; exit 1; }
work=$(mktemp -d /tmp/netns-prebuild.XXXXXX)
trap 'rm -rf "$work"' EXIT
for arch in "${archs[@]}"; do
  case "$arch" in
    x64) host=x86_64-linux-gnu ;;
    arm64) host=aarch64-linux-gnu ;;
    *) echo "prebuild: unknown arch $arch (x64, arm64)"; exit 1 ;;
  esac
  # The native compiler when it targets the arch already, else the cross one.
  if [ "$(node -p process.arch)" = "$arch" ]; then cross=; else cross=$host-; fi
  command -v "${cross}g++" >/dev/null || { echo "prebuild: ${cross}g++ not found (apt-get install g++-$host)"; exit 1; }
  src="$work/$arch"
  mkdir -p "$src"
  cp -r binding.gyp native package.json "$src"/
  ln -s "$root/node_modules" "$src/node_modules"
  echo "prebuild: linux-$arch with ${cross}g++"
  (cd "$src" && CC="${cross}gcc" CXX="${cross}g++" LINK="${cross}g++" AR="${cross}ar" \
    npx node-gyp rebuild --arch="$arch" --nodedir="$nodedir" >"$src/build.log" 2>&1) || { tail -n 40 "$src/build.log"; exit 1; }
  out="prebuilds/linux-$arch"
  rm -rf "$out"
  mkdir -p "$out"
  for f in netns.node netns-rootless; do
    "${cross}strip" --strip-unneeded -o "$out/$f" "$src/build/Release/$f"
  done
  chmod 0755 "$out/netns-rootless"
  file "$out"/* 2>/dev/null || ls -l "$out"
  # The newest glibc symbol version the binaries need: the oldest glibc they run on.
  echo "prebuild: linux-$arch needs glibc $( { "${cross}objdump" -T "$out/netns.node"; "${cross}objdump" -T "$out/netns-rootless"; } \
    | grep -o 'GLIBC_[0-9.]*' | sort -t. -k1,1 -k2,2n -k3,3n -u | tail -n 1 | sed 's/GLIBC_//')"
done
