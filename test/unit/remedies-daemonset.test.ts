// docs/remedies.md's DaemonSet for `netns apply --watch`, checked against the CLI and the library
// it runs (there is no cluster here): its arguments parse as the apply command's, its policy
// file is the ConfigMap's key where the volume is mounted and parses as sysctl.d, every state
// directory the container discovery reads by default is mounted read-only, and the pod has
// what setns, /proc/PID/ns and writes through /proc/sys/net need.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { defaultContainerRoots } from 'netns/containers';
import { expectationsFrom } from 'netns/sysctld';
import { parseCommandLine } from '../../bin/cli/args.js';
import { applyCommand } from '../../bin/commands/apply.js';

const page = fs.readFileSync(fileURLToPath(new URL('../../docs/remedies.md', import.meta.url)), 'utf8');
const blocks = [...page.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
type Any = any;

t.test('the DaemonSet of docs/remedies.md runs what netns takes', async (t) => {
  const block = blocks.find((b) => /kind: DaemonSet/.test(b));
  if (!block) throw new Error('docs/remedies.md has no DaemonSet');
  const docs = parseAllDocuments(block).map((d) => {
    t.same(d.errors, [], 'valid YAML');
    return d.toJS() as Any;
  });
  const ds = docs.find((d) => d.kind === 'DaemonSet');
  const cm = docs.find((d) => d.kind === 'ConfigMap');
  t.equal(ds.apiVersion, 'apps/v1');
  t.same(ds.spec.selector.matchLabels, ds.spec.template.metadata.labels, 'the selector matches the pods');
  const spec = ds.spec.template.spec;
  t.equal(spec.hostPID, true, "hostPID: the containers' processes");
  t.not(spec.hostNetwork, true, 'not on the host network');
  t.equal(spec.automountServiceAccountToken, false, 'no API token: it reads state files, not the API');
  const c = spec.containers[0];
  t.equal(c.securityContext.privileged, true, "privileged: a container's /proc/sys is read-only otherwise");
  t.equal(c.args[0], 'netns');
  t.equal(c.args[1], 'apply');
  const parsed = parseCommandLine('apply', applyCommand, c.args.slice(2));
  if (!('values' in parsed)) throw new Error('apply asked for its help');
  t.equal(parsed.values.watch, true, '--watch');
  t.equal(parsed.values.json, true, '--json');
  const files = parsed.positionals;
  t.equal(files.length, 1, 'one policy file');
  const file = files[0]!;
  const mounts: Any[] = c.volumeMounts;
  for (const m of mounts) t.equal(m.readOnly, true, `${m.mountPath} read-only`);
  const m = mounts.find((x) => path.dirname(file) === x.mountPath);
  t.ok(m, `${file} is in a mounted volume`);
  const vol = spec.volumes.find((v: Any) => v.name === m?.name);
  t.equal(vol?.configMap?.name, cm.metadata.name, 'from the ConfigMap');
  t.equal(cm.metadata.namespace, ds.metadata.namespace, 'in the same namespace');
  const text = cm.data[path.basename(file)];
  t.type(text, 'string', 'the ConfigMap has the file');
  const policy = expectationsFrom(text, file);
  t.ok(policy.exact.size + policy.globs.length > 0, 'the policy names keys');
  for (const r of defaultContainerRoots().filter((x) => !x.dir.startsWith('/run/user/')))
    t.ok(
      mounts.some((x) => r.dir === x.mountPath || r.dir.startsWith(`${x.mountPath}/`)),
      `${r.runtime}'s ${r.dir} is mounted`,
    );
  for (const v of spec.volumes.filter((x: Any) => x.hostPath))
    t.match(v.hostPath.path, /^\/run\//, `host path ${v.hostPath.path}: runtime state only`);
});
