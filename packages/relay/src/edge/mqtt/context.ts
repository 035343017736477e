// What one MQTT connection needs from its listener: the shared parts of the relay (dispatcher,
// verifier, limits, metrics) and the listener's session table, shared groups and retained
// store. The listener (edge.ts) implements it; connection.ts depends only on this shape.
import type { Logger, MqttEdgeConfig, RelayConfig } from '@fastpubsub/core';
import type { Dispatcher } from '../../delivery/index.js';
import type { Admission } from '../../limits/index.js';
import type { TicketVerifier } from '../../auth/edge-ticket.js';
import type { MqttMetrics } from './metrics.js';
import type { RetainedStore } from './retained.js';
import type { MqttSession, Qos } from './session.js';

export interface MqttContext {
  readonly config: MqttEdgeConfig;
  readonly limits: RelayConfig['limits'];
  readonly region: string;
  readonly dispatcher: Dispatcher;
  readonly verifier: TicketVerifier;
  readonly admission: Admission | undefined;
  readonly metrics: MqttMetrics;
  readonly retained: RetainedStore;
  readonly logger: Logger;
  readonly now: () => number;
  /**
   * The session for (tenant, clientId): a fresh one when `cleanStart` or none exists, else the
   * kept one (`present` true). A connection holding it is told to go (session take-over).
   */
  openSession(tenant: string, clientId: string, cleanStart: boolean, persistent: boolean, owner: { takenOver(): void }): { session: MqttSession; present: boolean };
  /** The connection of a session ended: discard it (clean) or keep it offline until expiry. */
  closeSession(session: MqttSession, owner: object, expiryMs: number): void;
  subscribe(session: MqttSession, filter: string, pattern: string, qos: Qos, shareGroup: string | undefined): void;
  unsubscribe(session: MqttSession, filter: string): boolean;
}
