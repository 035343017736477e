// Presence timings and limits of a relay (docs/presence.md): `presence` in the relay config.
// Kept apart from config.ts so that file stays about the config as a whole; the keys are
// validated by the same strict schema, plus the cross-key rules in resolvePresence.
import { ErrorCode, FpsError } from './errors.js';

export interface PresenceConfig {
  /** Local joins and leaves are coalesced and sent to the mesh as one delta batch this often. */
  batchIntervalMs: number;
  /** Presence heartbeat period (one heartbeat every heartbeatMs / 2). */
  heartbeatMs: number;
  /**
   * A PoP not heard from for deadAfterHeartbeats × heartbeatMs is forgotten with its members.
   * The default 1.75 keeps "gone within 2 × heartbeat" with room for one late heartbeat.
   */
  deadAfterHeartbeats: number;
  /** Above this many members a channel's watchers get one batched event per batch interval. */
  eventThreshold: number;
  /** Largest member data: bytes of its JSON text. */
  maxMemberDataBytes: number;
}

export const PRESENCE_DEFAULTS: Readonly<PresenceConfig> = Object.freeze({
  batchIntervalMs: 50,
  heartbeatMs: 1000,
  deadAfterHeartbeats: 1.75,
  eventThreshold: 1000,
  maxMemberDataBytes: 1024,
});

/**
 * Member data is bounded so that a delta batch (up to 2,000 changes) stays inside the mesh's
 * 1 MiB frame: 4 KiB is the most the gossip's frame sizing allows (see presence/service.ts).
 */
export const MAX_PRESENCE_MEMBER_DATA_BYTES = 4096;

export const presenceConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    batchIntervalMs: { type: 'integer', minimum: 5, maximum: 1000 },
    heartbeatMs: { type: 'integer', minimum: 100, maximum: 60_000 },
    deadAfterHeartbeats: { type: 'number', minimum: 1.1, maximum: 10 },
    eventThreshold: { type: 'integer', minimum: 1, maximum: 10_000_000 },
    maxMemberDataBytes: { type: 'integer', minimum: 0, maximum: MAX_PRESENCE_MEMBER_DATA_BYTES },
  },
} as const;

/** Fills in the defaults and checks the rules that span keys. */
export function resolvePresence(given: Partial<PresenceConfig> | undefined): PresenceConfig {
  const p: PresenceConfig = { ...PRESENCE_DEFAULTS, ...given };
  // A batch must leave at least twice per heartbeat period, or joins would lag the liveness signal.
  if (p.batchIntervalMs * 2 > p.heartbeatMs) {
    throw new FpsError(
      ErrorCode.ConfigInvalid,
      `invalid relay config: presence.batchIntervalMs (${p.batchIntervalMs}) must be at most half of presence.heartbeatMs (${p.heartbeatMs})`,
      { detail: 'presence.batchIntervalMs: at most presence.heartbeatMs / 2' },
    );
  }
  return p;
}
