// netns create: a named namespace, as ip netns add makes it.
import { NetNamespace } from 'netns';
import { UsageError, OK } from '../cli/errors.js';
import type { Command } from '../cli/args.js';

export const createCommand: Command = {
  summary: 'create a named namespace (as ip netns add)',
  help: `Usage: netns create NAME

Create a network namespace bound at /run/netns/NAME, exactly as \`ip netns add NAME\`
does: \`ip netns\` sees it, and it lives until \`netns delete NAME\`.

Example:
  netns create lab && netns sysctl --name lab net.core.somaxconn`,
  options: {},
  run(_v, args) {
    if (args.length !== 1) throw new UsageError('expected exactly one NAME', 'create');
    NetNamespace.create({ name: args[0]! }).close();
    return OK;
  },
};
