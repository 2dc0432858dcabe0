// NetNamespace.create: an anonymous, named or rootless namespace, chosen from the options and
// this process's privileges.
import { ERRNO, invalid, toNetnsError, wrap } from '../errors.js';
import { isNativeErrno, native } from '../native/index.js';
import { RootlessHelper } from '../rootless/helper.js';
import { hasCapSysAdmin, rootlessSupport } from '../rootless/support.js';
import { checkName, createNamed } from './named.js';

/** Options of {@link NetNamespace.create}. */
export interface CreateOptions {
  /** Also make it a named namespace, visible to `ip netns` as /run/netns/NAME. */
  name?: string;
  /**
   * Rootless mode: a namespace owned by a new user namespace of this user, held by a helper
   * process (see {@link NetNamespace.rootless}); needs no privilege. `true` forces it, `false`
   * forbids it. Left out, it is chosen for an anonymous namespace when this process lacks
   * CAP_SYS_ADMIN. Cannot be combined with `name`.
   */
  rootless?: boolean;
}

/** A new namespace: its fd, its name, and the helper that holds it when rootless. */
export interface Created {
  fd: number;
  name?: string;
  helper?: RootlessHelper;
}

/**
 * Make the namespace `options` ask for. The calling thread does not move: the namespace is
 * made on a short-lived thread the addon owns, or by the rootless helper.
 */
export function createNamespace(options: CreateOptions): Created {
  if (options === null || typeof options !== 'object') invalid('an options object', 'options', options);
  // Each option read once (copy, validate, use): a getter cannot pass one check and answer
  // another.
  const { name: givenName, rootless } = options;
  const name = givenName === undefined ? undefined : checkName(givenName);
  if (rootless !== undefined && typeof rootless !== 'boolean') invalid('a boolean', 'options.rootless', rootless);
  if (rootless === true && name !== undefined)
    invalid(
      'no name with rootless: true (a rootless namespace cannot be mounted under /run/netns)',
      'options.name',
      name,
    );
  if (rootless === undefined && name === undefined && native.wayBack() === 0) {
    // The thread may switch back home, so it holds CAP_SYS_ADMIN: no rootless question to ask
    // (reading /proc/self/status for it costs ~10% of a creation). Should the capability be
    // gone since that answer was cached, the refusal leads to the full decision below.
    try {
      return { fd: native.createNetns() };
    } catch (e) {
      if (!(isNativeErrno(e) && e.errno === ERRNO.EPERM)) throw wrapError(e);
    }
  }
  if (rootless === true || (rootless === undefined && name === undefined && wantsRootless())) {
    const { helper, netnsFd } = RootlessHelper.start();
    return { fd: netnsFd, helper };
  }
  if (name === undefined) return { fd: wrap(() => native.createNetns(), CREATE) };
  return { fd: createNamed(name), name };
}

const CREATE = { action: 'create a network namespace' };
const wrapError = (e: unknown): never => {
  throw toNetnsError(e, CREATE);
};

/**
 * Rootless is chosen without CAP_SYS_ADMIN, or when the thread could enter a namespace it
 * makes but never switch back (root of a user namespace of its own: rootless containers),
 * provided user namespaces are available there.
 */
function wantsRootless(): boolean {
  return !hasCapSysAdmin() || (native.wayBack() !== 0 && rootlessSupport().available);
}
