// The fixed cost per call, counted rather than timed (bench/analysis.md, issue 30):
//
//   node dist/bench/fixed-cost.js OP N
//
// warms OP up, then runs it N more times, checking every value. Run it under a counter twice,
// with N = 0 and with a large N, and divide the difference by N: bench/fixed-cost.sh does that
// with `valgrind --tool=callgrind` (user-space instructions per op; the kernel's work is not
// counted, and is the same system calls as the C rows: see `strace -c -f`). Instruction
// counts do not drift with the machine's load, so the cost above the system calls can be
// compared between builds on a shared machine where timings cannot.
//
// OP: get (ns.sysctl.get), handle (a cached handle's read()), getAll (of a fresh namespace),
// async1 (await getAsync, one in flight), audit (fromPid, compare with the host, close), and
// the C rows' counterparts are bench/baseline.c's cases (fixed-cost.sh runs them too).
// Root: it creates two namespaces and five `sleep` processes (audit), and removes them.
import { spawn, type ChildProcess } from 'node:child_process';
import { NetNamespace, comparer } from 'netns';

const [op, nArg] = process.argv.slice(2);
const n = Number(nArg);
const OPS = ['get', 'handle', 'getAll', 'async1', 'audit'] as const;
type Op = (typeof OPS)[number];
if (!OPS.includes(op as Op) || !Number.isInteger(n) || n < 0) {
  console.error(`usage: fixed-cost.js ${OPS.join('|')} N`);
  process.exit(64);
}
const KEY = 'net.core.somaxconn';
const VALUE = 4321;

const ns = NetNamespace.create();
const fresh = NetNamespace.create();
const holders: ChildProcess[] = [];
const done = (): void => {
  for (const p of holders) p.kill('SIGKILL');
  ns.close();
  fresh.close();
};
process.on('exit', done);
ns.sysctl.set(KEY, VALUE);
const h = ns.sysctl.open(KEY);
if (op === 'audit')
  for (let i = 0; i < 5; i++) {
    const x = NetNamespace.create();
    try {
      holders.push(x.runSync(() => spawn('sleep', ['3600'], { stdio: 'ignore' })));
    } finally {
      x.close();
    }
  }
const host = NetNamespace.current();
const cmp = comparer(host.sysctl.getAll());
host.close();

function wrong(what: string, got: unknown): never {
  throw new Error(`fixed-cost: wrong value in ${what}: ${JSON.stringify(got)}`);
}
const run: Record<Op, (k: number) => Promise<void>> = {
  get: async (k) => {
    for (let i = 0; i < k; i++) {
      const v = ns.sysctl.get(KEY);
      if (v !== VALUE) wrong('get', v);
    }
  },
  handle: async (k) => {
    for (let i = 0; i < k; i++) {
      const v = h.read();
      if (v !== VALUE) wrong('handle.read', v);
    }
  },
  getAll: async (k) => {
    for (let i = 0; i < k; i++) {
      const s = fresh.sysctl.getAll();
      if (s.raw[KEY] === undefined) wrong('getAll', Object.keys(s.raw).length);
    }
  },
  async1: async (k) => {
    for (let i = 0; i < k; i++) {
      const v = await ns.sysctl.getAsync(KEY);
      if (v !== VALUE) wrong('getAsync', v);
    }
  },
  audit: async (k) => {
    for (let i = 0; i < k; i++) {
      const x = NetNamespace.fromPid(holders[i % holders.length]!.pid!);
      try {
        const e = cmp(x);
        if (e.length < 100) wrong('audit entries', e.length);
      } finally {
        x.close();
      }
    }
  },
};
const f = run[op as Op];
await f(op === 'getAll' || op === 'audit' ? 30 : 3000); // into the optimising compiler
await f(n);
h.close();
process.exit(0);
