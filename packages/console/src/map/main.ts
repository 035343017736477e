// The live network map: asks the control plane for the read-only map token, subscribes to the
// system tenant's network state through the browser SDK, and redraws on every message. No
// polling: the only timer ages the data (a silent PoP goes down, old anomaly marks fade).
import { connect, type Client } from '@fastpubsub/client';
import { byId, replace } from '../shared/dom.js';
import { decodeNetMsg } from './messages.js';
import { NetworkModel } from './model.js';
import { renderAnomalies, renderMap, renderPairs, renderPops } from './render.js';

interface MapToken {
  token: string;
  tenant: string;
  pattern: string;
  edges: { pop: string; wsUrl: string }[];
}

const AGE_TICK_MS = 250;
/** Reconnect attempts at one edge before the page moves to the next one. */
const ATTEMPTS_PER_EDGE = 2;
/** Bound on (re)starting the whole subscription: about an hour of tries. */
const MAX_STARTS = 720;

const model = new NetworkModel();
const mapSvg = byId('map') as unknown as SVGSVGElement;
const status = byId('conn');
let drawQueued = false;

function draw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    const now = Date.now();
    renderMap(mapSvg, model, now);
    renderPairs(byId<HTMLTableSectionElement>('pairs'), byId('share'), model);
    renderPops(byId('pops'), model);
    renderAnomalies(byId('anomalies'), model);
  });
}

function setStatus(state: 'live' | 'stale' | 'error', text: string): void {
  status.dataset['state'] = state;
  document.body.classList.toggle('stale', state !== 'live');
  replace(status, text);
}

async function fetchToken(): Promise<MapToken> {
  const res = await fetch('/v1/network/map-token', { cache: 'no-store', signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`the control plane answered HTTP ${res.status}`);
  const body = (await res.json()) as MapToken;
  if (typeof body.token !== 'string' || !Array.isArray(body.edges) || body.edges.length === 0) throw new Error('no PoP is registered yet');
  return body;
}

/** One subscription at one edge; resolves when it should be replaced (edge lost or client closed). */
async function follow(t: MapToken, edge: { pop: string; wsUrl: string }): Promise<void> {
  const client: Client = await connect({ endpoint: edge.wsUrl, token: t.token, ping: { intervalMs: 1000, timeoutMs: 2500 }, reconnect: { maxDelayMs: 1000 } });
  let failed = 0;
  const done = new Promise<void>((resolve) => {
    client.on('state', ({ state }) => {
      if (state === 'connected') setStatus('live', `live via ${edge.pop}`);
      else setStatus('stale', `connection to ${edge.pop} lost: data below is stale, reconnecting…`);
    });
    client.on('reconnecting', () => {
      if (++failed >= ATTEMPTS_PER_EDGE) resolve();
    });
    void client.closed().then(() => resolve());
  });
  const sub = await client.subscribe(t.tenant, t.pattern);
  setStatus('live', `live via ${edge.pop}`);
  void (async () => {
    for await (const m of sub) {
      const msg = decodeNetMsg(m.payload);
      if (msg === undefined) continue;
      model.ingest(msg, Date.now());
      draw();
    }
  })();
  await done;
  await client.close().catch(() => undefined);
}

async function run(): Promise<void> {
  const wanted = new URLSearchParams(location.search).get('pop');
  let next = 0;
  for (let start = 0; start < MAX_STARTS; start++) {
    try {
      const t = await fetchToken();
      const preferred = t.edges.findIndex((e) => e.pop === wanted);
      const edge = t.edges[start === 0 && preferred >= 0 ? preferred : next++ % t.edges.length]!;
      await follow(t, edge);
      setStatus('stale', 'connection lost: data below is stale, trying another PoP…');
    } catch (err) {
      setStatus('error', `cannot reach the network (${err instanceof Error ? err.message : String(err)}); data below is stale, retrying…`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

setInterval(() => {
  if (model.tick(Date.now()).length > 0) draw();
  else if (model.anomalies.length > 0) draw(); // fade old marks
}, AGE_TICK_MS);
void run();
