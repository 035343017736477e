// Presence batches of one origin reach a PoP over several paths (direct, and flooded on by
// neighbours), so batch n + 1 or a heartbeat naming seq n + 1 may arrive before batch n. That is
// not a loss: the missing batch is usually a few milliseconds behind on the other path. This
// buffer holds batches that arrived early (bounded per origin) and remembers how far each
// origin is known to have gone; only an origin still behind after a grace period is treated as
// a real gap (a full member list is asked for).
import type { PresenceFrame } from '@fastpubsub/wire';

type Delta = Extract<PresenceFrame, { k: 'd' }>;

/** Early batches held per origin, at most. */
const MAX_HELD = 256;

export class ReorderBuffer {
  /** origin → seq → the batch and the link it came from. */
  readonly #held = new Map<string, Map<number, { frame: Delta; peer: string }>>();
  /** origin → the seq it is known to have reached, since when, and a link that has it. */
  readonly #behind = new Map<string, { seq: number; since: number; peer: string }>();

  /** Holds an early batch; false when the origin already has MAX_HELD held (treat as a gap). */
  hold(frame: Delta, peer: string, nowMs: number): boolean {
    let m = this.#held.get(frame.o);
    if (m === undefined) this.#held.set(frame.o, (m = new Map<number, { frame: Delta; peer: string }>()));
    if (m.size >= MAX_HELD) return false;
    m.set(frame.s, { frame, peer });
    this.behind(frame.o, frame.s, peer, nowMs);
    return true;
  }

  /** The origin is known to have reached `seq` (a heartbeat or batch said so). */
  behind(origin: string, seq: number, peer: string, nowMs: number): void {
    const b = this.#behind.get(origin);
    if (b === undefined) this.#behind.set(origin, { seq, since: nowMs, peer });
    else if (seq > b.seq) b.seq = seq;
  }

  /** Takes the held batch `seq` of `origin` and drops held ones at or below `applied`. */
  take(origin: string, applied: number): { frame: Delta; peer: string } | undefined {
    const m = this.#held.get(origin);
    if (m === undefined) return undefined;
    for (const s of m.keys()) if (s <= applied) m.delete(s);
    const next = m.get(applied + 1);
    if (next !== undefined) m.delete(applied + 1);
    if (m.size === 0) this.#held.delete(origin);
    return next;
  }

  /** The origin is applied up to `applied`: it is no longer behind if that covers what it reached. */
  caughtUp(origin: string, applied: number): void {
    const b = this.#behind.get(origin);
    if (b !== undefined && applied >= b.seq) this.#behind.delete(origin);
  }

  /** Origins still behind after `graceMs` (removed from the buffer: the caller asks for full lists). */
  overdue(nowMs: number, graceMs: number): Array<{ origin: string; peer: string }> {
    const out: Array<{ origin: string; peer: string }> = [];
    for (const [origin, b] of this.#behind) {
      if (nowMs - b.since < graceMs) continue;
      out.push({ origin, peer: b.peer });
      this.#behind.delete(origin);
      this.#held.delete(origin);
    }
    return out;
  }

  forget(origin: string): void {
    this.#held.delete(origin);
    this.#behind.delete(origin);
  }
}
