// setMany's transaction logic (lib/sysctl/set-many.ts) against an in-memory backend: pure, no
// root, no namespaces. The backend records every batch, so the test sees what was written.
import t from 'tap';
import { Sysctl, undoEntries } from '../../lib/sysctl/sysctl.js';
import type { SysctlBackend } from '../../lib/sysctl/backend.js';
import { ERRNO, NetnsError, sysError } from '../../lib/errors.js';
import type { NativeOutcome, WalkResult } from '../../lib/native/index.js';
import { parseValue } from '../../lib/sysctl/values.js';

/** /proc/sys/net as a Map; keys in `refuse` fail writes with EINVAL. */
function memoryBackend(values: Record<string, string>, refuse: string[] = []) {
  const files = new Map(Object.entries(values).map(([k, v]) => [k, `${v}\n`]));
  const writes: string[] = [];
  // The one error shape backends raise (a SysError is what a NativeOutcome's error holds).
  const fail = (errno: number, syscall: string, rel: string): NativeOutcome =>
    sysError(errno, syscall, `/proc/sys/net/${rel}`) as unknown as NativeOutcome;
  const one = (rel: string, v: string | null): NativeOutcome => {
    if (!files.has(rel)) return fail(ERRNO.ENOENT, 'open', rel);
    if (v === null) return files.get(rel)!;
    if (refuse.includes(rel)) return fail(ERRNO.EINVAL, 'write', rel);
    writes.push(`${rel}=${v.trim()}`);
    files.set(rel, v);
    return v;
  };
  const backend: SysctlBackend = {
    kind: 'switching',
    read: (rel) => {
      const o = one(rel, null);
      if (typeof o !== 'string') throw o;
      return o;
    },
    readValue: (pk) => parseValue(backend.read(pk.rel)),
    write: (rel, v) => {
      const o = one(rel, v);
      if (typeof o !== 'string') throw o;
      return o;
    },
    batch: (rels, vals, stop) => {
      const out: NativeOutcome[] = [];
      for (let i = 0; i < rels.length; i++) {
        const o = one(rels[i]!, vals[i] ?? null);
        out.push(o);
        if (stop && typeof o === 'object' && o !== null) break;
      }
      return out;
    },
    walk: (prefix): WalkResult => {
      const keys = [...files.keys()].filter((k) => k.startsWith(prefix + '/'));
      return { keys, values: keys.map((k) => files.get(k)!), modes: [] };
    },
    open: () => {
      throw new Error('not used');
    },
    readAsync: async (rel) => backend.read(rel),
    writeAsync: async (rel, v) => backend.write(rel, v),
    batchAsync: async (r, v, s) => backend.batch(r, v, s),
    walkAsync: async (p, f) => backend.walk(p, f),
    openAsync: async (rel, a) => backend.open(rel, a),
    exclusive: (run) => run({ batchAsync: backend.batchAsync, walkAsync: backend.walkAsync }),
    hold: () => () => {},
  };
  return { backend, files, writes };
}

t.test('skips writes that match, applies the rest in order, reports values', async (t) => {
  const m = memoryBackend({
    'ipv4/tcp_keepalive_time': '7200',
    'ipv4/tcp_keepalive_intvl': '75',
    'ipv4/ip_local_port_range': '32768\t60999',
  });
  const s = Sysctl.of(m.backend, '1:2');
  const r = s.setMany({
    'net.ipv4.tcp_keepalive_time': 600,
    'net.ipv4.tcp_keepalive_intvl': 75,
    'net.ipv4.ip_local_port_range': '32768 60999',
  });
  t.same(r.changed, ['net.ipv4.tcp_keepalive_time']);
  t.same(
    r.unchanged.sort(),
    ['net.ipv4.ip_local_port_range', 'net.ipv4.tcp_keepalive_intvl'],
    'equal by value: tab vs space ignored',
  );
  t.same(m.writes, ['ipv4/tcp_keepalive_time=600']);
  t.same(r.values['net.ipv4.tcp_keepalive_time'], 600);
});

t.test('a failing key rolls back every key already written', async (t) => {
  const m = memoryBackend(
    { 'ipv4/tcp_keepalive_time': '7200', 'ipv4/tcp_keepalive_intvl': '75', 'ipv4/tcp_keepalive_probes': '9' },
    ['ipv4/tcp_keepalive_probes'],
  );
  const s = Sysctl.of(m.backend, '1:2');
  const err = t.throws(() =>
    s.setMany([
      ['net.ipv4.tcp_keepalive_time', 600],
      ['net.ipv4.tcp_keepalive_intvl', 10],
      ['net.ipv4.tcp_keepalive_probes', 6],
    ]),
  ) as NetnsError;
  t.type(err, NetnsError);
  t.equal(err.code, 'EINVAL');
  t.equal(err.key, 'net.ipv4.tcp_keepalive_probes');
  t.same(err.rolledBack?.sort(), ['net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_time']);
  t.match(
    err.message,
    /^setMany failed at net\.ipv4\.tcp_keepalive_probes: EINVAL: .*rejected the value "6".*Rolled back: /,
  );
  t.same(
    Object.fromEntries(m.files),
    { 'ipv4/tcp_keepalive_time': '7200\n', 'ipv4/tcp_keepalive_intvl': '75\n', 'ipv4/tcp_keepalive_probes': '9\n' },
    'old values back',
  );
});

t.test('missing keys: fail before writing, or skipped with ignoreMissing / a leading -', async (t) => {
  const m = memoryBackend({ 'ipv4/tcp_keepalive_time': '7200' });
  const s = Sysctl.of(m.backend, '1:2');
  t.throws(() => s.setMany({ 'net.ipv4.tcp_keepalive_time': 600, 'net.ipv4.nope': 1 }), {
    code: 'ENOENT',
    key: 'net.ipv4.nope',
  });
  t.same(m.writes, [], 'nothing written');
  const r = s.setMany({ 'net.ipv4.tcp_keepalive_time': 600, 'net.ipv4.nope': 1 }, { ignoreMissing: true });
  t.same([r.changed, r.skipped], [['net.ipv4.tcp_keepalive_time'], ['net.ipv4.nope']]);
  t.equal(r.reasons['net.ipv4.nope']?.code, 'ENOENT');
  const r2 = s.setMany({ '-net.ipv4.nope': 1 });
  t.same(r2.skipped, ['net.ipv4.nope']);
});

t.test('writes to all/default are rolled back with the interface entries they changed', async (t) => {
  const m = memoryBackend({ 'ipv4/conf/all/forwarding': '0', 'ipv4/conf/eth0/forwarding': '0', 'ipv4/tcp_ecn': '2' }, [
    'ipv4/tcp_ecn',
  ]);
  const s = Sysctl.of(m.backend, '1:2');
  // What the kernel does: a write to conf/all changes every interface too (here only when
  // enabling, so that putting eth0 back is the rollback's doing, not the fake's).
  const write = m.backend.batch;
  m.backend.batch = (rels, vals, stop) => {
    const out = write(rels, vals, stop);
    rels.forEach((r, i) => {
      if (r === 'ipv4/conf/all/forwarding' && vals[i] === '1\n' && typeof out[i] === 'string')
        m.files.set('ipv4/conf/eth0/forwarding', vals[i]!);
    });
    return out;
  };
  t.throws(() => s.setMany({ 'net.ipv4.conf.all.forwarding': 1, 'net.ipv4.tcp_ecn': 1 }), { code: 'EINVAL' });
  t.equal(m.files.get('ipv4/conf/all/forwarding'), '0\n');
  t.equal(m.files.get('ipv4/conf/eth0/forwarding'), '0\n', 'the propagated interface entry is put back too');
});

t.test('the report gives the previous values, and undoEntries() undoes the transaction', async (t) => {
  const m = memoryBackend({
    'ipv4/conf/all/forwarding': '0',
    'ipv4/conf/eth0/forwarding': '0',
    'ipv4/conf/lo/forwarding': '1',
    'ipv4/tcp_keepalive_time': '7200',
    'ipv4/tcp_keepalive_intvl': '75',
  });
  const before = Object.fromEntries(m.files);
  const s = Sysctl.of(m.backend, '1:2');
  // The kernel copies a conf/all/forwarding write to every interface.
  const write = m.backend.batch;
  m.backend.batch = (rels, vals, stop) => {
    const out = write(rels, vals, stop);
    rels.forEach((r, i) => {
      if (r === 'ipv4/conf/all/forwarding' && vals[i] !== null && typeof out[i] === 'string')
        for (const d of ['eth0', 'lo']) m.files.set(`ipv4/conf/${d}/forwarding`, vals[i]!);
    });
    return out;
  };
  const r = s.setMany([
    ['net.ipv4.tcp_keepalive_time', '600'],
    ['net.ipv4.conf.all.forwarding', '1'],
    ['net.ipv4.tcp_keepalive_intvl', '75'],
  ]);
  t.same(r.changed, ['net.ipv4.tcp_keepalive_time', 'net.ipv4.conf.all.forwarding']);
  t.same(r.previous, { 'net.ipv4.tcp_keepalive_time': '7200', 'net.ipv4.conf.all.forwarding': '0' });
  t.same(r.propagated, { 'net.ipv4.conf.eth0.forwarding': '0' }, 'lo already held 1: not changed by the write');
  t.same(undoEntries(r), [
    ['net.ipv4.conf.all.forwarding', '0'],
    ['net.ipv4.tcp_keepalive_time', '7200'],
    ['net.ipv4.conf.eth0.forwarding', '0'],
  ]);
  // Writing conf/all back copies 0 to lo too (eth0's entry is written again: its old value,
  // read before the transaction, was 1); the undo does not know lo's old value was 1...
  const u = s.setMany(undoEntries(r), { raw: true });
  t.same(u.changed, ['net.ipv4.conf.all.forwarding', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.conf.eth0.forwarding']);
  // ...but that undo's own report does: undoing the undo is possible too.
  t.same(u.propagated, { 'net.ipv4.conf.lo.forwarding': '1' });
  s.setMany(Object.entries(u.propagated), { raw: true });
  t.same(Object.fromEntries(m.files), before, 'every value back');
  t.same(s.setMany({}).previous, {}, 'an empty transaction has no previous values');
});

t.test('the Promise form runs the same plan', async (t) => {
  const m = memoryBackend({ 'core/somaxconn': '4096' });
  const s = Sysctl.of(m.backend, '1:2');
  const r = await s.setManyAsync({ 'net.core.somaxconn': 1024 });
  t.same(r.changed, ['net.core.somaxconn']);
  t.equal(m.files.get('core/somaxconn'), '1024\n');
});
