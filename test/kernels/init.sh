#!/bin/busybox sh
# /init of the kernel matrix's initramfs (built by initramfs.mjs). Loads the modules, mounts the
# host's root read-only over virtio-9p with a tmpfs overlay on top, mounts the per-run results
# share, and switch_roots into the shared root to run guest.sh from the checkout there.
# /netns.env (a second cpio archive appended for each run) says where the checkout and node are.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fail() {
  echo "netns-kernels: init: $*" >/dev/console
  echo b >/proc/sysrq-trigger # reboot: qemu runs with -no-reboot, so the VM ends here
  sleep 60
}

set -a
. /netns.env || fail "no /netns.env"
set +a
echo "netns-kernels: init on $(uname -r), loading $(tr '\n' ' ' </lib/modules/order)" >/dev/console
while read -r m; do
  insmod "/lib/modules/$m.ko" || fail "insmod $m failed"
done </lib/modules/order

mkdir -p /lower /rw
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /lower || fail "cannot mount the host's root over 9p"
mount -t tmpfs -o mode=0755 tmpfs /rw || fail "tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || fail "overlay over the shared root"
mkdir -p /newroot/netns-results
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none results /newroot/netns-results || fail "cannot mount the results share"
for d in dev proc sys; do mount -o move "/$d" "/newroot/$d" || fail "move /$d"; done
[ -x "/newroot$NETNS_NODE" ] || fail "no node at $NETNS_NODE in the shared root"
exec switch_root /newroot /bin/bash "$NETNS_DIR/test/kernels/guest.sh"
