// List the host's network namespaces, create a named one, show its id, remove it.
// Run: npm run example:namespaces   (as root)
import { NetNamespace, NetnsError } from 'netns';

const name = `netns-example-${process.pid}`;

console.log('Network namespaces on this host:');
for (const ns of NetNamespace.list()) {
  const names = ns.names.length ? ` names=${ns.names.join(',')}` : '';
  const pids = ns.pids.length ? ` pids=${ns.pids.slice(0, 5).join(',')}${ns.pids.length > 5 ? ',…' : ''}` : '';
  console.log(`  ${ns.id}${names}${pids}`);
}

let created: NetNamespace | undefined;
try {
  created = NetNamespace.create({ name });
  console.log(`\nCreated "${name}": id ${created.id} (ip netns list shows it as well)`);
  console.log(`  somaxconn inside: ${created.sysctl.get('net.core.somaxconn')}`);
  using again = NetNamespace.fromName(name);
  console.log(`  fromName("${name}") is the same namespace: ${again.equals(created)}`);
} catch (e) {
  if (e instanceof NetnsError && (e.code === 'EPERM' || e.code === 'EACCES')) {
    console.error(`\nCannot create a named namespace: ${e.message}`);
    process.exitCode = 1;
  } else throw e;
} finally {
  created?.close();
  try {
    NetNamespace.remove(name);
    console.log(`Removed "${name}".`);
  } catch {
    /* never created */
  }
}
