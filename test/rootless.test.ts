// Rootless mode: namespaces owned by a user namespace of an unprivileged user, held by a helper
// process. CI runs as root, so the unprivileged side runs as `nobody` (uid/gid 65534) in a child
// process (test/fixtures/rootless-nobody.mjs, which imports dist/: build it first).
// Needs: root (to become nobody, to inspect the helper), unprivileged user namespaces enabled,
// util-linux `unshare`, and dist/ built (`npm run build:ts`).
import t from 'tap';
import * as fs from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { NetNamespace, NetnsError } from '../lib/index.js';
import { hasCapSysAdmin, rootlessSupport } from '../lib/subpaths/rootless.js';
import { plainNode, stagedRoot } from './helpers.js';

// nobody runs the package from a copy it can read (the checkout may be in a 0700 home).
const root = stagedRoot().replace(/\/$/, '');
const fixture = `${root}/test/fixtures/rootless-nobody.mjs`;
const NOBODY = 65534;
const nobodyEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/', LANG: 'C' };

// biome-ignore lint/suspicious/noExplicitAny: JSON a child printed, read field by field with assertions
type Json = Record<string, any>;

/** Run a fixture scenario as nobody and return its JSON. */
function asNobody(scenario: string, opts: { nodeArgs?: string[]; wrap?: string[] } = {}): Json {
  // plain node: tap's loaders are in the checkout, which nobody may not be able to read.
  const [node, nodeArgv] = plainNode([...(opts.nodeArgs ?? []), fixture, scenario]);
  const argv = [...(opts.wrap ?? []), node, ...nodeArgv];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    uid: NOBODY,
    gid: NOBODY,
    cwd: '/',
    env: nobodyEnv,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lines = (r.stdout ?? '').trim().split('\n');
  let json: Json;
  try {
    json = JSON.parse(lines[lines.length - 1]!);
  } catch {
    throw new Error(
      `scenario ${scenario} printed no JSON (status ${r.status}, signal ${r.signal}): ${r.stdout}\n${r.stderr}`,
    );
  }
  if (json.fatal) throw new Error(`scenario ${scenario} failed: ${json.fatal.message}\n${json.stack}`);
  return json;
}

function procState(pid: number): { state: string; ppid: number } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}

const norm = (s: string): string => s.trim().split(/\s+/).join(' ');

t.before(() => {
  // nobody must be able to read the package (dist/, build/, node_modules/): the staged copy.
  for (const p of [
    'dist/index.js',
    'dist/rootless/helper.js',
    'build/Release/netns.node',
    'node_modules/bindings/package.json',
    'test/fixtures/rootless-nobody.mjs',
  ]) {
    if (!fs.existsSync(`${root}/${p}`)) throw new Error(`${p} is missing: run \`npm run build\` before the tests`);
  }
  const probe = spawnSync(
    ...plainNode(['--input-type=module', '-e', `await import(${JSON.stringify(`${root}/dist/index.js`)})`]),
    {
      uid: NOBODY,
      gid: NOBODY,
      cwd: '/',
      env: nobodyEnv,
      encoding: 'utf8',
    },
  );
  if (probe.status !== 0)
    throw new Error(`user nobody cannot load the package from ${root} (check directory permissions):\n${probe.stderr}`);
});

t.test('as nobody: create() goes rootless, and sysctl reads/writes agree with a command inside', async (t) => {
  const r = asNobody('basic');
  t.equal(r.uid, NOBODY);
  t.equal(r.capSysAdmin, false, 'nobody lacks CAP_SYS_ADMIN');
  t.same(r.support, { available: true });
  t.equal(r.rootless, true, 'chosen automatically');
  t.equal(r.helperState?.state !== undefined, true, 'helper was running');
  t.not(r.id, r.hostId, 'a new network namespace');
  t.equal(r.equalsHost, false);
  t.not(r.userNsId, r.hostUserNsId, 'owned by a new user namespace');
  t.match(r.id, /^\d+:\d+$/);

  // Read, write, batch, walk through the library...
  t.equal(r.before, 7200, 'keepalive time is the kernel default in a new namespace');
  t.equal(r.setResult, 1234);
  t.equal(r.readBack, 1234);
  t.equal(r.asyncGet, 11);
  if (r.layer) {
    t.same(r.setMany.changed.sort(), [
      'net.ipv4.ip_local_port_range',
      'net.ipv4.tcp_keepalive_intvl',
      'net.ipv4.tcp_keepalive_probes',
    ]);
  } else {
    t.same(r.setMany, ['11', '7', '20000 30000']);
  }
  t.equal(r.openGranted, 1, 'key handle is read-write');
  t.equal(r.openRead, '1234');

  // ...and the same values seen from inside by a command started there.
  const [uid, gid, netLink, ...vals] = r.inside.stdout.trim().split('\n');
  t.equal(uid, '0', 'the command is uid 0 inside');
  t.equal(gid, '0', 'and gid 0');
  t.equal(netLink, `net:[${r.id.split(':')[1]}]`, 'the command is in the rootless namespace');
  t.same(vals.map(norm), ['1234', '11', '7', '20000 30000']);
  t.equal(r.inside.code, 0);

  // getAll equals what the command reads, key for key.
  const lib: Record<string, string> = r.getAllRaw;
  const inside: Record<string, string> = r.insideAll;
  const libKeys = Object.keys(lib)
    .map((k) => (r.layer ? k : k))
    .sort();
  t.ok(libKeys.length > 400, `getAll returned ${libKeys.length} keys`);
  const rel = (k: string): string =>
    r.layer
      ? k
          .replace(/^net\./, '')
          .split('.')
          .map((c) => c.replace(/\//g, '.'))
          .join('/')
      : k;
  const libByRel = Object.fromEntries(Object.entries(lib).map(([k, v]) => [rel(k), v]));
  t.same(Object.keys(libByRel).sort(), Object.keys(inside).sort(), 'same readable keys as grep -r inside');
  const diff = Object.keys(inside).filter((k) => norm(inside[k]!) !== norm(libByRel[k] ?? ''));
  t.same(diff, [], 'same values as grep -r inside');
  t.ok(
    r.getAllUnreadable.some((k: string) => /route.flush/.test(k)),
    'write-only route/flush reported apart',
  );

  // Keys the kernel hides or makes read-only in a userns-owned namespace: clear errors.
  t.equal(r.roBackendError?.errno, 13, 'core/rmem_max is not writable (EACCES)');
  t.match(r.roBackendError?.hint, /read-only in this rootless namespace/);
  t.equal(r.hiddenBackendError?.errno, 2, 'core/xfrm_acq_expires is hidden (ENOENT)');
  t.match(r.hiddenBackendError?.hint, /hides it in network namespaces owned by a non-initial user namespace/);
  if (r.layer) {
    t.equal(r.roError?.code, 'EACCES');
    t.equal(r.hiddenError?.code, 'ENOENT');
  }

  // Commands: exit codes, signals, stdio, env, cwd.
  t.same([r.exit3.code, r.exit3.signal, r.exit3.stderr], [3, null, 'err\n']);
  t.same(r.killed, { code: null, signal: 'SIGKILL' });
  t.equal(r.echoed, 'hello from the parent\n');
  t.equal(r.env, 'bar\n/tmp\n');
  t.same([r.spawnEnoent?.code, r.spawnEnoent?.syscall], ['ENOENT', 'execve']);
  t.same([r.spawnBadCwd?.code, r.spawnBadCwd?.syscall, r.spawnBadCwd?.path], ['ENOENT', 'chdir', '/nonexistent']);
  t.same([r.spawnNotInPath?.code, r.spawnNotInPath?.syscall], ['ENOENT', 'spawn']);

  // close(): the helper is gone (reaped, not a zombie), nothing else left, no fd leaked.
  t.same(
    r.childrenBeforeClose.map((c: Json) => c.pid),
    [r.helperPid],
    'only the helper is a child before close',
  );
  t.equal(r.closed, true);
  t.equal(r.helperAfterClose, null, 'no helper process after close()');
  t.same(r.childrenAfterClose, [], 'no child or zombie after close()');
  t.equal(r.fdsLeaked, 0, 'no fd left open');
  t.equal(r.afterCloseError?.errno, 9, 'using the backend after close fails clearly (EBADF, as every closed handle)');
});

t.test('as nobody: compare() and explain() reach a rootless namespace through its backend', async (t) => {
  const r = asNobody('explain');
  t.equal(r.uid, NOBODY);
  t.equal(r.rootless, true);
  t.ok(r.compareCount > 400, `compare listed ${r.compareCount} keys`);
  t.equal(r.keepalive?.a, r.hostKeepalive, 'a: the host value, as /proc shows it');
  t.equal(r.currentSync, r.hostKeepalive, 'a handle on our own namespace reads it without entering');
  t.equal(r.currentAsync, r.hostKeepalive, 'and so does its Promise form');
  t.equal(r.keepalive?.b, r.insideKeepalive, 'b: the value a command inside the namespace reads');
  t.equal(r.keepalive?.b, '7200', 'a new namespace has the kernel default');
  t.same(r.bMismatch, [], 'every b value equals getAll() of the rootless namespace');
  t.same(r.bMissing, [], 'every readable key of the rootless namespace is in compare()');
  t.same(r.explainError, undefined, 'explain() does not throw');
  t.equal(r.explain?.key, 'net.ipv4.tcp_keepalive_time');
  t.equal(r.explain?.class, 'default');
  t.equal(r.explain?.host, r.hostKeepalive);
  t.equal(r.explain?.child, '7200');
  // classify() as nobody: its fresh namespace is rootless (owned by nobody's user namespace).
  t.same(r.classifyError, undefined, 'classify() does not throw');
  t.ok(r.classifyCount > 400, `classify listed ${r.classifyCount} keys`);
  t.ok(r.classifyUnknown.length / r.classifyCount < 0.01, `unknown as nobody: ${r.classifyUnknown.join(', ')}`);
  t.same(r.classifyContradictions, [], 'no rule contradicted as nobody');
  if (r.hidden) {
    t.equal(r.hidden.class, 'hidden', 'xfrm_* are hidden in a rootless namespace (not host-only)');
    t.match(r.hidden.reason, /owned by a user namespace/);
  }
  for (const e of r.explains) {
    t.match(e.source, /\(\) in net\//, `${e.key}: source`);
    t.match(e.docker, /^docker run --sysctl /, `${e.key}: docker remedy`);
  }
  t.same(
    r.explains.map((e: Json) => e.class),
    ['inherited', 'default', 'default'],
  );
  t.same(
    r.explains.map((e: Json) => e.since),
    [null, '1.29', null],
    'the kubelet safe set: keepalive since 1.29',
  );
  t.equal(r.cliStatus, 0, `netns explain --json as nobody: ${r.cliStderr}`);
  t.same(r.cli?.[0]?.since, '1.29');
});

t.test('as nobody: errors leave no helper, zombie or fd', async (t) => {
  const r = asNobody('errors');
  t.same([r.badMap?.errno, r.badMap?.syscall], [1, 'write'], 'the kernel refuses to map uid 0 for nobody');
  t.match(r.badMap?.path, /^\/proc\/\d+\/uid_map$/);
  t.same(r.childrenAfterBadMap, [], 'the half-made helper was killed and reaped');
  t.equal(r.badValue?.errno, 22, 'EINVAL for a bad value');
  t.equal(r.spawnErr?.code, 'ENOENT');
  t.equal(r.helperAfterClose, null);
  t.same(r.children, []);
  t.equal(r.fdsLeaked, 0);
});

t.test('as nobody: a dropped handle is cleaned up by the finalizer', async (t) => {
  const r = asNobody('gc', { nodeArgs: ['--expose-gc'] });
  t.ok(r.helperPid > 0);
  t.equal(r.helperAfterGc, null, 'helper stopped and reaped after GC');
  t.same(r.children, []);
});

t.test('as nobody: the helper dies with its parent (SIGKILL), holding only its socket', async (t) => {
  const child: ChildProcess = spawn(...plainNode([fixture, 'hold']), {
    uid: NOBODY,
    gid: NOBODY,
    cwd: '/',
    env: nobodyEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const first = await new Promise<Json>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    child.once('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
  });
  const helper = first.helperPid as number;
  t.equal(procState(helper)?.ppid, child.pid, 'the helper is a child of the nobody process');
  t.equal(fs.readFileSync(`/proc/${helper}/comm`, 'utf8').trim(), 'netns-rootless');
  const status = fs.readFileSync(`/proc/${helper}/status`, 'utf8');
  t.match(status, /^Uid:\s+65534\s/m, 'the helper runs as nobody outside');
  // It exec'd the small helper program: no copy-on-write snapshot of Node's memory.
  t.match(fs.readlinkSync(`/proc/${helper}/exe`), /\/netns-rootless$/);
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
  t.ok(rssKb > 0 && rssKb < 8192, `helper RSS ${rssKb} kB is small`);
  // It closed every fd it inherited from Node: only /dev/null on 0-2, its socket on 3 and its
  // own /proc/sys/net on 4.
  const fds = fs.readdirSync(`/proc/${helper}/fd`).sort();
  t.same(fds, ['0', '1', '2', '3', '4']);
  t.same(
    fds.map((f) => fs.readlinkSync(`/proc/${helper}/fd/${f}`).replace(/\[\d+\]/, '[]')),
    ['/dev/null', '/dev/null', '/dev/null', 'socket:[]', '/proc/sys/net'],
  );
  // It maps nobody to root, one id each.
  t.equal(norm(fs.readFileSync(`/proc/${helper}/uid_map`, 'utf8')), '0 65534 1');
  t.equal(norm(fs.readFileSync(`/proc/${helper}/gid_map`, 'utf8')), '0 65534 1');
  t.equal(fs.readFileSync(`/proc/${helper}/setgroups`, 'utf8').trim(), 'deny');

  child.kill('SIGKILL');
  await new Promise((res) => child.once('exit', res));
  const t0 = Date.now();
  let st = procState(helper);
  // After its parent dies the helper gets SIGKILL (PR_SET_PDEATHSIG); init then reaps it.
  while (st !== null && st.state !== 'Z' && Date.now() - t0 < 5000) {
    await new Promise((res) => setTimeout(res, 20));
    st = procState(helper);
  }
  while (st !== null && Date.now() - t0 < 5000) {
    await new Promise((res) => setTimeout(res, 20));
    st = procState(helper);
  }
  t.equal(st, null, `no process ${helper} remains after the parent was killed`);
});

t.test('refusals say why: user.max_user_namespaces = 0', async (t) => {
  // nobody makes a user namespace of its own, sets the limit to 0 inside it, and tries there.
  const r = asNobody('limits', {
    wrap: ['unshare', '-Ur', 'sh', '-c', 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" "$@"'],
  });
  t.equal(r.support.available, false);
  t.match(r.support.reason, /user\.max_user_namespaces = 0/);
  t.equal(r.error?.name, 'NetnsError');
  t.equal(r.error?.code, 'ENOSPC');
  t.equal(r.error?.syscall, 'clone');
  t.match(r.error?.message, /user\.max_user_namespaces = 0/);
  t.equal(r.capSysAdmin, true, 'root of its own user namespace has CAP_SYS_ADMIN');
  t.equal(r.autoRootless, false, 'with no user namespaces to be had, create() takes the ordinary path');
  t.same(r.children, []);
});

t.test("root's normal path is unchanged; rootless: true also works as root", async (t) => {
  t.equal(hasCapSysAdmin(), true);
  {
    using ns = NetNamespace.create();
    t.equal(ns.rootless, undefined, 'root gets an ordinary namespace');
  }
  const ns = NetNamespace.create({ rootless: true });
  t.teardown(() => ns.close());
  t.ok(ns.rootless, 'forced rootless');
  const helper = ns.rootless!.pid;
  t.equal(norm(fs.readFileSync(`/proc/${helper}/uid_map`, 'utf8')), '0 0 1');
  t.equal(fs.readlinkSync(`/proc/${helper}/ns/net`), `net:[${ns.ino}]`, 'the handle fd is the helper namespace');
  const c = ns.rootless!.spawn('sh', ['-c', 'id -u; readlink /proc/self/ns/net']);
  let out = '';
  c.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const [code] = await new Promise<[number | null]>((res) => c.on('close', (a) => res([a])));
  t.equal(code, 0);
  t.equal(out, `0\nnet:[${ns.ino}]\n`);
  ns.close();
  t.equal(procState(helper), null, 'helper reaped by close()');
  t.throws(() => NetNamespace.create({ rootless: true, name: 'rl-x' }), TypeError, 'no named rootless namespaces');
  t.throws(() => NetNamespace.create({ rootless: 'yes' as unknown as boolean }), TypeError);
  t.equal(rootlessSupport().available, true);
  t.ok(NetnsError);
});

t.test('unprivileged Promise forms complete, and a barred way back is refused instead of aborting', async (t) => {
  // As nobody, the executor thread must not need setns to start (it is home already); as root
  // of a user namespace of its own (`unshare -r`, a rootless container), a namespace it makes
  // can be entered but the way back to the host's namespace is barred: refuse, never abort.
  const script = `
    import { NetNamespace, sysctl } from ${JSON.stringify(`${root}/dist/index.js`)};
    const out = {};
    const info = (e) => ({ name: e?.name, code: e?.code, syscall: e?.syscall, path: e?.path, hint: e?.hint });
    let hung;
    out.async = await Promise.race([sysctl.getAsync('net.ipv4.tcp_keepalive_time'), new Promise((r) => (hung = setTimeout(() => r('HUNG'), 5000)))]);
    clearTimeout(hung); // else the child lives on for the rest of the 5 s
    if (process.argv[1] === 'userns') {
      const auto = NetNamespace.create();
      out.autoRootless = auto.rootless !== undefined;
      out.autoValue = auto.sysctl.get('net.ipv4.tcp_keepalive_time');
      auto.close();
      const ns = NetNamespace.create({ rootless: false });
      out.rootless = ns.rootless !== undefined;
      try { ns.sysctl.get('net.ipv4.tcp_keepalive_time'); out.sync = null; } catch (e) { out.sync = info(e); }
      try { ns.runSync(() => 1); out.runSync = null; } catch (e) { out.runSync = info(e); }
      out.asyncIn = await ns.sysctl.getAsync('net.ipv4.tcp_keepalive_time').then(() => null, info);
      out.after = sysctl.get('net.ipv4.tcp_keepalive_time');
      ns.close();
    }
    console.log(JSON.stringify(out));
  `;
  const run = (wrap: string[], mode: string): Json => {
    const [cmd, args] = plainNode(['--input-type=module', '-e', script, mode]); // no tap tracker in the child
    const argv = [...wrap, cmd, ...args];
    const r = spawnSync(argv[0]!, argv.slice(1), {
      uid: NOBODY,
      gid: NOBODY,
      cwd: '/',
      env: nobodyEnv,
      encoding: 'utf8',
      timeout: 30_000,
    });
    t.equal(r.signal, null, `${mode}: not killed (no abort, no hang): ${r.stderr}`);
    t.equal(r.stderr, '', `${mode}: nothing on stderr`);
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? 'null');
  };
  const host = fs.readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8').trim();
  const plain = run([], 'plain');
  t.equal(String(plain.async), host, 'as nobody, sysctl.getAsync() answers');
  const u = run(['unshare', '-Ur'], 'userns');
  t.equal(String(u.async), host, 'as root of its own user namespace, too');
  t.equal(u.autoRootless, true, 'create() picks rootless there: the way back from an ordinary one is barred');
  t.equal(u.autoValue, 7200, 'and it works (a fresh namespace: kernel default)');
  t.equal(
    u.rootless,
    false,
    'create({ rootless: false }) makes an ordinary namespace (CAP_SYS_ADMIN in its user namespace)',
  );
  for (const k of ['sync', 'runSync', 'asyncIn'])
    t.match(
      u[k],
      {
        name: 'NetnsError',
        code: 'EPERM',
        syscall: 'setns',
        path: '/proc/thread-self/ns/net',
        hint: /could not come back/,
      },
      `${k}: refused with the way-back hint`,
    );
  t.equal(String(u.after), host, 'the JS thread is still home and works');
});

t.test('a terminated Worker leaves no rootless fds behind (environment cleanup closes them)', async (t) => {
  // Workers that make a rootless namespace, read through it, open a key handle, and are
  // terminated without close(): no finalizer runs, so the addon's environment cleanup must
  // close the socket, pidfd and key fds it handed out.
  const script = `
    import { Worker } from 'node:worker_threads';
    import fs from 'node:fs';
    const count = () => fs.readdirSync('/proc/self/fd').length;
    const code = \`
      import { parentPort } from 'node:worker_threads';
      const { NetNamespace } = await import(${JSON.stringify(`${root}/dist/index.js`)});
      const ns = NetNamespace.create({ rootless: true });
      ns.sysctl.get('net.ipv4.tcp_keepalive_time');
      ns.sysctl.open('net.ipv4.tcp_keepalive_probes');
      parentPort.postMessage('ready');
      setInterval(() => {}, 1000);\`;
    const once = async () => {
      const w = new Worker(code, { eval: true });
      await new Promise((r) => w.once('message', r));
      await w.terminate();
    };
    await once(); // the first load opens process-wide fds once (the /proc/sys/net root)
    const before = count();
    for (let i = 0; i < 4; i++) await once();
    await new Promise((r) => setTimeout(r, 200));
    const helpers = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
      try {
        const st = fs.readFileSync('/proc/' + p + '/stat', 'utf8');
        const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
        return Number(rest[1]) === process.pid && st.includes('(netns-rootless)');
      } catch { return false; }
    });
    console.log(JSON.stringify({ before, after: count(), helpers }));
  `;
  const [cmd, args] = plainNode(['--input-type=module', '-e', script]);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  const { before, after, helpers } = JSON.parse(r.stdout.trim());
  t.equal(after, before, 'fd count back to where it was');
  t.same(helpers, [], 'no helper process (not even a zombie) left behind');
});
