// Helpers for the multi-process mesh tests (a cluster of relays as child processes behind the
// link emulator, e.g. `fastpubsub dev`'s): tokens per relay, raw WebSocket subscribers that record every delivery
// with its arrival time, and polling of the mesh REST views. Every wait is bounded.
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { decodeDelivery, encodePublish } from '@fastpubsub/wire';
import type { MeshLinkInfo, MeshRouteInfo } from '@fastpubsub/relay';
import { sleep } from './helpers.js';

/** What these helpers need of a running multi-relay cluster (e.g. `fastpubsub dev`'s DevCluster). */
export interface MeshCluster {
  readonly nodes: ReadonlyMap<string, { readonly httpUrl: string; readonly wsUrl: string }>;
  readonly masterToken: string;
}

export const TENANT = 't1';

export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, `${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export async function routes(c: MeshCluster, id: string): Promise<MeshRouteInfo[]> {
  return (await getJson<{ routes: MeshRouteInfo[] }>(`${c.nodes.get(id)!.httpUrl}/v1/mesh/routes`)).routes;
}

export async function links(c: MeshCluster, id: string): Promise<MeshLinkInfo[]> {
  return (await getJson<{ links: MeshLinkInfo[] }>(`${c.nodes.get(id)!.httpUrl}/v1/mesh/links`)).links;
}

/** Polls until `from`'s route to `dest` has exactly `path`. */
export async function waitPath(c: MeshCluster, from: string, dest: string, path: string[], ms: number): Promise<MeshRouteInfo> {
  return until(`${from}→${dest} via ${path.join('→')}`, ms, async () => {
    const r = (await routes(c, from)).find((x) => x.dest === dest);
    return r !== undefined && r.path.join() === path.join() ? r : undefined;
  });
}

export async function issueMeshToken(c: MeshCluster, id: string): Promise<string> {
  const res = await fetch(`${c.nodes.get(id)!.httpUrl}/v1/get-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.masterToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      right: {
        tenant_grants: [{ tenant_ids: [TENANT], allow_channels_pub: ['m.#'], allow_channels_sub: ['m.#'] }],
        allow_ip_masks: [],
        allow_regions: [],
        allowed_ws_origin: [],
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
      },
      created_by: 'mesh-tests',
      description: 'mesh multi-process tests',
    }),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { token?: string };
  assert.equal(typeof body.token, 'string', `get-token at ${id}: HTTP ${res.status}`);
  return body.token!;
}

export interface Received {
  channel: string;
  payload: Buffer;
  at: number;
}

/** A WebSocket client of one relay: publish, subscribe, and every delivery recorded. */
export class WsClient {
  readonly received: Received[] = [];
  readonly #texts: string[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData, binary: boolean) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (!binary) {
        this.#texts.push(buf.toString('utf8'));
        return;
      }
      const d = decodeDelivery(buf);
      this.received.push({ channel: d.channel, payload: Buffer.from(d.payload), at: performance.now() });
    });
    ws.on('error', () => undefined);
  }

  static async open(c: MeshCluster, id: string): Promise<WsClient> {
    const token = await issueMeshToken(c, id);
    const ws = new WebSocket(c.nodes.get(id)!.wsUrl, ['llps.v1', `at.${token}`], { perMessageDeflate: false, handshakeTimeout: 5000 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new WsClient(ws);
  }

  async subscribe(pattern: string): Promise<void> {
    this.ws.send(`SUB:${TENANT}:${pattern}`);
    await until(`OK:SUB for ${pattern}`, 5000, () => (this.#texts.includes(`OK:SUB:${TENANT}:${pattern}`) ? true : undefined), 10);
  }

  publish(channel: string, payload: Uint8Array): void {
    this.ws.send(encodePublish({ tenant: TENANT, channel, payload }));
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Payload carrying a sequence number and the send time (performance.now of this process). */
export function stamp(seq: number, size = 16): Buffer {
  const b = Buffer.alloc(Math.max(16, size));
  b.writeUInt32BE(seq, 0);
  b.writeDoubleBE(performance.now(), 8);
  return b;
}

export function seqOf(r: Received): number {
  return r.payload.readUInt32BE(0);
}

export function latencyOf(r: Received): number {
  return r.at - r.payload.readDoubleBE(8);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}
