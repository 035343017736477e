// Counters and gauges of the MQTT listener, registered in the relay's own registry. Label
// values come from closed sets (the reasons below), so the series stay bounded.
import { Counter, Gauge, type Registry } from 'prom-client';

export type MqttErrorReason =
  | 'malformed_packet'
  | 'protocol_error'
  | 'packet_too_large'
  | 'bad_credentials'
  | 'not_authorized'
  | 'invalid_topic'
  | 'payload_too_large'
  | 'subscribe_rate'
  | 'too_many_subscriptions'
  | 'rate_limited'
  | 'connect_timeout'
  | 'keepalive_timeout'
  | 'too_many_connections'
  | 'unsupported_protocol';

export type MqttDropReason = 'queue_full' | 'slow_consumer' | 'retained_full' | 'offline_clean';

export interface MqttGaugeSources {
  connections: () => number;
  offlineSessions: () => number;
  retained: () => number;
  retainedBytes: () => number;
}

export class MqttMetrics {
  readonly #errors: Counter<'reason'>;
  readonly #dropped: Counter<'reason'>;
  readonly messagesIn: Counter;
  readonly messagesOut: Counter;
  readonly willsPublished: Counter;

  constructor(registry: Registry, sources: MqttGaugeSources) {
    const registers = [registry];
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    gauge('fastpubsub_mqtt_connections', 'Open MQTT connections.', sources.connections);
    gauge('fastpubsub_mqtt_offline_sessions', 'Persistent MQTT sessions kept while their client is away.', sources.offlineSessions);
    gauge('fastpubsub_mqtt_retained_messages', 'Retained MQTT messages held.', sources.retained);
    gauge('fastpubsub_mqtt_retained_bytes', 'Payload bytes of the retained MQTT messages held.', sources.retainedBytes);
    this.#errors = new Counter({ name: 'fastpubsub_mqtt_errors_total', help: 'MQTT packets refused or connections ended for a protocol or policy reason.', labelNames: ['reason'], registers });
    this.#dropped = new Counter({ name: 'fastpubsub_mqtt_dropped_total', help: 'Deliveries to MQTT sessions not made, by reason.', labelNames: ['reason'], registers });
    this.messagesIn = new Counter({ name: 'fastpubsub_mqtt_messages_in_total', help: 'PUBLISH packets accepted from MQTT clients.', registers });
    this.messagesOut = new Counter({ name: 'fastpubsub_mqtt_messages_out_total', help: 'PUBLISH packets written to MQTT clients.', registers });
    this.willsPublished = new Counter({ name: 'fastpubsub_mqtt_wills_published_total', help: 'Last-will messages published.', registers });
  }

  error(reason: MqttErrorReason): void {
    this.#errors.inc({ reason });
  }

  dropped(reason: MqttDropReason, n = 1): void {
    this.#dropped.inc({ reason }, n);
  }
}
