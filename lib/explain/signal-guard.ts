// Holds termination signals while the host probe has host values changed.

/**
 * Holds SIGTERM/SIGINT/SIGHUP while host values are changed. The probe runs synchronously, so
 * Node delivers a signal that arrives meanwhile only after the probe has restored the host;
 * the handler then removes itself and re-raises the signal with its default action (unless
 * the application has its own listener, which then handles it as usual; it is prepended so
 * that listeners like signal-exit's see themselves alone and re-raise).
 */
export class SignalGuard {
  static readonly signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  static #depth = 0;
  static #installed = false;
  static #cleanup: NodeJS.Immediate | undefined;

  static #handler = (sig: NodeJS.Signals): void => {
    // Runs from the event loop, i.e. never while a probe is changing host values.
    SignalGuard.#uninstall();
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };

  static #uninstall(): void {
    if (!SignalGuard.#installed) return;
    for (const s of SignalGuard.signals) process.removeListener(s, SignalGuard.#handler);
    SignalGuard.#installed = false;
  }

  static enter(): { leave(): void } {
    if (SignalGuard.#cleanup) clearImmediate(SignalGuard.#cleanup);
    if (!SignalGuard.#installed) {
      // First in line, so that it is gone before libraries such as signal-exit check whether
      // they are the last listener (and re-raise the signal themselves).
      for (const s of SignalGuard.signals) process.prependListener(s, SignalGuard.#handler);
      SignalGuard.#installed = true;
    }
    SignalGuard.#depth++;
    return {
      leave(): void {
        if (--SignalGuard.#depth > 0) return;
        // Keep the handlers until the event loop has polled at least once: a signal that
        // arrived during the probe waits in libuv's signal pipe, read in the poll phase, and
        // is lost if no listener is left by then. An immediate queued now runs in the check
        // phase of this iteration (which may come before any poll, when leave() runs inside
        // an I/O callback); the one it queues runs after the next poll. (A 200 ms timer did
        // this before: on a loaded machine it fired first and the signal was swallowed.)
        SignalGuard.#cleanup = setImmediate(() => {
          SignalGuard.#cleanup = setImmediate(() => {
            SignalGuard.#cleanup = undefined;
            SignalGuard.#uninstall();
          });
        });
      },
    };
  }
}
