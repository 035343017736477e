// Config of an edge agent (docs/agent.md): a relay whose mesh is one outbound tunnel to the
// nearest PoP it may use. Kept apart from config.ts; config.ts embeds the schema part.

export interface AgentConfig {
  /** How often every PoP in `mesh.seeds` is probed (a QUIC handshake) to find the nearest. */
  probeIntervalMs: number;
  /** A probe that gets no answer within this counts as a dead PoP. */
  probeTimeoutMs: number;
  /** Move to another PoP only when its RTT is lower by this much and by switchMarginRatio. */
  switchMarginMs: number;
  switchMarginRatio: number;
  /** Publishes bound for the fabric kept while the tunnel is down; above: drop-oldest, counted. */
  queueMessages: number;
  queueBytes: number;
}

export const AGENT_DEFAULTS: Readonly<AgentConfig> = Object.freeze({
  probeIntervalMs: 5000,
  probeTimeoutMs: 1000,
  switchMarginMs: 5,
  switchMarginRatio: 0.2,
  queueMessages: 10_000,
  queueBytes: 16 * 1024 * 1024,
});

export const agentConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    probeIntervalMs: { type: 'integer', minimum: 100 },
    probeTimeoutMs: { type: 'integer', minimum: 50 },
    switchMarginMs: { type: 'number', minimum: 0 },
    switchMarginRatio: { type: 'number', minimum: 0 },
    queueMessages: { type: 'integer', minimum: 1 },
    queueBytes: { type: 'integer', minimum: 1024 },
  },
} as const;
