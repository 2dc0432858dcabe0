// netns delete: remove named namespaces, as ip netns delete does.
import { NetNamespace } from 'netns';
import { UsageError, OK, FAILED, describe } from '../cli/errors.js';
import { warnError } from '../cli/output.js';
import type { Command } from '../cli/args.js';

export const deleteCommand: Command = {
  summary: 'delete named namespaces (as ip netns delete)',
  help: `Usage: netns delete NAME...

Remove /run/netns/NAME as \`ip netns delete\` does (lazy unmount, unlink). The namespace
itself goes away once no process is in it and nothing else holds it.

Example:
  netns delete lab`,
  options: {},
  run(_v, args) {
    if (args.length === 0) throw new UsageError('expected at least one NAME', 'delete');
    let status = OK;
    for (const name of args) {
      try {
        NetNamespace.remove(name);
      } catch (e) {
        const msg = describe(e);
        if (msg === undefined) throw e;
        warnError(e, msg);
        status = FAILED;
      }
    }
    return status;
  },
};
