// The write diagnosis (lib/explain/write-diagnosis.ts) from made-up facts: mountinfo parsing and
// path resolution, credentials, and the kernel's checks in order. Pure: no root, no containers
// (test/write-diagnosis.test.ts runs real ones).
import t from 'tap';
import {
  diagnoseWriteFrom,
  mountOf,
  parseMountinfo,
  parseStatus,
  type WriteFacts,
} from '../../lib/explain/write-diagnosis.js';

// A runc container's mountinfo (runc 1.1, readonlyPaths and maskedPaths of `runc spec`).
const RUNC = `101 56 254:0 /tmp/b/rootfs / ro,relatime - ext4 /dev/vda rw
102 101 0:68 / /proc rw,relatime - proc proc rw
103 101 0:69 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
57 102 0:68 /bus /proc/bus ro,relatime - proc proc rw
60 102 0:68 /sys /proc/sys ro,relatime - proc proc rw
61 102 0:74 / /proc/acpi ro,relatime - tmpfs tmpfs ro
62 102 0:69 /null /proc/keys rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755`;

t.test('parseMountinfo', async (t) => {
  const m = parseMountinfo(
    `${RUNC}\n36 35 98:0 /a\\040b /mnt\\040x rw,noatime master:1 - ext3 /dev/root rw,errors=continue\ngarbage`,
  );
  t.equal(m.length, 8, 'malformed lines skipped');
  t.same(m[4], {
    id: 60,
    parent: 102,
    root: '/sys',
    mountPoint: '/proc/sys',
    options: ['ro', 'relatime'],
    fstype: 'proc',
    source: 'proc',
    superOptions: ['rw'],
  });
  t.equal(m[7]?.mountPoint, '/mnt x', 'octal escapes undone');
  t.equal(m[7]?.fstype, 'ext3', 'optional fields skipped');
});

t.test('mountOf: the deepest mount on the path, stacked and shadowed ones', async (t) => {
  const m = parseMountinfo(RUNC);
  t.equal(mountOf(m, '/proc/sys/net/ipv4/ip_forward')?.id, 60, 'the read-only /proc/sys bind');
  t.equal(mountOf(m, '/proc/self/status')?.id, 102, '/proc');
  t.equal(mountOf(m, '/proc/sysrq-trigger')?.id, 102, 'whole components: /proc/sys does not cover /proc/sysrq-trigger');
  t.equal(mountOf(m, '/etc/hosts')?.id, 101, 'the root');
  // A new /proc over the old one hides the /proc/sys bind made on the old one.
  const over = parseMountinfo(`${RUNC}\n200 102 0:80 / /proc rw - proc proc rw`);
  t.equal(mountOf(over, '/proc/sys/net/x')?.id, 200, 'a later /proc stacked on /proc hides the old /proc/sys');
  // A mount below one that is covered later is hidden by it: the walk crosses the first mount point.
  const under = parseMountinfo(`${RUNC}\n201 102 0:81 / /proc/sys/net rw - tmpfs tmpfs rw`);
  t.equal(
    mountOf(under, '/proc/sys/net/x')?.id,
    60,
    'a mount on the old /proc/sys/net, under the /proc/sys bind, is not reached',
  );
  const onTop = parseMountinfo(`${RUNC}\n202 60 0:81 / /proc/sys/net rw - tmpfs tmpfs rw`);
  t.equal(mountOf(onTop, '/proc/sys/net/x')?.id, 202, 'one made on the bind is');
  t.equal(mountOf([], '/proc'), undefined);
});

t.test('parseStatus', async (t) => {
  const c = parseStatus(
    'Name:\tsleep\nUid:\t1000\t0\t0\t0\nGid:\t5\t7\t7\t7\nGroups:\t4 24 \nCapEff:\t0000000020001420\n',
  );
  t.same(c, { euid: 0, egid: 7, groups: [4, 24], capEff: 0x20001420n });
  t.equal(parseStatus('Groups:\n').groups.length, 0);
});

const base = (over: Partial<WriteFacts> = {}): WriteFacts => ({
  key: 'net.ipv4.tcp_keepalive_time',
  rel: 'ipv4/tcp_keepalive_time',
  pid: 42,
  mounts: parseMountinfo(RUNC),
  credentials: { euid: 0, egid: 0, groups: [], capEff: 0x20000420n },
  processInHostUserns: true,
  netnsOwner: 'host',
  hostNetwork: false,
  entry: { present: true, mode: 0o644 },
  onHost: { present: true, mode: 0o644 },
  rule: { id: 'tcp_sk_init.keepalive', class: 'default', fn: 'tcp_sk_init', file: 'net/ipv4/tcp_ipv4.c' },
  kernel: [6, 12],
  ...over,
});
const codes = (f: WriteFacts): string[] => diagnoseWriteFrom(f).inside.obstacles.map((o) => o.code);

t.test("a root container with runc's read-only /proc/sys", async (t) => {
  const d = diagnoseWriteFrom(base({ value: '600', container: { id: 'web', runtime: 'runc', label: 'runc web' } }));
  t.equal(d.inside.allowed, false);
  t.equal(d.inside.errno, 'EROFS');
  t.same(codes(base()), ['read-only-mount']);
  t.equal(d.fromHost.allowed, true);
  t.equal(d.fromHost.command, 'netns sysctl --container web -w net.ipv4.tcp_keepalive_time=600');
  t.match(d.fromHost.why, /nsenter -t 42 -n sysctl -w net\.ipv4\.tcp_keepalive_time=600/);
  t.match(d.fromHost.why, /docker exec and kubectl exec/);
  t.match(d.remedies[0], /^from the host, as root: netns sysctl --container web/);
  t.ok(d.remedies.some((r) => r.includes('docker run --sysctl net.ipv4.tcp_keepalive_time=600')));
  t.ok(d.remedies.some((r) => r.includes('not recommended: a privileged container')));
});

t.test('the kernel checks in order: lookup, mount, permission, handler', async (t) => {
  const rw = parseMountinfo(RUNC.replace('/sys /proc/sys ro,relatime', '/sys /proc/sys rw,relatime'));
  t.same(codes(base({ mounts: rw })), [], 'rw /proc/sys, euid 0: allowed (owner bits, whatever the capabilities)');
  t.equal(diagnoseWriteFrom(base({ mounts: rw })).inside.allowed, true);
  t.same(
    codes(base({ mounts: rw, rel: 'ipv4/ip_forward', key: 'net.ipv4.ip_forward' })),
    ['needs-cap-net-admin'],
    'ip_forward wants CAP_NET_ADMIN even from root (devinet_sysctl_forward)',
  );
  t.same(
    codes(
      base({ mounts: rw, rel: 'ipv4/conf/eth0/forwarding', key: 'net.ipv4.conf.eth0.forwarding', kernel: [5, 10] }),
    ),
    [],
    'not on 5.10',
  );
  t.same(
    codes(base({ mounts: rw, credentials: { euid: 1000, egid: 1000, groups: [], capEff: 0n } })),
    ['not-root'],
    'an unprivileged user of the host: the "other" bits',
  );
  t.same(codes(base({ mounts: rw, entry: { present: true, mode: 0o444 } })), ['read-only-key']);
  t.same(codes(base({ entry: { present: false } })), ['host-only', 'read-only-mount'], 'lookup first');
  t.equal(diagnoseWriteFrom(base({ entry: { present: false } })).inside.errno, 'ENOENT');
  t.same(codes(base({ entry: { present: false }, onHost: { present: false } })), ['absent', 'read-only-mount']);
  const masked = parseMountinfo(`${RUNC}\n70 102 0:75 / /proc/sys ro - tmpfs tmpfs ro`);
  t.same(codes(base({ mounts: masked })), ['masked'], 'a tmpfs over /proc/sys');
  const nulled = parseMountinfo(`${RUNC}\n71 60 0:69 /null /proc/sys/net/ipv4/tcp_keepalive_time rw - tmpfs tmpfs rw`);
  const n = diagnoseWriteFrom(base({ mounts: nulled }));
  t.equal(n.inside.allowed, true, 'a /dev/null mask swallows the write');
  t.match(n.inside.obstacles[0]?.text, /thrown away/);
  t.same(codes(base({ mounts: parseMountinfo('1 0 0:1 / / rw - ext4 /dev/x rw') })), ['no-proc']);
  t.same(
    codes(base({ mounts: null, entry: { present: true, mode: 0o644 } })),
    [],
    'no mountinfo: the mount is not judged',
  );
});

t.test('user namespaces', async (t) => {
  const rw = parseMountinfo(RUNC.replace('/sys /proc/sys ro,relatime', '/sys /proc/sys rw,relatime'));
  const rootless = { euid: 100000, egid: 100000, groups: [], capEff: 0x1ffffffffffn };
  const own = base({ mounts: rw, credentials: rootless, processInHostUserns: false, netnsOwner: 'process' });
  t.same(codes(own), [], 'root of the user namespace that owns the network namespace: allowed');
  const dropped = { ...own, credentials: { ...rootless, capEff: 0x20000420n } };
  t.same(codes(dropped), ['userns']);
  t.match(diagnoseWriteFrom(dropped).inside.obstacles[0]?.text, /has no CAP_NET_ADMIN there/);
  const foreign = base({
    mounts: rw,
    credentials: rootless,
    processInHostUserns: false,
    netnsOwner: 'host',
    hostNetwork: true,
  });
  t.same(codes(foreign), ['userns', 'host-network']);
  t.match(diagnoseWriteFrom(foreign).inside.obstacles[0]?.text, /does not own the network namespace/);
  t.ok(diagnoseWriteFrom(foreign).remedies.some((r) => r.includes("host's network namespace")));
  const hidden = base({
    mounts: rw,
    processInHostUserns: false,
    netnsOwner: 'process',
    entry: { present: false },
    rule: {
      id: 'ip6_route_net_init.constants',
      class: 'default',
      fn: 'ip6_route_net_init',
      file: 'net/ipv6/route.c',
      userns: 'hidden',
    },
  });
  t.same(codes(hidden), ['userns-hidden']);
});

t.test('host-only and shared keys: no per-container setting', async (t) => {
  const hostOnly = diagnoseWriteFrom(
    base({
      key: 'net.core.netdev_max_backlog',
      rel: 'core/netdev_max_backlog',
      entry: { present: false },
      rule: { id: 'x', class: 'host-only', fn: 'netdev_init', file: 'net/core/dev.c' },
    }),
  );
  t.equal(hostOnly.fromHost.allowed, false);
  t.match(hostOnly.fromHost.why, /no such entry/);
  t.match(hostOnly.remedies.join('\n'), /No per-container setting exists/);
  t.match(hostOnly.remedies.join('\n'), /no such file or directory/);
  const ro = diagnoseWriteFrom(
    base({ entry: { present: true, mode: 0o444 }, rule: { id: 'y', class: 'readonly', fn: 'f', file: 'g' } }),
  );
  t.match(ro.remedies.join('\n'), /permission denied/);
  const shared = diagnoseWriteFrom(
    base({ entry: { present: true, mode: 0o644 }, rule: { id: 'z', class: 'shared', fn: 'f', file: 'g' } }),
  );
  t.ok(
    shared.inside.obstacles.some((o) => o.code === 'shared' && !o.blocks),
    'a warning, not a block',
  );
  t.match(shared.remedies.join('\n'), /changing it for every namespace/);
  const dev = diagnoseWriteFrom(
    base({ key: 'net.ipv4.conf.eth9.rp_filter', rel: 'ipv4/conf/eth9/rp_filter', entry: { present: false } }),
  );
  t.match(dev.inside.obstacles[0]?.text, /the host's interface "eth9"/);
});

t.test('read-only entries: the remedy never suggests a write the kernel refuses', async (t) => {
  // tcp_ehash_entries: read-only everywhere, fixed at creation from the creator's tcp_child_ehash_entries.
  const derived = diagnoseWriteFrom(
    base({
      key: 'net.ipv4.tcp_ehash_entries',
      rel: 'ipv4/tcp_ehash_entries',
      entry: { present: true, mode: 0o444 },
      onHost: { present: true, mode: 0o444 },
      rule: {
        id: 'tcp_set_hashinfo',
        class: 'parent',
        fn: 'tcp_set_hashinfo',
        file: 'net/ipv4/tcp_ipv4.c',
        sourceKey: 'net.ipv4.tcp_child_ehash_entries',
      },
    }),
  );
  const all = derived.remedies.join('\n');
  t.notMatch(all, /--allowed-unsafe-sysctls|docker run --sysctl net\.ipv4\.tcp_ehash_entries=/, 'no write suggested');
  t.match(all, /from net\.ipv4\.tcp_child_ehash_entries of the namespace that creates it/);
  t.match(
    derived.inside.obstacles.find((o) => o.code === 'read-only-key')?.text,
    /in every namespace, the host's included/,
  );
  t.equal(derived.fromHost.allowed, false);
  // Writable on the host, read-only in a namespace: the class's own sentence.
  const mirrored = diagnoseWriteFrom(
    base({
      key: 'net.core.rmem_max',
      rel: 'core/rmem_max',
      entry: { present: true, mode: 0o444 },
      rule: { id: 'r', class: 'readonly', fn: 'f', file: 'g', sourceKey: 'net.core.rmem_max' },
    }),
  );
  t.match(mirrored.inside.obstacles.find((o) => o.code === 'read-only-key')?.text, /in every namespace but the host's/);
  t.match(mirrored.remedies.join('\n'), /containers see the host value read-only/);
});

t.test('a key a rootless namespace never has: no "set it on the host only" advice', async (t) => {
  const d = diagnoseWriteFrom(
    base({
      credentials: { euid: 100000, egid: 100000, groups: [], capEff: 0x1ffffffffffn },
      processInHostUserns: false,
      netnsOwner: 'process',
      entry: { present: false },
      rule: { id: 'h', class: 'default', fn: 'ip6_route_net_init', file: 'net/ipv6/route.c', userns: 'hidden' },
    }),
  );
  const all = d.remedies.join('\n');
  t.match(all, /a rootful runtime/);
  t.notMatch(all, /No per-container setting exists/);
  t.match(all, /cannot set net\.ipv4\.tcp_keepalive_time in a rootless container: runc refuses/);
});

t.test('names a tenant chose are shown printable() in every sentence, exact in the data', async (t) => {
  const dev = 'e\x1b[31m';
  const key = `net.ipv4.conf.${dev}.rp_filter`;
  const d = diagnoseWriteFrom(base({ key, rel: `ipv4/conf/${dev}/rp_filter`, entry: { present: false } }));
  t.equal(d.key, key, 'the data field is exact');
  const text = [...d.inside.obstacles.flatMap((o) => [o.text, o.source]), d.fromHost.why, ...d.remedies].join('\n');
  t.notMatch(text, /\x1b/, 'no raw escape reaches a sentence');
  t.match(text, /e\\x1b\[31m/);
  const masked = parseMountinfo(`${RUNC}\n70 102 0:75 / /proc/sys\\012\x1b ro - tmpfs tmpfs ro`);
  t.equal(masked.at(-1)?.mountPoint, '/proc/sys\n\x1b');
});
