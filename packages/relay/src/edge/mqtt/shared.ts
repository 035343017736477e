// A shared subscription group (`$share/{group}/{filter}`, MQTT 5 §4.8.2): one dispatcher sink
// per (tenant, group, pattern) on this PoP, so a message matching it reaches one member of the
// group, taken in turn among the members that are connected (any member when none is).
import type { DispatchMessage, Encodings, Sink } from '../../delivery/index.js';
import type { MqttSession, Qos } from './session.js';
import { channelToTopic } from './topics.js';

export class SharedGroup implements Sink {
  readonly edge = 'ws' as const; // unused: deliver() returns 0 and the members count
  readonly key: string;
  readonly tenant: string;
  readonly pattern: string;
  readonly members = new Map<MqttSession, Qos>();
  #turn = 0;

  constructor(key: string, tenant: string, pattern: string) {
    this.key = key;
    this.tenant = tenant;
    this.pattern = pattern;
  }

  get connection(): object {
    return this;
  }

  deliver(msg: DispatchMessage, _patterns: readonly string[], _encodings: Encodings): number {
    const all = [...this.members.keys()];
    const online = all.filter((m) => m.online);
    const pool = online.length > 0 ? online : all;
    if (pool.length === 0) return 0;
    const member = pool[this.#turn++ % pool.length];
    if (member === undefined) return 0;
    member.send({ topic: channelToTopic(msg.channel), payload: Buffer.from(msg.payload), qos: this.members.get(member) ?? 0, retain: false });
    return 0;
  }
}
