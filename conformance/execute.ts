// Runs one scenario on one driver: resolves each step's runner-side fields, sends driver
// commands, checks replies, messages and events. Every wait is bounded; the whole scenario too.
import type { DriverEvent, DriverProcess } from './driver-process.js';
import type { Environment, TokenGrant } from './environment.js';
import type { RelayProcess } from './relay-process.js';
import type { RelayRef, Scenario, Step } from './scenario.js';
import { checkReply, expectedMessages, messageMismatch, type Received } from './checks.js';
import { describeBytes, mismatch, payloadBytes, type PayloadSpec } from './values.js';

const REPLY_TIMEOUT_MS = 15_000;
const DEFAULT_WITHIN_MS = 5000;
const DEFAULT_SCENARIO_TIMEOUT_MS = 30_000;
const UNREACHABLE = 'unreachable';

export interface Variant {
  transport: 'websocket' | 'quic';
}

export class ScenarioRun {
  private readonly prefix: string;
  private readonly queues = new Map<string, Received[]>();
  private readonly seenEvents: number;
  private actionMark: number;
  private readonly clientEdges = new Map<string, string>();
  private readonly tokens = new Map<string, { relay: RelayProcess; tenant: string; token: string }>();
  private readonly background: Promise<void>[] = [];
  private readonly restarts: Promise<void>[] = [];
  private readonly connected = new Set<string>();
  private readonly stopped = new Set<RelayProcess>();
  private consumedEvents = 0;
  private abandoned = false;
  private stepIndex = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly driver: DriverProcess,
    private readonly env: Environment,
    private readonly variant: Variant,
    runIndex: number,
  ) {
    this.prefix = `s${runIndex}`;
    this.seenEvents = driver.events.length;
    this.actionMark = this.seenEvents;
    this.consumedEvents = this.seenEvents;
  }

  /** Runs every step; rejects with a message naming the failed step. Always cleans up. */
  async run(): Promise<void> {
    const timeoutMs = this.scenario.timeoutMs ?? DEFAULT_SCENARIO_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.abandoned = true; // the step loop stops before its next step
        reject(new Error(`scenario timed out after ${timeoutMs} ms (at step ${this.stepIndex + 1})`));
      }, timeoutMs);
    });
    let failure: unknown;
    try {
      await Promise.race([this.steps(), timeout]);
      if (this.driver.violations.length > 0) throw new Error(`driver broke the protocol: ${this.driver.violations.join('; ')}`);
    } catch (err) {
      failure = err;
    } finally {
      clearTimeout(timer);
    }
    const cleanupError = await this.cleanup();
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(show(failure));
    if (cleanupError !== undefined) throw cleanupError;
  }

  private async steps(): Promise<void> {
    for (this.stepIndex = 0; this.stepIndex < this.scenario.steps.length && !this.abandoned; this.stepIndex++) {
      const step = this.scenario.steps[this.stepIndex]!;
      try {
        await this.step(step);
      } catch (err) {
        throw new Error(`step ${this.stepIndex + 1} (${step.do}${step['client'] === undefined ? '' : ` ${show(step['client'])}`}): ${(err as Error).message}`);
      }
    }
    await Promise.all(this.background);
  }

  /** Closes the scenario's clients and brings stopped relays back; returns what went wrong with the relays. */
  private async cleanup(): Promise<Error | undefined> {
    await Promise.allSettled(this.background);
    if (this.driver.alive) {
      await Promise.allSettled([...this.connected].map((c) => this.driver.request({ op: 'close', client: c }, 5000)));
    }
    const relays = await Promise.allSettled([...this.restarts, ...[...this.stopped].map((r) => r.start())]);
    const failed = relays.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    return failed === undefined ? undefined : new Error(`a relay did not come back: ${String((failed.reason as Error).message)}`);
  }

  // ---- names ----------------------------------------------------------------------------

  private client(step: Record<string, unknown>): string {
    return `${this.prefix}.${typeof step['client'] === 'string' ? step['client'] : 'default'}`;
  }

  private subKey(client: string, sub: string): string {
    return `${client}\u0000${this.prefix}.${sub}`;
  }

  private queue(key: string): Received[] {
    let q = this.queues.get(key);
    if (q === undefined) this.queues.set(key, (q = []));
    return q;
  }

  /** Moves new `message` events into their subscription queues. */
  private pump(): void {
    const events = this.driver.events;
    for (; this.consumedEvents < events.length; this.consumedEvents++) {
      const e = events[this.consumedEvents]!;
      if (e.event !== 'message' || typeof e.client !== 'string' || typeof e['sub'] !== 'string') continue;
      const key = `${e.client}\u0000${e['sub']}`;
      this.queue(key).push({
        channel: String(e['channel']),
        payload: Buffer.from(show(e['payload'] ?? ''), 'base64'),
        patterns: Array.isArray(e['patterns']) ? (e['patterns'] as unknown[]).map(String) : [],
      });
    }
  }

  // ---- relays and tokens -----------------------------------------------------------------

  private async relay(ref: RelayRef): Promise<RelayProcess> {
    if (typeof ref === 'string') return this.env.relay(ref);
    if ('edgeOf' in ref) {
      const edge = this.clientEdges.get(`${this.prefix}.${ref.edgeOf}`);
      if (edge === undefined) throw new Error(`client ${ref.edgeOf} is not connected`);
      const r = await this.env.relayByUrl(edge);
      if (r === undefined) throw new Error(`client ${ref.edgeOf} reported edge ${edge}, which is no relay of this run`);
      return r;
    }
    const theirs = await this.relay({ edgeOf: ref.otherThan });
    const other = ref.among.find((n) => n !== theirs.id);
    if (other === undefined) throw new Error(`no relay among ${ref.among.join(', ')} other than ${theirs.id}`);
    return this.env.relay(other);
  }

  private transportFields(relay: RelayProcess | undefined): Record<string, unknown> {
    if (this.variant.transport !== 'quic') return {};
    const quic: Record<string, unknown> = { caFile: this.env.caFile, serverName: this.env.serverName };
    if (relay !== undefined) quic['address'] = relay.quicAddress;
    return { transport: 'quic', quic };
  }

  // ---- steps ------------------------------------------------------------------------------

  private async step(step: Step): Promise<void> {
    const isExpectation = step.do.startsWith('expect');
    if (!isExpectation) this.actionMark = this.driver.events.length;
    switch (step.do) {
      case 'publishMany': {
        const work = this.publishMany(step);
        // Marked handled now (a rejection surfaces where it is awaited), so a failure before that
        // point cannot become an unhandled rejection.
        work.catch(() => {});
        if (step['background'] === true) this.background.push(work);
        else await work;
        return;
      }
      case 'awaitBackground':
        await Promise.all(this.background.splice(0));
        return;
      case 'awaitRoute':
        return this.awaitRoute(step);
      case 'expectMessages':
        return this.expectMessages(step);
      case 'expectNoMessage':
        return this.expectNoMessage(step);
      case 'expectMessageCount':
        return this.expectMessageCount(step);
      case 'expectEvent':
        return this.expectEvent(step);
      case 'expectNoEvent':
        return this.expectNoEvent(step);
      case 'restartRelay': {
        const r = await this.relay(step['relay'] as RelayRef);
        await r.kill();
        await r.start();
        return;
      }
      case 'shutdownRelay': {
        const r = await this.relay(step['relay'] as RelayRef);
        const restart = r.shutdown().then(() => r.start());
        restart.catch(() => {});
        this.restarts.push(restart);
        return;
      }
      case 'stopRelay': {
        const r = await this.relay(step['relay'] as RelayRef);
        await r.kill();
        this.stopped.add(r);
        return;
      }
      case 'startRelay': {
        const r = await this.relay(step['relay'] as RelayRef);
        await r.start();
        this.stopped.delete(r);
        return;
      }
      case 'revokeToken': {
        const t = this.tokens.get(String(step['token']));
        if (t === undefined) throw new Error(`no token named ${String(step['token'])} was minted`);
        await this.env.revoke(t.relay, t.tenant, t.token);
        return;
      }
      case 'sleep':
        await new Promise((r) => setTimeout(r, step['ms'] as number));
        return;
      default:
        return this.driverCommand(step);
    }
  }

  private async driverCommand(step: Step): Promise<void> {
    const { do: op, expect, client: _client, relay: relayRef, edges, token, tokenProvider, payload, sub, ...rest } = step;
    const client = this.client(step);
    const cmd: Record<string, unknown> = { op, client, ...rest };
    if (sub !== undefined) cmd['sub'] = `${this.prefix}.${show(sub)}`;
    if (payload !== undefined) cmd['payload'] = payloadBytes(payload as PayloadSpec).toString('base64');
    if (op === 'connect') {
      const relay = relayRef === undefined ? undefined : await this.relay(relayRef as RelayRef);
      // "unreachable" in an edge list: an address where nothing listens (fastest-edge selection must skip it).
      const edgeList = Array.isArray(edges)
        ? await Promise.all(edges.map(async (e) => (e === UNREACHABLE ? { url: await this.env.unreachableUrl() } : { url: '', relay: await this.relay(e as RelayRef) })))
        : undefined;
      const home = relay ?? edgeList?.find((e) => e.relay !== undefined)?.relay;
      if (home === undefined) throw new Error('connect needs at least one real relay');
      if (relay !== undefined) cmd['endpoint'] = relay.httpUrl;
      if (edgeList !== undefined) cmd['edges'] = edgeList.map((e) => e.relay?.httpUrl ?? e.url);
      Object.assign(cmd, this.transportFields(relay));
      if (token !== undefined) {
        const grant = token as TokenGrant & { name?: string };
        cmd['token'] = await this.env.mintToken(home, grant);
        if (grant.name !== undefined) this.tokens.set(grant.name, { relay: home, tenant: grant.tenant, token: cmd['token'] as string });
      }
      if (tokenProvider !== undefined) cmd['tokenProvider'] = await this.env.providerSpec(home, tokenProvider as TokenGrant);
    }
    const reply = await this.driver.request(cmd, REPLY_TIMEOUT_MS);
    checkReply(reply, expect);
    if (op === 'connect' && reply.ok) {
      this.connected.add(client);
      if (typeof reply['edge'] === 'string') this.clientEdges.set(client, reply['edge']);
    }
    if (op === 'close' && reply.ok) this.connected.delete(client);
  }

  private async publishMany(step: Step): Promise<void> {
    const count = step['count'] as number;
    const intervalMs = typeof step['intervalMs'] === 'number' ? step['intervalMs'] : 0;
    const spec = step['payload'] as PayloadSpec;
    for (let i = 0; i < count; i++) {
      const cmd: Record<string, unknown> = {
        op: 'publish',
        client: this.client(step),
        tenant: step['tenant'],
        channel: step['channel'],
        payload: payloadBytes(spec, i).toString('base64'),
      };
      if (step['delivery'] !== undefined) cmd['delivery'] = step['delivery'];
      checkReply(await this.driver.request(cmd, REPLY_TIMEOUT_MS), undefined);
      if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  private async awaitRoute(step: Step): Promise<void> {
    const to = step['to'] as { client?: string; sub: string };
    const key = this.subKey(this.client(to), to.sub);
    const withinMs = typeof step['withinMs'] === 'number' ? step['withinMs'] : 10_000;
    const end = Date.now() + withinMs;
    for (let n = 0; Date.now() < end; n++) {
      const reply = await this.driver.request(
        { op: 'publish', client: this.client(step), tenant: step['tenant'], channel: step['channel'], payload: Buffer.from(`route-probe-${n}`).toString('base64') },
        REPLY_TIMEOUT_MS,
      );
      checkReply(reply, undefined);
      await new Promise((r) => setTimeout(r, 100));
      this.pump();
      if (this.queue(key).length > 0) {
        await new Promise((r) => setTimeout(r, 300)); // late probes
        this.pump();
        this.queue(key).length = 0;
        return;
      }
    }
    throw new Error(`no probe on ${String(step['channel'])} reached ${to.sub} within ${withinMs} ms`);
  }

  private subKeys(step: Step): string[] {
    if (Array.isArray(step['across'])) {
      return (step['across'] as Array<{ client?: string; sub: string }>).map((a) => this.subKey(this.client(a as Record<string, unknown>), a.sub));
    }
    return [this.subKey(this.client(step), String(step['sub']))];
  }

  private async expectMessages(step: Step): Promise<void> {
    const want = expectedMessages(step);
    const keys = this.subKeys(step);
    const withinMs = typeof step['withinMs'] === 'number' ? step['withinMs'] : DEFAULT_WITHIN_MS;
    const ordered = keys.length === 1 && step['ordered'] !== false;
    const have = (): number => keys.reduce((n, k) => n + this.queue(k).length, 0);
    try {
      await this.driver.waitFor(() => {
        this.pump();
        if (ordered) {
          // Fail fast on the first wrong message (a duplicate or a gap shows up here).
          const q = this.queue(keys[0]!);
          for (let i = 0; i < Math.min(q.length, want.length); i++) {
            const why = messageMismatch(want[i]!, q[i]!);
            if (why !== undefined) throw new Error(`message ${i + 1} of ${want.length}: ${why}`);
          }
        }
        return have() >= want.length ? true : undefined;
      }, withinMs, `${want.length} message(s)`);
    } catch (err) {
      throw new Error(`${(err as Error).message} (got ${have()}: ${keys.flatMap((k) => this.queue(k)).slice(0, 5).map((m) => `${m.channel} ${describeBytes(m.payload)}`).join(', ')}${have() > 5 ? ', …' : ''})`);
    }
    if (ordered) {
      this.queue(keys[0]!).splice(0, want.length);
      return;
    }
    // Unordered across subscriptions: each expected message exactly once in total.
    const all = keys.flatMap((k) => this.queue(k).splice(0));
    if (all.length !== want.length) throw new Error(`expected ${want.length} message(s) in total across ${keys.length} subscription(s), got ${all.length}`);
    const remaining = [...all];
    for (const w of want) {
      const i = remaining.findIndex((r) => messageMismatch(w, r) === undefined);
      if (i < 0) throw new Error(`missing ${w.channel} ${describeBytes(w.payload)} (or it came twice in its place)`);
      remaining.splice(i, 1);
    }
  }

  private async expectMessageCount(step: Step): Promise<void> {
    const key = this.subKeys(step)[0]!;
    const min = step['min'] as number;
    const max = step['max'] as number;
    const withinMs = typeof step['withinMs'] === 'number' ? step['withinMs'] : DEFAULT_WITHIN_MS;
    try {
      await this.driver.waitFor(() => {
        this.pump();
        return this.queue(key).length >= min ? true : undefined;
      }, withinMs, `at least ${min} message(s)`);
    } catch (err) {
      throw new Error(`${(err as Error).message} (got ${this.queue(key).length})`);
    }
    await new Promise((r) => setTimeout(r, typeof step['settleMs'] === 'number' ? step['settleMs'] : 300));
    this.pump();
    const got = this.queue(key).splice(0);
    if (got.length > max) throw new Error(`${got.length} messages, expected at most ${max}`);
  }

  private async expectNoMessage(step: Step): Promise<void> {
    const keys = this.subKeys(step);
    const forMs = step['forMs'] as number;
    this.pump();
    const check = (): void => {
      this.pump();
      for (const k of keys) {
        const m = this.queue(k)[0];
        if (m !== undefined) throw new Error(`unexpected message ${m.channel} ${describeBytes(m.payload)}`);
      }
    };
    check();
    await new Promise((r) => setTimeout(r, forMs));
    check();
  }

  private matchingEvents(step: Step, from: number): DriverEvent[] {
    const client = this.client(step);
    const match = step['match'] as Record<string, unknown> | undefined;
    return this.driver.events.slice(from).filter((e) => e.event === step['event'] && e.client === client && (match === undefined || mismatch(match, e, 'event') === undefined));
  }

  private async expectEvent(step: Step): Promise<void> {
    const from = step['since'] === 'start' ? this.seenEvents : this.actionMark;
    // count: N (at least N) or {"min", "max"} (at least min, and no more than max when min arrived)
    const c = step['count'];
    const count = typeof c === 'number' ? c : typeof c === 'object' && c !== null ? Number((c as { min?: number }).min ?? 1) : 1;
    const max = typeof c === 'object' && c !== null ? (c as { max?: number }).max : undefined;
    const withinMs = typeof step['withinMs'] === 'number' ? step['withinMs'] : DEFAULT_WITHIN_MS;
    try {
      await this.driver.waitFor(() => (this.matchingEvents(step, from).length >= count ? true : undefined), withinMs, `${count} ${String(step['event'])} event(s)${step['match'] === undefined ? '' : ` matching ${JSON.stringify(step['match'])}`}`);
      const n = this.matchingEvents(step, from).length;
      if (max !== undefined && n > max) throw new Error(`${n} ${String(step['event'])} events, expected at most ${max}`);
    } catch (err) {
      const client = this.client(step);
      const seen = this.driver.events.slice(from).filter((e) => e.client === client && e.event !== 'message').slice(-6);
      throw new Error(`${(err as Error).message}; events of ${client}: ${seen.map((e) => JSON.stringify(e)).join(' ') || 'none'}`);
    }
  }

  private async expectNoEvent(step: Step): Promise<void> {
    const from = this.driver.events.length;
    await new Promise((r) => setTimeout(r, step['forMs'] as number));
    const got = this.matchingEvents(step, from);
    if (got.length > 0) throw new Error(`unexpected ${String(step['event'])} event(s): ${got.slice(0, 3).map((e) => JSON.stringify(e)).join(' ')}`);
  }
}

/** A scenario value as text: strings as they are, anything else as JSON. */
function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
