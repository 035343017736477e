// Pure checks of what a driver returned: replies against a step's `expect`, received messages
// against the expected ones.
import type { Reply } from './driver-process.js';
import type { Step } from './scenario.js';
import { describeBytes, mismatch, patternMatches, payloadBytes, type PayloadSpec } from './values.js';

/** A `message` event, decoded. */
export interface Received {
  channel: string;
  payload: Buffer;
  patterns: string[];
}

export interface ExpectedMessage {
  channel: string;
  payload: Buffer;
  /** Patterns the event must list (it may list more, each matching the channel). */
  patterns?: string[];
}

/** The messages an `expectMessages` step names: a `messages` list or a `series`. */
export function expectedMessages(step: Step): ExpectedMessage[] {
  if (Array.isArray(step['messages'])) {
    return (step['messages'] as Array<Record<string, unknown>>).map((m) => ({
      channel: String(m['channel']),
      payload: payloadBytes(m['payload'] as PayloadSpec),
      ...(Array.isArray(m['patterns']) ? { patterns: m['patterns'] as string[] } : {}),
    }));
  }
  const s = step['series'] as { channel: string; payload: PayloadSpec; count: number; patterns?: string[] };
  return Array.from({ length: s.count }, (_, i) => ({ channel: s.channel, payload: payloadBytes(s.payload, i), ...(s.patterns ? { patterns: s.patterns } : {}) }));
}

export function messageMismatch(want: ExpectedMessage, got: Received): string | undefined {
  if (got.channel !== want.channel) return `channel ${got.channel} ${describeBytes(got.payload)}, expected ${want.channel} ${describeBytes(want.payload)}`;
  if (!got.payload.equals(want.payload)) return `payload ${describeBytes(got.payload)} on ${got.channel}, expected ${describeBytes(want.payload)}`;
  for (const p of want.patterns ?? []) if (!got.patterns.includes(p)) return `patterns ${JSON.stringify(got.patterns)} lack ${p}`;
  for (const p of got.patterns) if (!patternMatches(p, got.channel)) return `reported pattern ${p} does not match ${got.channel}`;
  return undefined;
}

export function checkReply(reply: Reply, expect: unknown): void {
  const e = (expect ?? 'ok') as 'ok' | { error?: Record<string, unknown>; result?: Record<string, unknown> };
  if (e === 'ok' || (typeof e === 'object' && e.error === undefined)) {
    if (!reply.ok) throw new Error(`expected ok, got error ${JSON.stringify(reply.error)}`);
    if (typeof e === 'object' && e.result !== undefined) {
      const why = mismatch(e.result, reply, 'reply');
      if (why !== undefined) throw new Error(why);
    }
    return;
  }
  if (reply.ok) throw new Error(`expected error ${JSON.stringify(e.error)}, got ok ${JSON.stringify(reply)}`);
  const why = mismatch(e.error, reply.error, 'error');
  if (why !== undefined) throw new Error(`${why} (error ${JSON.stringify(reply.error)})`);
}
