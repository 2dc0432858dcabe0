// npm run test:kernels [-- LINE...]: the kernel matrix. For each kernel line (5.10, 6.1, 6.12;
// `host` runs the parts that change nothing global natively on this machine's kernel): fetch and
// cache Debian's kernel, build a small initramfs, boot it under qemu TCG with the host's root
// shared read-only, run the kernel tier (test/kernels/tier/) inside as root, as nobody and under
// a seccomp filter that hides openat2/pidfd_open/clone3, and report TAP with the kernel line in
// every test's name. A boot that fails, panics or hangs is a failed test with the console's last
// lines, never a skip. Ends with tap's summary line ("# { total, pass, fail, skip }").
//
// `--record` keeps what each line showed (test/kernels/observed/LINE.json: every key's class as
// the experiment found it, its presence and values): the rule base's evidence, which
// test/unit/kernel-lines.test.ts replays and scripts/kernel-lines.mjs turns into
// lib/explain/kernel-lines.ts.
//
// Environment: NETNS_KERNELS_CACHE (default ~/.cache/netns-kernels: kernels, boot files, apt
// state), NETNS_KERNELS_JOBS (VMs side by side, default 3), NETNS_KERNELS_TIMEOUT (seconds per
// VM, default 1500), NETNS_KERNELS_KEEP=1 (keep each VM's console and results, and say where),
// NETNS_KERNELS_APPEND (more kernel parameters, e.g. to see a failing boot reported).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LINES, fetchLine } from './lines.mjs';
import { bootFiles } from './initramfs.mjs';
import { consoleTail, runVm } from './vm.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const cache = process.env.NETNS_KERNELS_CACHE || join(os.homedir(), '.cache', 'netns-kernels');
// Three: every line at once. A TCG VM is one busy thread; with two side by side on two cores
// the last line ran alone on one core (CI, 2026-12-07: 339 s with 2, 247 s with 3).
const jobs = Math.max(1, Number(process.env.NETNS_KERNELS_JOBS) || 3);
const timeout = Number(process.env.NETNS_KERNELS_TIMEOUT) || 1500;
const keep = process.env.NETNS_KERNELS_KEEP === '1';
const tierDir = join(root, 'dist', 'kernels', 'tier');

/** The tier: which file runs how, in this order (classify.js measures what rootless.js checks). */
const TIER = [
  ['root', 'handles'],
  ['root', 'sysctl'],
  ['root', 'container'],
  ['root', 'effective'],
  ['enosys', 'handles'],
  ['root', 'classify'],
  ['nobody', 'rootless'],
];
/** On the host only what changes nothing global (the rest is the regular suite's). */
const HOST_TIER = [
  ['root', 'observe'],
  ['root', 'handles'],
  ['root', 'sysctl'],
  ['enosys', 'handles'],
];

const args = process.argv.slice(2);
const recordTo = args.includes('--record') ? join(here, 'observed') : undefined;
const wanted = args.filter((a) => a !== '--record');
const known = [...LINES.map((l) => l.line), 'host'];
for (const w of wanted) {
  if (!known.includes(w)) {
    console.error(`test:kernels: unknown line ${JSON.stringify(w)}; known: ${known.join(', ')}`);
    process.exit(2);
  }
}
const selected = wanted.length ? known.filter((l) => wanted.includes(l)) : known;

// ---- TAP out ----
let n = 0;
const totals = { pass: 0, fail: 0, skip: 0 };
const say = (s) => process.stdout.write(s + '\n');
const yaml = (fields) => {
  const out = ['  ---'];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) out.push(`  ${k}: |`, ...v.map((l) => `    ${l}`));
    else out.push(`  ${k}: ${JSON.stringify(v)}`);
  }
  out.push('  ...');
  return out.join('\n');
};
function result(ok, name, { skip, diag, block } = {}) {
  n++;
  if (skip !== undefined) totals.skip++;
  else if (ok) totals.pass++;
  else totals.fail++;
  say(`${ok ? 'ok' : 'not ok'} ${n} - ${name}${skip !== undefined ? ` # SKIP ${skip}` : ''}`);
  if (block) say(block);
  else if (diag && !ok) say(yaml(diag));
}

/** The top-level results of one tier file's TAP (node --test-reporter=tap), with their YAML blocks. */
function parseTap(text) {
  const lines = text.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\s*(.*))?$/.exec(lines[i]);
    if (!m) continue;
    const r = {
      ok: m[1] === 'ok',
      name: m[2].replace(/\\#/g, '#'),
      skip: m[3] ? m[4] || m[3].toLowerCase() : undefined,
    };
    if (lines[i + 1] === '  ---') {
      const end = lines.indexOf('  ...', i + 1);
      if (end > i) {
        r.block = lines.slice(i + 1, end + 1).join('\n');
        i = end;
      }
    }
    out.push(r);
  }
  return out;
}

// ---- build what the guest runs ----
function build() {
  const npm = (args) =>
    execFileSync('npm', ['run', '-s', ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  npm(['build:ts']);
  npm(['build:examples']);
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.kernels.json')],
    { stdio: 'inherit' },
  );
  for (const f of ['build/Release/netns.node', 'build/Release/netns-rootless'])
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npm ci\` (or \`npm run build\`) first`);
  const src = Buffer.concat([readFileSync(join(here, 'enosys.c')), readFileSync(join(root, 'native', 'syscompat.h'))]);
  const bin = join(cache, `enosys-${createHash('sha256').update(src).digest('hex').slice(0, 12)}`);
  if (!existsSync(bin)) {
    mkdirSync(cache, { recursive: true });
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', `${bin}.tmp`, join(here, 'enosys.c')], { stdio: 'inherit' });
    copyFileSync(`${bin}.tmp`, bin);
    rmSync(`${bin}.tmp`);
  }
  return bin;
}

/** What is missing on this machine to run the matrix. */
function missingTools() {
  const need = {
    'qemu-system-x86_64': 'qemu-system-x86',
    cpio: 'cpio',
    xz: 'xz-utils',
    zstd: 'zstd',
    cc: 'gcc',
    strace: 'strace',
    'apt-get': 'apt',
    'dpkg-deb': 'dpkg',
    unshare: 'util-linux',
    setpriv: 'util-linux',
    ip: 'iproute2',
    sysctl: 'procps',
  };
  const miss = Object.entries(need).filter(([cmd]) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0);
  if (!existsSync('/bin/busybox')) miss.push(['/bin/busybox', 'busybox-static']);
  return miss;
}

// ---- one line ----
const summary = [];

function reportTier(tier, dir, prefix) {
  let passed = 0;
  let total = 0;
  for (const [mode, file] of tier) {
    const name = mode === 'enosys' ? `enosys ${file}` : mode === 'nobody' ? `${file} (nobody)` : file;
    const base = join(dir, file + (mode === 'enosys' ? '-enosys' : ''));
    const tap = existsSync(`${base}.tap`) ? readFileSync(`${base}.tap`, 'utf8') : '';
    const status = existsSync(`${base}.status`) ? Number(readFileSync(`${base}.status`, 'utf8')) : null;
    const results = parseTap(tap);
    for (const r of results) {
      total++;
      if (r.ok) passed++;
      result(r.ok, `${prefix}: ${name}: ${r.name}`, r);
    }
    if (results.length === 0 || (status !== 0 && results.every((r) => r.ok))) {
      total++;
      const err = existsSync(`${base}.err`) ? readFileSync(`${base}.err`, 'utf8').trim().split('\n').slice(-20) : [];
      result(false, `${prefix}: ${name}: ran to the end`, { diag: { status, stderr: err } });
    }
  }
  return { passed, total };
}

function stats(line, dir) {
  const f = join(dir, 'classify.json');
  if (!existsSync(f)) return undefined;
  const c = JSON.parse(readFileSync(f, 'utf8'));
  say(
    `# ${line}: classify() agrees with the experiment on ${c.agree}/${c.settled} keys it settles (${c.agreementPct}%), ${c.keys} keys in all; wrong ${c.wrong.length}, unknown ${c.unknown.length}, unsettled ${c.unsettled}`,
  );
  for (const w of c.wrong) say(`#   wrong: ${w}`);
  for (const u of c.unknown) say(`#   unknown: ${u}`);
  say(`# ${line}: a namespace owned by a user namespace hides ${c.hidden.length} keys: ${c.hidden.join(' ')}`);
  if (c.usernsReadonly.length)
    say(`# ${line}: and has ${c.usernsReadonly.length} read-only: ${c.usernsReadonly.join(' ')}`);
  return c;
}

async function runLine(l, enosys, tmp) {
  const start = Date.now();
  let k;
  let boot;
  try {
    k = fetchLine(cache, l, (m) => say(`# ${m}`));
    boot = bootFiles(cache, k);
  } catch (e) {
    result(false, `${l.line}: kernel fetched and boot files built`, {
      diag: { error: String(e.message ?? e).split('\n') },
    });
    summary.push({ line: l.line, release: '-', boot: null, tier: null, tests: '0/1' });
    return;
  }
  const env = {
    NETNS_DIR: root,
    NETNS_NODE: process.execPath,
    NETNS_ENOSYS: enosys,
    NETNS_TIER: TIER.map(([m, f]) => `${m} ${join(tierDir, `${f}.js`)}`).join('\n'),
  };
  const vm = await runVm({ boot, env, tmp, timeout, append: process.env.NETNS_KERNELS_APPEND ?? '' });
  const prefix = l.line;
  const booted = vm.bootS !== null;
  const diag = { kernel: k.pkg, exit: vm.exit, detail: vm.detail, console: consoleTail(vm.console) };
  result(
    booted && vm.exit !== 'panic',
    `${prefix}: boots ${k.release} under qemu TCG and reaches the shared root${booted ? ` (${vm.bootS.toFixed(1)} s)` : ''}`,
    { diag },
  );
  // (A VM that never booted has one failure, the boot's; one that stopped midway, the stop's too.)
  const tier = booted ? reportTier(TIER, vm.results, prefix) : { passed: 0, total: 0 };
  if (booted && vm.exit !== 'done') result(false, `${prefix}: the VM ran the tier to the end`, { diag });
  const c = stats(l.line, vm.results);
  summary.push({
    line: l.line,
    release: k.release,
    boot: vm.bootS,
    tier: vm.tierS,
    wall: (Date.now() - start) / 1000,
    tests: `${tier.passed}/${tier.total}`,
    classify: c ? `${c.agreementPct}%` : '-',
    wrong: c ? c.wrong.length : '-',
    unknown: c ? c.unknown.length : '-',
    hidden: c ? c.hidden.length : '-',
  });
  keepRecord(l.line, vm.results);
  if (keep) say(`# ${l.line}: console and results kept in ${vm.dir}`);
  else rmSync(vm.dir, { recursive: true, force: true });
}

/** The host line: the tier's files that change nothing global, natively, on the running kernel. */
function runHost(enosys, tmp) {
  const start = Date.now();
  const dir = mkdtempSync(join(tmp, 'host-'));
  for (const [mode, file] of HOST_TIER) {
    const argv = [process.execPath, '--test-reporter=tap', join(tierDir, `${file}.js`)];
    const r = spawnSync(mode === 'enosys' ? enosys : argv[0], mode === 'enosys' ? argv : argv.slice(1), {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NETNS_KERNEL_RESULTS: dir },
    });
    const base = join(dir, file + (mode === 'enosys' ? '-enosys' : ''));
    writeFileSync(`${base}.tap`, r.stdout ?? '');
    writeFileSync(`${base}.err`, r.stderr ?? '');
    writeFileSync(`${base}.status`, String(r.status));
  }
  const line = os.release().match(/^\d+\.\d+/)[0];
  const prefix = `${line} (host)`;
  const tier = reportTier(HOST_TIER, dir, prefix);
  keepRecord(line, dir);
  summary.push({
    line: 'host',
    release: os.release(),
    boot: null,
    tier: (Date.now() - start) / 1000,
    wall: (Date.now() - start) / 1000,
    tests: `${tier.passed}/${tier.total}`,
    classify: '-',
    wrong: '-',
    unknown: '-',
    hidden: '-',
  });
  rmSync(dir, { recursive: true, force: true });
}

/** With --record: the line's observation into test/kernels/observed/LINE.json. */
function keepRecord(line, dir) {
  const f = join(dir, 'observed.json');
  if (!recordTo || !existsSync(f)) return;
  mkdirSync(recordTo, { recursive: true });
  copyFileSync(f, join(recordTo, `${line}.json`));
  say(`# ${line}: recorded in ${join(recordTo, `${line}.json`)}`);
}

// ---- main ----
say('TAP version 14');
const t0 = Date.now();
const tmp = mkdtempSync(join(os.tmpdir(), 'netns-kernels-'));
process.on('exit', () => {
  if (!keep) rmSync(tmp, { recursive: true, force: true });
});
say(`# kernel matrix: ${selected.join(', ')}; ${jobs} VM(s) at a time; cache ${cache}`);
const miss = missingTools();
let enosys;
if (miss.length) {
  result(false, 'the tools the matrix needs are installed', {
    diag: { missing: miss.map(([c, p]) => `${c} (Debian package ${p})`) },
  });
} else {
  try {
    enosys = build();
  } catch (e) {
    result(false, 'the package and the tier build', { diag: { error: String(e.message ?? e).split('\n') } });
  }
}
if (enosys) {
  if (selected.includes('host')) runHost(enosys, tmp);
  // Newest first: its tier takes longest (6.12: about 1.5 times 5.10's), so fewer slots than
  // lines (NETNS_KERNELS_JOBS) end together.
  const queue = LINES.filter((l) => selected.includes(l.line)).reverse();
  // Each line is fetched (apt, synchronous) just before its VM starts; up to `jobs` VMs side by side.
  const running = [];
  for (const l of queue) {
    const p = runLine(l, enosys, tmp).then(() => running.splice(running.indexOf(p), 1));
    running.push(p);
    if (running.length >= jobs) await Promise.race(running);
  }
  await Promise.all(running);
}
const fmt = (v, d = 1) => (typeof v === 'number' ? `${v.toFixed(d)} s` : '-');
say('# kernel   release                    boot      tier      wall      tests    classify  wrong  unknown  hidden');
for (const s of summary.sort((a, b) => known.indexOf(a.line) - known.indexOf(b.line)))
  say(
    `# ${s.line.padEnd(8)} ${s.release.padEnd(26)} ${fmt(s.boot).padEnd(9)} ${fmt(s.tier).padEnd(9)} ${fmt(s.wall).padEnd(9)} ${String(s.tests).padEnd(8)} ${String(s.classify).padEnd(9)} ${String(s.wrong).padEnd(6)} ${String(s.unknown).padEnd(8)} ${s.hidden}`,
  );
say(`# matrix wall time: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
say(`1..${n}`);
say(`# { total: ${n}, pass: ${totals.pass}, fail: ${totals.fail}, skip: ${totals.skip} }`);
process.exit(totals.fail > 0 || n === 0 ? 1 : 0);
