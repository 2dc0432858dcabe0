// NetNamespace.list(): the `command` of one pid per namespace (what `netns list` shows).
import t from 'tap';
import * as fs from 'node:fs';
import { NetNamespace } from '../lib/index.js';
import { checkThreadsAtEnd, ipNetnsAdd, unshareSleep } from './helpers.js';

// Needs: root (to see every process's namespace, and for unshare/ip netns add).
checkThreadsAtEnd(t);

t.test('list() gives the command line of the first pid, as /proc/PID/cmdline has it', async (t) => {
  const child = await unshareSleep(t);
  const all = NetNamespace.list();
  const sleeper = all.find((e) => e.pids.includes(child.pid));
  t.ok(sleeper, 'the sleeper namespace is listed');
  t.same(sleeper!.pids, [child.pid], 'it is the only process there');
  const expected = fs
    .readFileSync(`/proc/${child.pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((a, i, arr) => i < arr.length - 1 || a !== '');
  t.same(expected, ['sleep', '600'], "oracle: the kernel shows the exec'd argv");
  t.equal(sleeper!.command, 'sleep 600');

  const mine = all.find((e) => e.pids.includes(process.pid));
  const first = mine!.pids[0]!;
  const firstArgs = fs
    .readFileSync(`/proc/${first}/cmdline`, 'utf8')
    .split('\0')
    .filter((a) => a !== '')
    .join(' ');
  t.equal(
    mine!.command,
    firstArgs || `[${fs.readFileSync(`/proc/${first}/comm`, 'utf8').trim()}]`,
    'host namespace: command of its lowest pid',
  );
});

t.test('list(): a named namespace nobody runs in has no command', async (t) => {
  const name = ipNetnsAdd(t, 'ntcli');
  const named = NetNamespace.list().find((e) => e.names.includes(name));
  t.ok(named);
  t.same(named!.pids, []);
  t.equal(named!.command, undefined);
  t.notOk('command' in named!, 'the field is absent, not undefined-valued, so JSON output omits it');
});
