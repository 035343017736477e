// The scenario language (spec/conformance/scenarios/*.json): a scenario is a name, what it
// proves, and a list of steps. Steps are driver commands (forwarded with runner-resolved
// fields: relays → URLs, grants → minted tokens, payload specs → base64) or runner actions
// (expectations, relay restarts and graceful shutdowns, token revocation, pauses).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPayloadSpec } from './values.js';

export const DRIVER_OPS = ['connect', 'subscribe', 'unsubscribe', 'resume', 'publish', 'flush', 'stats', 'ping', 'close'] as const;
export const RUNNER_OPS = [
  'publishMany', // {client, tenant, channel, count, payload (text with {i} | size), intervalMs?, delivery?, background?}
  'awaitBackground', // waits for every background step of the scenario
  'awaitRoute', // {client, tenant, channel, to: {client, sub}, withinMs?}: probe publishes until one arrives (mesh interest propagated)
  'expectMessages', // {client, sub | across: [{client, sub}], messages | series, ordered?, withinMs?}
  'expectMessageCount', // {client, sub, min, max, withinMs?, settleMs?}: between min and max messages of any content
  'expectNoMessage', // {client, sub | across, forMs}
  'expectEvent', // {client, event, match?, count?, since?: "start" | "action", withinMs?}
  'expectNoEvent', // {client, event, match?, forMs}
  'restartRelay', // {relay}: SIGKILL and start again on the same ports and data dir (a crash)
  'shutdownRelay', // {relay}: SIGTERM (RECONNECT, grace period); started again once it exited
  'stopRelay', // {relay}: SIGKILL, and it stays down until startRelay (or the scenario ends)
  'startRelay', // {relay}: start a stopped relay again on the same ports and data dir
  'revokeToken', // {token}: a token minted earlier with a "name"
  'sleep', // {ms} (≤ 5000)
] as const;

export type Step = { do: string; [k: string]: unknown };

export interface Scenario {
  name: string;
  description: string;
  /** Bound on the whole scenario (default 30 000 ms). */
  timeoutMs?: number;
  steps: Step[];
  file: string;
}

/** A relay by name (`standalone`, `pop0`…), the relay a client is connected to, or the other one of a list. */
export type RelayRef = string | { edgeOf: string } | { otherThan: string; among: string[] };

const MAX_SLEEP_MS = 5000;

function fail(where: string, msg: string): never {
  throw new Error(`${where}: ${msg}`);
}

function checkRelayRef(v: unknown, where: string): void {
  if (typeof v === 'string') return;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o['edgeOf'] === 'string') return;
    if (typeof o['otherThan'] === 'string' && Array.isArray(o['among'])) return;
  }
  fail(where, `relay must be a name, {"edgeOf": client} or {"otherThan": client, "among": [names]}: ${JSON.stringify(v)}`);
}

function checkStep(step: unknown, where: string): Step {
  if (typeof step !== 'object' || step === null || typeof (step as Step).do !== 'string') fail(where, 'a step is an object with "do"');
  const s = step as Step;
  const known = (DRIVER_OPS as readonly string[]).includes(s.do) || (RUNNER_OPS as readonly string[]).includes(s.do);
  if (!known) fail(where, `unknown step "${s.do}" (driver ops: ${DRIVER_OPS.join(', ')}; runner: ${RUNNER_OPS.join(', ')})`);
  if ('relay' in s) checkRelayRef(s['relay'], where);
  if ('payload' in s && !isPayloadSpec(s['payload'])) fail(where, `payload must be {"text"}, {"size"} or {"base64"}: ${JSON.stringify(s['payload'])}`);
  const need = (...keys: string[]): void => {
    for (const k of keys) if (!(k in s)) fail(where, `"${s.do}" needs "${k}"`);
  };
  switch (s.do) {
    case 'connect':
      if (!('relay' in s) && !('edges' in s)) fail(where, 'connect needs "relay" or "edges"');
      if (!('token' in s) && !('tokenProvider' in s)) fail(where, 'connect needs "token" or "tokenProvider"');
      break;
    case 'subscribe':
      need('sub', 'tenant', 'pattern');
      break;
    case 'unsubscribe':
    case 'resume':
      need('sub');
      break;
    case 'publish':
      need('tenant', 'channel', 'payload');
      break;
    case 'publishMany':
      need('tenant', 'channel', 'count', 'payload');
      break;
    case 'awaitRoute':
      need('tenant', 'channel', 'to');
      break;
    case 'expectMessages':
      if (!('sub' in s) && !('across' in s)) fail(where, 'expectMessages needs "sub" or "across"');
      if (!('messages' in s) && !('series' in s)) fail(where, 'expectMessages needs "messages" or "series"');
      if ('series' in s && !isPayloadSpec((s['series'] as Record<string, unknown>)['payload'])) fail(where, 'series needs a payload spec');
      for (const m of (s['messages'] as unknown[] | undefined) ?? []) {
        if (!isPayloadSpec((m as Record<string, unknown>)['payload'])) fail(where, `message needs a payload spec: ${JSON.stringify(m)}`);
      }
      break;
    case 'expectNoMessage':
      need('forMs');
      if (!('sub' in s) && !('across' in s)) fail(where, 'expectNoMessage needs "sub" or "across"');
      break;
    case 'expectEvent':
      need('event');
      break;
    case 'expectNoEvent':
      need('event', 'forMs');
      break;
    case 'expectMessageCount':
      need('sub', 'min', 'max');
      break;
    case 'restartRelay':
    case 'shutdownRelay':
    case 'stopRelay':
    case 'startRelay':
      need('relay');
      break;
    case 'revokeToken':
      need('token');
      break;
    case 'sleep':
      need('ms');
      if (typeof s['ms'] !== 'number' || s['ms'] < 0 || s['ms'] > MAX_SLEEP_MS) fail(where, `sleep.ms must be 0…${MAX_SLEEP_MS}`);
      break;
  }
  return s;
}

export function parseScenario(value: unknown, file: string): Scenario {
  if (typeof value !== 'object' || value === null) fail(file, 'a scenario is a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v['name'] !== 'string' || !/^[a-z0-9-]+$/.test(v['name'])) fail(file, '"name" must be kebab-case');
  if (typeof v['description'] !== 'string' || v['description'] === '') fail(file, '"description" is required');
  if (!Array.isArray(v['steps']) || v['steps'].length === 0) fail(file, '"steps" must be a non-empty array');
  if (v['timeoutMs'] !== undefined && (typeof v['timeoutMs'] !== 'number' || v['timeoutMs'] <= 0 || v['timeoutMs'] > 120_000)) {
    fail(file, '"timeoutMs" must be 1…120000');
  }
  const steps = (v['steps'] as unknown[]).map((s, i) => checkStep(s, `${file} step ${i + 1}`));
  return {
    name: v['name'],
    description: v['description'],
    ...(v['timeoutMs'] === undefined ? {} : { timeoutMs: v['timeoutMs'] }),
    steps,
    file,
  };
}

/** Every scenario in `dir`, sorted by file name; throws on the first invalid one. */
export function loadScenarios(dir: string): Scenario[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const scenarios = files.map((f) => parseScenario(JSON.parse(readFileSync(join(dir, f), 'utf8')), f));
  const names = new Set<string>();
  for (const s of scenarios) {
    if (names.has(s.name)) throw new Error(`${s.file}: duplicate scenario name ${s.name}`);
    names.add(s.name);
  }
  return scenarios;
}
