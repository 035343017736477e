// MQTT topic names and filters ↔ FastPubSub channels and patterns (docs/mqtt.md "Topics"):
// levels `a/b/c` ↔ tokens `a.b.c`, `+` ↔ `*`, `#` ↔ `#`. A level a channel token cannot hold
// (a `.`, an empty level, a character outside A-Za-z0-9_-~@) is refused with its reason, never
// rewritten, so a topic always names exactly one channel and back.
import { isValidChannel, isValidPattern } from '@fastpubsub/wire';

export type TopicResult = { ok: true; value: string } | { ok: false; reason: string };

const TOKEN = /^[A-Za-z0-9_~@-]+$/;

function levelProblem(level: string, index: number): string | undefined {
  if (level === '') return `level ${index + 1} is empty`;
  if (level.includes('.')) return `level ${index + 1} ("${level}") contains '.', which separates channel tokens`;
  if (!TOKEN.test(level)) return `level ${index + 1} ("${level}") has a character outside A-Za-z0-9_-~@`;
  return undefined;
}

/** A PUBLISH topic name → the channel it publishes to. */
export function topicToChannel(topic: string): TopicResult {
  if (topic.startsWith('$')) return { ok: false, reason: 'topics starting with $ are reserved' };
  const levels = topic.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] ?? '';
    if (level.includes('+') || level.includes('#')) return { ok: false, reason: 'a topic name may not contain + or #' };
    const problem = levelProblem(level, i);
    if (problem !== undefined) return { ok: false, reason: problem };
  }
  const channel = levels.join('.');
  if (!isValidChannel(channel)) return { ok: false, reason: 'the channel would exceed 256 bytes' };
  return { ok: true, value: channel };
}

/** A SUBSCRIBE topic filter (without `$share/…`) → the channel pattern it subscribes to. */
export function filterToPattern(filter: string): TopicResult {
  if (filter.startsWith('$')) return { ok: false, reason: 'topic filters starting with $ are reserved' };
  const levels = filter.split('/');
  const tokens: string[] = [];
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] ?? '';
    if (level === '+') tokens.push('*');
    else if (level === '#') {
      if (i !== levels.length - 1) return { ok: false, reason: '# must be the last level' };
      tokens.push('#');
    } else if (level.includes('+') || level.includes('#')) {
      return { ok: false, reason: `level ${i + 1} ("${level}") mixes a wildcard with other characters` };
    } else {
      const problem = levelProblem(level, i);
      if (problem !== undefined) return { ok: false, reason: problem };
      tokens.push(level);
    }
  }
  const pattern = tokens.join('.');
  if (!isValidPattern(pattern)) return { ok: false, reason: 'the pattern would exceed 256 bytes' };
  return { ok: true, value: pattern };
}

/** A channel → the MQTT topic name its deliveries carry. */
export function channelToTopic(channel: string): string {
  return channel.split('.').join('/');
}

export interface SharedFilter {
  group: string;
  filter: string;
}

/** `$share/{group}/{filter}` (MQTT 5 §4.8.2; also accepted from 3.1.1 clients) or undefined. */
export function parseShared(filter: string): SharedFilter | { error: string } | undefined {
  if (!filter.startsWith('$share/')) return undefined;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return { error: '$share needs a group name and a filter' };
  const group = rest.slice(0, slash);
  if (group.includes('+') || group.includes('#')) return { error: 'a share group name may not contain + or #' };
  return { group, filter: rest.slice(slash + 1) };
}
