// One matrix VM: qemu-system-x86_64 under TCG (nested KVM hangs on these machines), one vCPU
// (fork+exec is faster than with two), no network device, the host's root shared read-only
// over virtio-9p and a per-run results directory shared writable. The kernel console goes to
// a file; the guest writes its TAP and progress to the results share.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envArchive } from './initramfs.mjs';

/** Every qemu this process started and has not seen exit: killed on any way out. */
const live = new Set();
let trapped = false;
function trapExits() {
  if (trapped) return;
  trapped = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      for (const c of live) c.kill('SIGKILL');
      process.exit(128 + { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[sig]);
    });
  }
}

/** The last `n` lines of the console log, without the terminal's carriage returns. */
export function consoleTail(file, n = 25) {
  if (!existsSync(file)) return ['(no console output)'];
  const lines = readFileSync(file, 'latin1').replace(/\r/g, '').split('\n');
  while (lines.length && lines.at(-1) === '') lines.pop();
  return lines.slice(-n);
}

/** Progress lines the guest wrote ("booted 4.12", "start X 5.0", "done 61.3"): [name, uptime s]. */
function stagesOf(dir) {
  const f = join(dir, 'stages');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const i = l.lastIndexOf(' ');
      return [l.slice(0, i), Number(l.slice(i + 1))];
    });
}

/**
 * Boot a kernel and run the tier in it. `boot`: { vmlinux, initramfs }; `env`: what the guest's
 * /netns.env holds (NETNS_DIR, NETNS_NODE, NETNS_TIER). Resolves (never rejects) with
 * { dir, console, stages, bootS, tierS, wallS, exit: 'done' | 'panic' | 'hang' | 'exited' | 'spawn-error', detail }
 * (seconds on the host's clock: to the guest's "booted" mark, from there to "done", in all).
 * `bootTimeout`: seconds to the guest's "booted" mark; `timeout`: seconds for the whole run;
 * `append`: more kernel parameters.
 */
export function runVm({ boot, env, memory = 1536, bootTimeout = 300, timeout = 1200, tmp, append = '' }) {
  trapExits();
  const dir = mkdtempSync(join(tmp, 'vm-'));
  const results = join(dir, 'results');
  const consoleLog = join(dir, 'console.log');
  writeFileSync(consoleLog, '');
  const initrd = join(dir, 'initrd.cpio');
  writeFileSync(initrd, Buffer.concat([readFileSync(boot.initramfs), readFileSync(envArchive(dir, env))]));
  mkdirSync(results);
  const args = [
    '-accel',
    'tcg',
    '-cpu',
    'max',
    '-smp',
    '1',
    '-m',
    String(memory),
    '-machine',
    'pc',
    '-nodefaults',
    '-display',
    'none',
    '-no-reboot',
    '-nic',
    'none',
    '-serial',
    `file:${consoleLog}`,
    '-kernel',
    boot.vmlinux,
    '-initrd',
    initrd,
    '-append',
    `console=ttyS0 panic=-1 oops=panic loglevel=4 rdinit=/init ${append}`.trim(),
    '-fsdev',
    'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
    '-device',
    'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
    '-fsdev',
    `local,id=results,path=${results},security_model=none`,
    '-device',
    'virtio-9p-pci,fsdev=results,mount_tag=results',
  ];
  const start = Date.now();
  return new Promise((resolve) => {
    let stderr = '';
    let child;
    try {
      child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      resolve({
        dir,
        console: consoleLog,
        stages: [],
        bootS: null,
        tierS: null,
        wallS: 0,
        exit: 'spawn-error',
        detail: String(e),
      });
      return;
    }
    live.add(child);
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    let verdict;
    // Times are taken here, on the host: a guest's clock under TCG on a busy machine is not one.
    let bootedAt = null;
    let doneAt = null;
    const check = setInterval(() => {
      const s = (Date.now() - start) / 1000;
      const stages = stagesOf(results);
      const booted = stages.some(([n]) => n === 'booted');
      if (booted && bootedAt === null) bootedAt = s;
      if (doneAt === null && stages.some(([n]) => n === 'done')) doneAt = s;
      if (!booted && s > bootTimeout)
        verdict = { exit: 'hang', detail: `no boot to the shared root within ${bootTimeout} s` };
      else if (s > timeout) verdict = { exit: 'hang', detail: `the run did not end within ${timeout} s` };
      if (verdict) child.kill('SIGKILL');
    }, 500);
    child.on('error', (e) => {
      verdict ??= { exit: 'spawn-error', detail: String(e) };
    });
    child.on('close', (code, signal) => {
      clearInterval(check);
      live.delete(child);
      const stages = stagesOf(results);
      const text = existsSync(consoleLog) ? readFileSync(consoleLog, 'latin1') : '';
      if (!verdict) {
        if (/Kernel panic|BUG: |Oops: /.test(text))
          verdict = { exit: 'panic', detail: 'the kernel panicked or oopsed' };
        else if (stages.some(([n]) => n === 'done')) verdict = { exit: 'done', detail: '' };
        else
          verdict = {
            exit: 'exited',
            detail: `qemu exited (${signal ?? code}) before the tier finished${stderr ? `: ${stderr.trim()}` : ''}`,
          };
      }
      const wallS = (Date.now() - start) / 1000;
      if (bootedAt === null && stages.some(([n]) => n === 'booted')) bootedAt = wallS;
      if (doneAt === null && stages.some(([n]) => n === 'done')) doneAt = wallS;
      resolve({
        dir,
        results,
        console: consoleLog,
        stages,
        bootS: bootedAt,
        tierS: bootedAt !== null && doneAt !== null ? doneAt - bootedAt : null,
        wallS,
        ...verdict,
      });
    });
  });
}
