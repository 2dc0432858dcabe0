// Call order for Promise forms. A single operation (one native job) is submitted at once: the
// executor's queue is FIFO, so it runs after everything called before it. A compound operation
// (setManyAsync: old values, apply, rollback; a walk that falls back to a read) is several jobs
// submitted one after another; were later calls submitted meanwhile, they would run between
// its phases. So while a compound operation runs, later operations wait here and are submitted,
// in call order, when it ends: the compound operation is one job as far as order goes.

/** A FIFO gate: single operations pass straight through unless an exclusive run is active or waiting. */
export class Sequencer {
  #busy = false;
  readonly #waiting: (() => void)[] = [];

  /** Whether an operation started now would have to wait. */
  get blocked(): boolean {
    return this.#busy || this.#waiting.length > 0;
  }

  /**
   * Submit a single operation now, or (behind an exclusive run) when its turn comes.
   * `defer` is called only when it must wait, to take what the submission needs from the
   * moment of the call (e.g. a private dup of the target namespace); it returns the release.
   */
  single<T>(submit: () => Promise<T>, defer?: () => () => void): Promise<T> {
    if (!this.blocked) return submit();
    const release = defer?.() ?? noop;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => {
        try {
          submit().then(resolve, reject);
        } catch (e) {
          reject(e);
        } finally {
          release();
        }
      });
    });
  }

  /** Run `run` with every later operation held back until the Promise it returns settles. */
  exclusive<T>(run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.#busy = true;
        let p: Promise<T>;
        try {
          p = run();
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(resolve, reject).finally(() => {
          this.#busy = false;
          this.#drain();
        });
      };
      if (this.blocked) this.#waiting.push(start);
      else start();
    });
  }

  #drain(): void {
    while (!this.#busy && this.#waiting.length > 0) this.#waiting.shift()!();
  }
}

function noop(): void {}
