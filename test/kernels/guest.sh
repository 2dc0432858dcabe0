#!/bin/bash
# PID 1 of a matrix VM, in the shared root (the host's root read-only, a tmpfs overlay on top):
# finish the mounts, then run the kernel tier as root and as an unprivileged user, writing TAP
# to the results share, and reboot (qemu exits). NETNS_DIR, NETNS_NODE come from /netns.env.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
R=/netns-results
finish() {
  sync
  echo b >/proc/sysrq-trigger
  sleep 60
}
trap finish EXIT
stage() { echo "$1 $(cut -d' ' -f1 /proc/uptime)" >>"$R/stages"; }

# (/tmp stays the overlay's: the shared root's node may live there, as CI's later Node lines do.)
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /dev/pts /dev/shm /run/netns
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
hostname netns-vm
# Debian kernels before 6.x gate unprivileged user namespaces behind this switch.
[ -e /proc/sys/kernel/unprivileged_userns_clone ] && echo 1 >/proc/sys/kernel/unprivileged_userns_clone
chmod 1777 "$R" # the unprivileged part writes its result there too
stage booted

cd "$NETNS_DIR" || exit 1
export NETNS_KERNEL_VM=1 NETNS_KERNEL_RESULTS=$R
# The tier: one "MODE FILE" per line of NETNS_TIER; MODE is root, nobody (as uid/gid 65534,
# from a copy of the package it can read) or enosys (root, under test/kernels/enosys.c's
# seccomp filter: as on a kernel without openat2, pidfd_open and clone3).
stage_package() {
  local d=/tmp/netns-pkg
  [ -d $d ] && return
  mkdir -p $d/build/Release $d/node_modules
  cp -r package.json dist $d/
  cp build/Release/netns.node build/Release/netns-rootless $d/build/Release/
  cp -r node_modules/bindings node_modules/file-uri-to-path $d/node_modules/
  chmod -R a+rX $d
}
while read -r mode f; do
  [ -z "$mode" ] && continue
  name=$(basename "$f" .js)
  [ "$mode" = enosys ] && name=$name-enosys
  stage "start $name"
  case $mode in
    nobody)
      stage_package
      (cd /tmp/netns-pkg && setpriv --reuid=65534 --regid=65534 --clear-groups -- \
        "$NETNS_NODE" --test-reporter=tap "dist/kernels/tier/$(basename "$f")") >"$R/$name.tap" 2>"$R/$name.err" ;;
    enosys) "$NETNS_ENOSYS" "$NETNS_NODE" --test-reporter=tap "$f" >"$R/$name.tap" 2>"$R/$name.err" ;;
    *) "$NETNS_NODE" --test-reporter=tap "$f" >"$R/$name.tap" 2>"$R/$name.err" ;;
  esac
  echo "$?" >"$R/$name.status"
  stage "end $name"
done <<<"$NETNS_TIER"
stage done
