// The safety net of the runtime tests' teardowns: what a test process registers here (runc
// containers, directories its daemons and shims run from, cgroup names of its own) is removed by
// a watcher once the process is gone, however it ended: a timeout (tap sends SIGALRM, then
// SIGKILL, and no teardown runs), a crash, or a normal exit after the teardowns (then there is
// nothing left and each step is a no-op). One watcher per test process; the script it runs is
// rewritten as things are registered, and removes itself.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';

const runcs: { root: string; id: string }[] = [];
const dirs: string[] = [];
const cgroups: string[] = [];
const empties: string[] = [];
const named: string[] = [];
let script: string | undefined;

const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * Remove after this process, whatever happens to it:
 *   runc      a container of a runc root (killed and deleted);
 *   dir       a directory: any process whose command line names it is killed (a daemon, its
 *             shims), then the directory is removed;
 *   cgroup    a cgroup name unique to this test (a container id with the pid in it, a containerd
 *             namespace of the test's own): processes in it are killed, and the directory of
 *             that name in every hierarchy removed, with what is below it;
 *   emptyDir  a directory removed only if empty (a shim's runc root, which others may share);
 *   netns     a named network namespace (`ip netns del`), after the processes in it are gone.
 * In that order: processes killed first (daemons, shims, containers), then runc's state, the
 * cgroups, the directories.
 */
export function removeAfterExit(what: {
  runc?: { root: string; id: string };
  dir?: string;
  cgroup?: string;
  emptyDir?: string;
  netns?: string;
}): void {
  if (what.runc) runcs.push(what.runc);
  if (what.dir) dirs.push(what.dir);
  if (what.emptyDir) empties.push(what.emptyDir);
  if (what.netns) named.push(what.netns);
  if (what.cgroup) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(what.cgroup)) throw new Error(`not a cgroup name: ${what.cgroup}`);
    cgroups.push(what.cgroup);
  }
  const first = script === undefined;
  script ??= path.join(os.tmpdir(), `netns-leftovers-${process.pid}.sh`);
  fs.writeFileSync(script, body(script), { mode: 0o700 });
  if (first) {
    // The script's path goes in the environment: a command line naming a registered directory
    // would be one the script kills.
    const watcher = spawn(
      'bash',
      ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; exec bash "$NETNS_LEFTOVERS"`],
      {
        detached: true,
        stdio: 'ignore',
        env: { ...process.env, NETNS_LEFTOVERS: script },
      },
    );
    watcher.unref();
  }
}

function body(self: string): string {
  const cgRe = cgroups.map((c) => c.replaceAll('.', '\\.')).join('|');
  return `#!/bin/bash
# written by test/leftovers.ts for test process ${process.pid}
DIRS=(${dirs.map(q).join(' ')})
leftover() { # pids whose command line names a directory, or whose cgroup is one of the names
  local p args cg d
  for p in /proc/[0-9]*; do
    [ "\${p#/proc/}" = "$$" ] && continue
    mapfile -d '' args <"$p/cmdline" 2>/dev/null || continue
    for d in "\${DIRS[@]}"; do [[ "\${args[*]}" == *"$d"* ]] && { echo "\${p#/proc/}"; continue 2; }; done
    ${cgRe ? `mapfile -t cg <"$p/cgroup" 2>/dev/null && [[ "\${cg[*]}" =~ :/(.*/)?(${cgRe})(/| |$) ]] && echo "\${p#/proc/}"` : ':'}
  done
}
for i in $(seq 30); do
  pids=$(leftover)
  [ -z "$pids" ] && break
  kill -9 $pids 2>/dev/null
  sleep 0.1
done
${runcs
  .map(
    (c) =>
      `if [ -d ${q(c.root)} ]; then runc --root ${q(c.root)} kill ${q(c.id)} KILL; runc --root ${q(c.root)} delete -f ${q(c.id)}; fi >/dev/null 2>&1`,
  )
  .join('\n')} # (runc makes a --root that is missing: only when there is one)
${cgroups.map((c) => `find /sys/fs/cgroup -maxdepth 6 -depth -type d \\( -name ${q(c)} -o -path ${q(`*/${c}/*`)} \\) -exec rmdir {} + 2>/dev/null`).join('\n')}
for d in "\${DIRS[@]}"; do rm -rf "$d"; done
${empties.map((d) => `rmdir ${q(d)} 2>/dev/null`).join('\n')}
${named.map((n) => `ip netns del ${q(n)} 2>/dev/null`).join('\n')}
rm -f ${q(self)}
exit 0
`;
}
