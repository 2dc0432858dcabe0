// netns apply: a sysctl.d policy brought to every container's namespace (applyPolicy()), or
// kept there as containers start (--watch: watchPolicy()). The library computes; this prints.
import {
  applyPolicy,
  terminalSafe,
  watchPolicy,
  type ApplyReport,
  type ApplyTarget,
  type ContainerSelector,
  type NamespaceApply,
} from 'netns';
import { CONTAINER_RUNTIMES } from 'netns/containers';
import { FAILED, OK, UsageError, errorJson } from '../cli/errors.js';
import { bold, cell, dim, out, shown, stringify, table, warn } from '../cli/output.js';
import { checkTarget, containerOptions, type TargetValues } from '../cli/targets.js';
import { targetTitle } from './diff-all.js';
import type { Command, Values } from '../cli/args.js';

/** --select KEY=PATTERN keys, and the selector field each fills. */
const SELECT_KEYS: Record<string, keyof ContainerSelector> = {
  runtime: 'runtime',
  'k8s-namespace': 'podNamespace',
  pod: 'pod',
  name: 'name',
  id: 'id',
};

export const applyCommand: Command = {
  summary: "bring every container's namespace to a sysctl.d policy, once or as they start",
  help: `Usage: netns apply --all [--namespaces] [SELECTION] [--dry-run] [--all-or-nothing]
                   [--override-spec] [--json] FILE...
       netns apply --watch [--namespaces] [SELECTION] [--interval SECONDS] [--json] FILE...

Bring the network namespace of every running container (--namespaces: every namespace but
the host's) to the values of FILE (sysctl.d(5) syntax; several files: a later line for a key
wins), the library's applyPolicy(). In each namespace, as one transaction (all or nothing):
  - globs such as net.ipv4.conf.*.rp_filter expand to the keys that namespace has;
  - keys that cannot be set per namespace (host-only, shared, read-only: netns explain KEY
    says why) are refused, with the reason, and never written;
  - keys the container's own spec set (linux.sysctl, as netns explain shows it with
    provenance spec: docker run --sysctl, securityContext.sysctls, the engine's defaults)
    are left alone, unless --override-spec;
  - then every key the file names is read back.
A namespace that fails is left as it was (its writes rolled back) and the others are applied;
with --all-or-nothing the whole run is one transaction: a failure restores every namespace
already written. Nothing is written on the host. Keys outside net are reported and skipped.

With --watch, keep doing it: the namespaces running now, then each container as it starts,
within milliseconds of its runtime's state appearing (inotify on the state directories,
and a rescan every --interval seconds, default 30), once per start. A process in a new
container may read a value before the policy lands: only the CNI plugin (netns-cni) applies
before the container starts (docs/remedies.md). Runs until SIGINT or SIGTERM.

Selection (each --select may be given more than once; a namespace is taken when one of its
containers matches every key given, any of its patterns; patterns are globs, * matches /):
      --runtime R      only containers of R: ${CONTAINER_RUNTIMES.join(', ')}
      --container-root DIR  read container state there instead (or NETNS_CONTAINER_ROOTS)
      --docker-exec-root DIR, --docker-data-root DIR
                       where dockerd keeps its state, as given to its --exec-root and
                       --data-root (or NETNS_DOCKER_EXEC_ROOT, NETNS_DOCKER_DATA_ROOT)
      --select runtime=PATTERN        the runtime a container is reported as
      --select k8s-namespace=PATTERN  the Kubernetes namespace of its pod
      --select pod=PATTERN            the name of its pod
      --select name=PATTERN           its name (Docker's, Podman's, Kubernetes' container
                                      name, or POD-NAMESPACE/POD/CONTAINER)
      --select id=PATTERN             its id (a prefix: ID*)

Options:
      --all            every running container's namespace (or --watch)
      --namespaces     every namespace but the host's, not only containers'
      --dry-run        write nothing: say what would change, exit as --all would
      --all-or-nothing one transaction across namespaces
      --override-spec  also set keys the container's own spec set
      --watch          keep applying as containers start
      --interval S     with --watch: rescan every S seconds (default 30)
      --json           the report as JSON (with --watch: one JSON object per line and
                       namespace); it has each changed key's previous value, to undo

Exit status: 0 when every namespace holds the policy's values afterwards, 1 when one
deviates or failed (what netns diff --all --expect FILE would say), 2 usage error.

Examples:
  netns apply --all --dry-run /etc/netns/containers.conf
  netns apply --all --select k8s-namespace=prod --select pod='web-*' tuning.conf
  netns apply --all --runtime docker --all-or-nothing --json tuning.conf
  netns apply --watch tuning.conf`,
  options: {
    all: { type: 'boolean' },
    namespaces: { type: 'boolean' },
    runtime: { type: 'string' },
    'container-root': { type: 'string' },
    'docker-exec-root': { type: 'string' },
    'docker-data-root': { type: 'string' },
    select: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
    'all-or-nothing': { type: 'boolean' },
    'override-spec': { type: 'boolean' },
    watch: { type: 'boolean' },
    interval: { type: 'string' },
    json: { type: 'boolean' },
  },
  run(v, files) {
    if (files.length === 0) throw new UsageError('apply needs a FILE (sysctl.d syntax)', 'apply');
    if (v.all !== true && v.watch !== true)
      throw new UsageError('apply needs --all (every container) or --watch (as they start)', 'apply');
    checkTarget(v as TargetValues, 'apply');
    const select = selector(v.select as string[] | undefined);
    const common = {
      policy: files,
      targets: v.namespaces === true ? ('all' as const) : ('containers' as const),
      containers: containerOptions(v as TargetValues),
      overrideSpec: v['override-spec'] === true,
      ...(select ? { select } : {}),
    };
    if (v.watch === true) {
      for (const o of ['dry-run', 'all-or-nothing'])
        if (v[o] === true) throw new UsageError(`--${o} does not go with --watch`, 'apply');
      return watch(v, common);
    }
    if (v.interval !== undefined) throw new UsageError('--interval goes with --watch', 'apply');
    const report = applyPolicy({
      ...common,
      dryRun: v['dry-run'] === true,
      allOrNothing: v['all-or-nothing'] === true,
    });
    if (v.json === true) out(stringify(report) + '\n');
    else printReport(report);
    return report.deviating > 0 || report.failed > 0 ? FAILED : OK;
  },
};

/** The --select arguments as a selector, or undefined without any. */
function selector(args: string[] | undefined): ContainerSelector | undefined {
  if (!args || args.length === 0) return undefined;
  const sel: Record<string, string[]> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    const field = eq > 0 ? SELECT_KEYS[a.slice(0, eq)] : undefined;
    if (field === undefined || eq === a.length - 1)
      throw new UsageError(
        `--select expects KEY=PATTERN with KEY one of ${Object.keys(SELECT_KEYS).join(', ')}, got ${JSON.stringify(a)}`,
        'apply',
      );
    (sel[field] ??= []).push(a.slice(eq + 1));
  }
  return sel as ContainerSelector;
}

const STATUS: Record<NamespaceApply['status'], string> = {
  applied: 'applied',
  unchanged: 'already as the policy says',
  'dry-run': 'dry run',
  failed: 'FAILED, left as it was',
  gone: 'gone before it was opened',
  restored: 'applied, then restored (--all-or-nothing)',
  'not-attempted': 'not attempted (--all-or-nothing stopped before it)',
};

/** One namespace's lines. */
function printTarget(t: ApplyTarget, dryRun: boolean): void {
  out(`${bold(targetTitle(t))}: ${STATUS[t.status]}\n`);
  if (t.changes.length > 0) {
    const rows = t.changes.map((c) => [shown(c.key), cell(c.from), cell(c.to), shown(c.where)]);
    const text = table(['KEY', dryRun ? 'NOW' : 'BEFORE', dryRun ? 'WOULD BE' : 'AFTER', 'FROM'], rows);
    out(text.replace(/^(?=.)/gm, '  '));
  }
  for (const k of t.keptBySpec)
    out(
      `  kept ${shown(k.key)} = ${shown(k.spec)}: set by the container's spec (policy: ${shown(k.policy)}; --override-spec sets it)\n`,
    );
  for (const s of t.skipped) out(`  skipped ${shown(s.key)} (${shown(s.where)}): ${s.code}\n`);
  if (t.error) {
    out(`  ${terminalSafe(t.error.message)}\n`);
    if (t.error.rolledBack?.length) out(`  rolled back: ${t.error.rolledBack.map(shown).join(', ')}\n`);
    if (t.error.notRestored?.length) out(`  NOT RESTORED: ${t.error.notRestored.map(shown).join(', ')}\n`);
  }
  const dev = t.deviations.filter((d) => !t.refused.some((r) => r.key === d.key));
  if (dev.length > 0 && t.status !== 'dry-run')
    out(
      `  deviates: ${dev.map((d) => `${shown(d.key)} = ${d.value === null ? '(absent)' : shown(d.value)} (policy ${shown(d.expected)})`).join(', ')}\n`,
    );
}

/** A key the policy names that cannot be set per namespace, and why (stderr). */
function warnRefused(x: ApplyTarget['refused'][number]): void {
  warn(`refused ${shown(x.key)} (${shown(x.where)}): ${x.class}: ${x.reason.replace(/\.$/, '')}; ${x.remedy}`);
}

function printReport(r: ApplyReport): void {
  for (const s of r.notNet)
    warn(`skipped ${shown(s.key)} (${shown(s.where)}): not under net, never applied per namespace`);
  const refused = new Map<string, ApplyTarget['refused'][number]>();
  for (const t of r.targets) for (const x of t.refused) refused.set(x.key, x);
  for (const x of refused.values()) warnRefused(x);
  if (r.targets.length === 0)
    out('no container namespaces selected (netns list shows what there is; --namespaces takes every namespace)\n');
  for (const t of r.targets) printTarget(t, r.dryRun);
  const n = r.targets.length;
  const verb = r.dryRun ? 'would change' : 'changed';
  out(
    dim(
      `${n} namespace${n === 1 ? '' : 's'}: ${r.applied} ${verb}, ${r.failed} failed${r.restored ? ' (every namespace written was restored)' : ''}; ${r.deviating} ${r.dryRun ? 'deviate from the policy now' : 'deviate from the policy'}\n`,
    ),
  );
}

/** --watch: run until SIGINT/SIGTERM, one line (or JSON object) per namespace applied. */
function watch(v: Values, common: Parameters<typeof watchPolicy>[0]): Promise<number> {
  let interval = 30_000;
  if (v.interval !== undefined) {
    const s = Number(v.interval);
    if (!(s >= 0.1) || !Number.isFinite(s))
      throw new UsageError(`--interval expects seconds (at least 0.1), got ${JSON.stringify(v.interval)}`, 'apply');
    interval = Math.round(s * 1000);
  }
  const json = v.json === true;
  const refusedShown = new Set<string>();
  const w = watchPolicy({
    ...common,
    interval,
    onApply(t) {
      if (json) {
        out(JSON.stringify({ time: new Date().toISOString(), ...t }) + '\n');
        return;
      }
      for (const x of t.refused)
        if (!refusedShown.has(x.key)) {
          refusedShown.add(x.key);
          warnRefused(x);
        }
      printTarget(t, false);
    },
    onError(e) {
      if (json) out(JSON.stringify({ time: new Date().toISOString(), error: errorJson(e) }) + '\n');
      else warn(`watch: ${e.message}`);
    },
  });
  // The ready line: what is watched (stderr, so --json's stdout stays one object per line).
  warn(`watching ${w.watching.map(shown).join(', ') || '(nothing yet)'}; rescan every ${interval / 1000} s`);
  return new Promise((resolve) => {
    const stop = (): void => {
      w.close();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(OK);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
