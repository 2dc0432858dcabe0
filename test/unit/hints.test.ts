// The hint table and the error boundary (lib/hints.ts, lib/errors.ts): pure, no root, no
// namespaces. A hint is chosen by what happened; the NetnsError has Node's system-error shape.
import t from 'tap';
import { hintFor } from '../../lib/hints.js';
import { userNamespaceRefusalHint } from '../../lib/userns.js';
import { remedyCommand, settablePerNamespace } from '../../lib/explain/remedies.js';
import { ERRNO, NetnsError, fromNative, netnsError, sysError, toNetnsError } from '../../lib/errors.js';

t.test('refusal hints for settings this host does not have (mocked settings)', async (t) => {
  const base = {
    unprivilegedUsernsClone: undefined,
    maxUserNamespaces: '1000',
    maxNetNamespaces: '1000',
    apparmorRestrictUnprivilegedUserns: undefined,
  };
  t.match(
    userNamespaceRefusalHint('EPERM', 'clone', { ...base, unprivilegedUsernsClone: '0' }),
    /kernel\.unprivileged_userns_clone = 0/,
  );
  t.match(
    userNamespaceRefusalHint('EPERM', 'clone', { ...base, apparmorRestrictUnprivilegedUserns: '1' }),
    /AppArmor.*apparmor_restrict_unprivileged_userns = 1/,
  );
  t.match(userNamespaceRefusalHint('EPERM', 'clone', base), /seccomp/);
  t.match(
    userNamespaceRefusalHint('ENOSPC', 'clone', { ...base, maxUserNamespaces: '0' }),
    /user\.max_user_namespaces = 0/,
  );
  t.match(
    userNamespaceRefusalHint('ENOSPC', 'clone', { ...base, maxNetNamespaces: '0' }),
    /user\.max_net_namespaces = 0/,
  );
  t.match(userNamespaceRefusalHint('ENOSPC', 'clone', base), /limit/);
  t.match(userNamespaceRefusalHint('EINVAL', 'clone', base), /CONFIG_USER_NS/);
  t.match(
    userNamespaceRefusalHint('EPERM', 'write', { ...base, apparmorRestrictUnprivilegedUserns: '1' }),
    /map .*AppArmor/,
  );
  t.match(userNamespaceRefusalHint('EPERM', 'clone'), /seccomp/, 'settings not known: no guess about them');
});

t.test('choosing a hint reads nothing: what it needs comes in Happened', async (t) => {
  const missing = { code: 'ENOENT', syscall: 'open', op: 'read', key: 'net.ipv4.nope', rel: 'ipv4/nope' } as const;
  t.match(
    hintFor({ ...missing, inCaller: true }),
    /it exists in the calling namespace: a host-only key/,
    'the caller found it where it is',
  );
  t.match(hintFor({ ...missing, inCaller: false }), /check the spelling/);
  t.match(
    hintFor({ ...missing, rel: 'core/somaxconn' }),
    /check the spelling/,
    'not told: not looked up (core/somaxconn exists on every host)',
  );
  const ro = {
    code: 'EACCES',
    syscall: 'open',
    op: 'write',
    rel: 'core/rmem_max',
    reason: 'readonly-in-userns',
  } as const;
  t.match(
    hintFor({ ...ro, userns: { apparmorRestrictUnprivilegedUserns: '1' } }),
    /or AppArmor denies capabilities .*apparmor_restrict_unprivileged_userns = 1/,
  );
  t.notMatch(hintFor(ro), /AppArmor/);
  t.match(
    hintFor({ code: 'EPERM', syscall: 'clone', op: 'start-rootless', userns: { unprivilegedUsernsClone: '0' } }),
    /unprivileged_userns_clone = 0/,
  );
  t.match(
    hintFor({
      code: 'EPERM',
      syscall: 'capget',
      reason: 'no-caps',
      userns: { apparmorRestrictUnprivilegedUserns: '1' },
    }),
    /^The rootless helper has no capabilities .*AppArmor restricts/,
  );
  const raw = sysError(ERRNO.EACCES, 'open', '/proc/sys/net/core/rmem_max', 'readonly-in-userns', {
    apparmorRestrictUnprivilegedUserns: '1',
  });
  t.match(raw.hint, /AppArmor/, 'a backend passes the settings with its error');
  t.match(fromNative(raw, { op: 'write' }).message, /AppArmor/, 'and they reach the NetnsError');
});

t.test('key operations: the hint names the key and says why', async (t) => {
  const key = 'net.ipv4.tcp_congestion_control';
  const rel = 'ipv4/tcp_congestion_control';
  t.match(
    hintFor({ code: 'ENOENT', syscall: 'write', op: 'write', key, rel, value: 'nope' }),
    /nothing named "nope" for net\.ipv4\.tcp_congestion_control \(see net\.ipv4\.tcp_available_congestion_control/,
  );
  t.match(
    hintFor({
      code: 'ENOENT',
      syscall: 'open',
      op: 'read',
      key: 'net.ipv4.nope',
      rel: 'ipv4/nope',
      sameAsCaller: true,
    }),
    /Key net\.ipv4\.nope does not exist in this namespace \(check the spelling/,
  );
  t.match(hintFor({ code: 'EACCES', syscall: 'open', op: 'read', key }), /cannot be read here/);
  t.match(hintFor({ code: 'EROFS', syscall: 'open', op: 'write', key }), /mounted read-only/);
  t.match(hintFor({ code: 'EINVAL', syscall: 'write', op: 'write', key, value: 'x' }), /rejected the value "x"/);
  t.match(hintFor({ code: 'EIO', syscall: 'read', op: 'read', key }), /no value to show/);
  t.match(
    hintFor({ code: 'EISDIR', syscall: 'read', op: 'read', key: 'net.ipv4' }),
    /a directory, not a key: use list\('net\.ipv4'\)/,
  );
  t.match(hintFor({ code: 'ENOTDIR', syscall: 'open', op: 'read', key }), /part of its path is a key/);
  t.match(hintFor({ code: 'ELOOP', syscall: 'open', op: 'open', key }), /without symlinks/);
  t.match(hintFor({ code: 'EBADF', syscall: 'write', op: 'write', key }), /opened read-only here/);
  t.match(
    hintFor({ code: 'EBADF', syscall: 'write', op: 'write', key, backend: 'rootless' }),
    /read-only in this rootless namespace/,
    'backend kind picks the hint',
  );
  t.match(hintFor({ code: 'EBADF', syscall: 'read', op: 'read', key }), /is write-only/);
  t.equal(
    hintFor({ code: 'ESRCH', syscall: 'read', op: 'read', key }),
    undefined,
    'a key operation gets no generic hint',
  );
  t.equal(
    hintFor({
      code: 'ENOENT',
      syscall: 'open',
      op: 'read',
      rel: 'ipv4/conf/eth0.100/rp_filter',
      reason: 'stale-handle',
    }),
    'net.ipv4.conf.eth0/100.rp_filter no longer exists: its interface was removed or its namespace was torn down',
    'the key in dot form from its path',
  );
});

t.test('what the backend knew comes first', async (t) => {
  t.match(
    hintFor({ code: 'EPERM', syscall: 'setns', reason: 'way-back-barred' }),
    /could not come back to its own network namespace/,
  );
  t.match(
    hintFor({ code: 'ENOENT', syscall: 'open', op: 'read', rel: 'core/xfrm_acq_expires', reason: 'hidden-in-userns' }),
    /^Key net\.core\.xfrm_acq_expires does not exist in this rootless namespace: the kernel hides it/,
  );
  t.match(
    hintFor({ code: 'EACCES', syscall: 'open', op: 'write', rel: 'core/rmem_max', reason: 'readonly-in-userns' }),
    /^net\.core\.rmem_max is read-only in this rootless namespace/,
  );
  t.equal(
    hintFor({ code: 'EBADF', syscall: 'pread', reason: 'closed', detail: 'SysctlSnapshotHandle' }),
    'This SysctlSnapshotHandle is closed: after close() (or the end of its `using` block) every use of it throws; get a new one',
  );
});

t.test('namespaces, rootless mode, clone, probes: by operation', async (t) => {
  t.match(hintFor({ code: 'ESRCH', syscall: 'open', reason: 'gone', pid: 42 }), /^Process 42 has exited/);
  t.match(hintFor({ code: 'EACCES', syscall: 'open', op: 'open-pid' }), /ptrace access/);
  t.match(
    hintFor({ code: 'ENOENT', syscall: 'open', op: 'open-name', name: 'lab', detail: '/run/netns or /var/run/netns' }),
    /No network namespace named "lab" in \/run\/netns or \/var\/run\/netns; .*ip netns add lab/,
  );
  t.match(
    hintFor({ code: 'EEXIST', syscall: 'open', op: 'create-named', name: 'lab' }),
    /already exists; open it with NetNamespace\.fromName\("lab"\)/,
  );
  t.equal(hintFor({ code: 'EPERM', syscall: 'open', op: 'create-named', name: 'lab' }), undefined);
  t.equal(
    hintFor({ code: 'ENOENT', syscall: 'unlink', op: 'remove-name', name: 'lab' }),
    'No network namespace named "lab"',
  );
  t.equal(hintFor({ code: 'EBADF', syscall: 'dup', op: 'open-fd' }), 'The fd is not open');
  t.match(
    hintFor({ code: 'EPERM', syscall: 'clone', op: 'clone', user: false }),
    /needs CAP_SYS_ADMIN: run as root, or pass \{ user: true \}/,
  );
  t.match(hintFor({ code: 'ENOSPC', syscall: 'clone', op: 'clone', user: true }), /disabled or exhausted/);
  t.match(
    hintFor({ code: 'EPERM', syscall: 'write', op: 'clone', path: '/proc/1/uid_map' }),
    /uid\/gid map was refused/,
  );
  t.match(hintFor({ code: 'ETIMEDOUT', syscall: 'recvmsg', op: 'start-rootless' }), /did not answer/);
  t.match(
    hintFor({ code: 'ENOENT', syscall: 'spawn', op: 'spawn', name: 'nope', detail: '/bin' }),
    /^nope was not found in PATH \(\/bin\)/,
  );
  t.match(hintFor({ code: 'EPERM', syscall: 'probe', op: 'probe', reason: 'needs-root' }), /needs root/);
  t.match(
    hintFor({ code: 'EIO', syscall: 'write', reason: 'not-restored', value: '7200' }),
    /restore the host value "7200"/,
  );
  t.match(hintFor({ code: 'EPERM', syscall: 'setns' }), /CAP_SYS_ADMIN over the target namespace/);
  t.match(hintFor({ code: 'EPERM', syscall: 'open' }), /Operation not permitted/);
  t.match(hintFor({ code: 'ENOSYS', syscall: 'pidfd_open' }), /lacks the system call/);
  t.equal(hintFor({ code: 'EAGAIN', syscall: 'read' }), undefined);
});

t.test("the boundary: one error shape in, a NetnsError shaped like Node's out", async (t) => {
  t.equal(ERRNO.ENOENT, 2);
  const raw = sysError(ERRNO.EACCES, 'open', '/proc/sys/net/core/rmem_max', 'readonly-in-userns');
  t.same(
    [raw.errno, raw.syscall, raw.path, raw.reason, raw.nativeErrno],
    [13, 'open', '/proc/sys/net/core/rmem_max', 'readonly-in-userns', true],
  );
  t.match(raw.hint, /read-only in this rootless namespace/, "the backend's error carries its hint");
  const e = fromNative(raw, { op: 'write', key: 'net.core.rmem_max' });
  t.type(e, NetnsError);
  t.same(
    [e.code, e.errno, e.syscall, e.path, e.key],
    ['EACCES', -13, 'open', '/proc/sys/net/core/rmem_max', 'net.core.rmem_max'],
  );
  t.match(
    e.message,
    /^EACCES: permission denied, open '\/proc\/sys\/net\/core\/rmem_max'\. net\.core\.rmem_max is read-only in this rootless namespace/,
  );
  const plain = new Error('not a system error');
  t.equal(toNetnsError(plain), plain, 'other errors pass through');
  const fixed = netnsError(ERRNO.EINVAL, 'setns', {
    message: 'EINVAL: not a network namespace',
    reason: 'not-a-netns',
    detail: 'Pass a network namespace fd',
  });
  t.equal(fixed.message, 'EINVAL: not a network namespace. Pass a network namespace fd');
  t.equal(fixed.hint, 'Pass a network namespace fd');
  t.equal(fixed.path, undefined);
});

t.test(
  "remedyCommand: the audit's and the CLI's remedies, every word shell-quoted (a rootless user names its own container directories)",
  async (t) => {
    const r = (
      cls: string,
      key: string,
      value: string | null,
      target: readonly string[] | 'at-start',
      writable?: boolean,
      present?: boolean,
    ): string => remedyCommand({ class: cls, key, value, target, writable, present });
    t.equal(
      r('default', 'net.ipv4.tcp_keepalive_time', '7200', ['--container', 'feed01'], true),
      'netns sysctl --container feed01 -w net.ipv4.tcp_keepalive_time=7200',
    );
    t.equal(
      r('default', 'net.ipv4.x', '1', ['--container', 'x;touch /tmp/y'], true),
      "netns sysctl --container 'x;touch /tmp/y' -w net.ipv4.x=1",
    );
    t.equal(
      r('default', 'net.ipv4.x', "a'b c", ['--name', '$(id)'], true),
      `netns sysctl --name '$(id)' -w 'net.ipv4.x=a'\\''b c'`,
    );
    t.equal(
      r('inherited', 'net.ipv4.tcp_rmem', '4096\t131072\t6291456', [], true),
      "netns sysctl -w 'net.ipv4.tcp_rmem=4096\t131072\t6291456'",
      'the host: no selector',
    );
    t.match(
      r('host-only', 'net.core.x', '1', ['--pid', '7'], true),
      /^cannot be set per namespace \(host-only\): set it on the host/,
    );
    t.match(
      r('default', 'net.core.x', '1', ['--pid', '7'], false),
      /^cannot be set: read-only in a namespace \(netns explain net\.core\.x/,
    );
    t.equal(
      r('default', 'net.ipv4.x', '1', 'at-start'),
      'netns exec --sysctl net.ipv4.x=1 -- CMD',
      'a command started in a new namespace',
    );
    t.equal(
      r('child-only', 'net.ipv4.x', null, 'at-start'),
      'netns exec --sysctl net.ipv4.x=VALUE -- CMD',
      'no host value: a placeholder',
    );
    t.equal(r('child-only', 'net.ipv4.x', null, ['--pid', '7'], true), 'absent on the host: no value to copy');
    t.equal(
      r('unknown', 'net.ipv4.x', '1', ['--pid', '7'], undefined, false),
      'cannot be set: absent in the namespace (its interface or module is not there)',
    );
    t.same(
      ['inherited', 'default', 'parent', 'child-only', 'unknown', 'host-only', 'shared', 'readonly'].map(
        settablePerNamespace,
      ),
      [true, true, true, true, true, false, false, false],
    );
  },
);
