#!/usr/bin/env bash
# .ci/node-lines.sh [ARCH] MAJOR...: fetch the official Node.js binaries of the given major lines
# from the npm registry's node-linux-<arch> packages (the binary ships in the package, at
# bin/node) into a scratch directory, and print one "MAJOR DIR" line per line, where DIR/bin/node
# is the binary. ARCH is x64 (default) or arm64. The directory is $NETNS_NODE_LINES
# (default /tmp/netns-node-lines); a line already fetched is reused.
set -euo pipefail
arch=x64
case "${1:-}" in x64|arm64) arch=$1; shift ;; esac
base=${NETNS_NODE_LINES:-/tmp/netns-node-lines}
mkdir -p "$base"
for major in "$@"; do
  dir="$base/$arch-$major"
  if [ ! -x "$dir/bin/node" ]; then
    tmp=$(mktemp -d "$base/.fetch.XXXXXX")
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$major" >/dev/null) || { rm -rf "$tmp"; echo "node-lines: cannot fetch node-linux-$arch@$major" >&2; exit 1; }
    tar -xzf "$tmp"/*.tgz -C "$tmp"
    rm -rf "$dir"
    mv "$tmp/package" "$dir"
    rm -rf "$tmp"
  fi
  echo "$major $dir"
done
