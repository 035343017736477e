// Writes of all subscription streams touched in one tick are made together from one microtask
// (STYLE.md #4, #5): a burst of publishes becomes one writev per stream, never a promise or a
// write call per message.

export interface Flushable {
  flush(): void;
}

export class FlushBatcher {
  #pending: Flushable[] = [];
  #scheduled = false;

  enlist(f: Flushable): void {
    this.#pending.push(f);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#run);
    }
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    const list = this.#pending;
    this.#pending = [];
    for (const f of list) f.flush();
  };
}
