// Test harness for the control plane: starts control services (embedded or etcd) and relays
// configured with them, in temp dirs; owns everything and cleans up. WebSocket clients and
// HTTP helpers come from the relay's conformance harness.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { startRelay } from '@fastpubsub/testkit/relay';
import { startControl, type Control, type ControlConfigInput } from '@fastpubsub/control';
import {
  MASTER_TOKEN,
  connectWs,
  http,
  tokenBody,
  within,
  type Client,
  type Relay,
  type RightSpec,
} from '@fastpubsub/testkit/relay';

export { MASTER_TOKEN };
export const POP_TOKEN = 'test-pop-token-abcdef-0123456789abcdef';

export class ControlEnv {
  readonly controls: Control[] = [];
  readonly relays: Relay[] = [];
  readonly clients: Client[] = [];
  readonly dirs: string[] = [];

  async dir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'fps-control-'));
    this.dirs.push(d);
    return d;
  }

  /** A control service; embedded in a temp dir unless `store` says otherwise. Operator token = MASTER_TOKEN. */
  async control(opts: Partial<ControlConfigInput> = {}): Promise<Control> {
    const c = await startControl({
      listen: { host: '127.0.0.1', port: 0 },
      operatorToken: MASTER_TOKEN,
      popToken: POP_TOKEN,
      store: { kind: 'embedded', dataDir: await this.dir() },
      logLevel: 'silent',
      popLeaseMs: 3000,
      ...opts,
    });
    this.controls.push(c);
    return c;
  }

  async relay(controlUrls: string[], opts: { region?: string; popId?: string; dataDir?: string; limits?: Record<string, unknown>; ipAttemptsPerSecond?: number } = {}): Promise<Relay> {
    const relay = await startRelay({
      listen: { host: '127.0.0.1', port: 0 },
      masterToken: MASTER_TOKEN,
      dataDir: opts.dataDir ?? (await this.dir()),
      logLevel: 'silent',
      region: opts.region ?? 'LOCAL',
      ...(opts.limits === undefined ? {} : { limits: opts.limits }),
      control: {
        urls: controlUrls,
        token: POP_TOKEN,
        heartbeatMs: 500,
        usageReportMs: 500,
        ...(opts.popId === undefined ? {} : { popId: opts.popId }),
        ...(opts.ipAttemptsPerSecond === undefined ? {} : { ipAttemptsPerSecond: opts.ipAttemptsPerSecond }),
      },
    });
    this.relays.push(relay);
    return relay;
  }

  async connect(relay: Relay, token: string): Promise<Client> {
    const c = await connectWs(relay.wsUrl, token);
    this.clients.push(c);
    return c;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
    await Promise.all(this.relays.splice(0).map((r) => within(r.close({ graceMs: 0 }), 5000, 'relay close').catch(() => undefined)));
    await Promise.all(this.controls.splice(0).map((c) => within(c.close(), 5000, 'control close').catch(() => undefined)));
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** POST /v1/get-token at `base` (a relay or a control service) with `bearer`; asserts 2xx. */
export async function getToken(base: string, right: RightSpec, bearer: string = MASTER_TOKEN): Promise<string> {
  const r = await http(base, 'POST', '/v1/get-token', { body: tokenBody(right), bearer });
  assert.equal(r.status, 200, `get-token: ${r.status} ${r.text}`);
  return (r.json as { token: string }).token;
}

export function grant(tenant: string, rules: string[] = ['#']): { tenant_ids: string[]; allow_channels_pub: string[]; allow_channels_sub: string[] } {
  return { tenant_ids: [tenant], allow_channels_pub: rules, allow_channels_sub: rules };
}

/** Resolves with the HTTP status of a refused upgrade, or 101 if it was accepted (and closes it). */
export async function upgradeStatus(relay: Relay, token: string): Promise<number> {
  try {
    const c = await connectWs(relay.wsUrl, token, { timeoutMs: 2000 });
    await c.close();
    return 101;
  } catch (err) {
    const m = /HTTP (\d+)/.exec(String(err));
    if (m === null) throw err;
    return Number(m[1]);
  }
}
