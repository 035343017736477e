// A tiny typed event emitter (no Node built-ins). `on` returns the function that removes the
// listener. A listener that throws never breaks the emitter or the other listeners (it is
// logged with console.error).

export type Listener<T> = (event: T) => void;

export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => this.off(name, listener);
  }

  once<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(name, (e) => {
      off();
      listener(e);
    });
    return off;
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.listeners.get(name)?.delete(listener);
  }

  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    for (const l of [...set]) {
      try {
        (l as Listener<Events[K]>)(event);
      } catch (err) {
        // Surface the bug without letting it break the SDK's own state machine.
        console.error('fastpubsub: an event listener threw', err);
      }
    }
  }
}
