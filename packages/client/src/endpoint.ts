// Edges: turning what the app gives (a URL or a bare `host[:port]`) into REST and WebSocket
// URLs (contract v0.1 §8), probing `GET /ping` (§7) and reading a discovery document (§8).
import { ClientError, abortError } from './errors.js';

export interface Edge {
  /** REST base, no trailing slash: `https://host[:port]`. */
  httpUrl: string;
  /** WebSocket URL: `wss://host[:port]/ws` unless the app gave a ws(s):// URL with its path. */
  wsUrl: string;
}

export interface EdgeProbe {
  edge: Edge;
  ok: boolean;
  /** Round trip of `GET /ping` in milliseconds (when ok). */
  rttMs?: number;
  error?: string;
}

export const PING_TIMEOUT_MS = 3000; // contract §7
export const DISCOVERY_TIMEOUT_MS = 5000; // contract §8

/**
 * Parses an edge given as `https://host`, `http://host:port`, `wss://host/ws`, `ws://host:port/`
 * or a bare `host[:port]`. A bare host takes `defaultScheme` ('https', contract §8; a discovery
 * document fetched over plain http hands its scheme down, so local tests work without TLS).
 */
export function parseEdge(input: string, defaultScheme: 'https' | 'http' = 'https'): Edge {
  let s = input.trim();
  if (s === '') throw new ClientError('bad_argument', 'empty edge URL');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = `${defaultScheme}://${s}`;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new ClientError('bad_argument', `invalid edge URL ${JSON.stringify(input)}`);
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new ClientError('bad_argument', `unsupported scheme in edge URL ${JSON.stringify(input)}`);
  }
  const httpUrl = `${secure ? 'https' : 'http'}://${url.host}`;
  const isWs = url.protocol === 'ws:' || url.protocol === 'wss:';
  const path = isWs ? url.pathname + url.search : '/ws';
  return { httpUrl, wsUrl: `${secure ? 'wss' : 'ws'}://${url.host}${path}` };
}

function timeoutSignal(ms: number, outer: AbortSignal | undefined): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(new ClientError('timeout', `timed out after ${ms} ms`)), ms);
  const onAbort = (): void => ac.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: ac.signal,
    done: () => {
      clearTimeout(t);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

/** One `GET /ping`; ok only for a 2xx whose trimmed body is exactly `pong`. */
export async function probeEdge(edge: Edge, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<EdgeProbe> {
  const { signal, done } = timeoutSignal(opts.timeoutMs ?? PING_TIMEOUT_MS, opts.signal);
  const start = performance.now();
  try {
    const res = await fetch(`${edge.httpUrl}/ping`, { signal, cache: 'no-store' });
    const body = await res.text();
    const rttMs = performance.now() - start;
    if (!res.ok) return { edge, ok: false, error: `HTTP ${res.status}` };
    if (body.trim() !== 'pong') return { edge, ok: false, error: `unexpected body ${JSON.stringify(body.slice(0, 40))}` };
    return { edge, ok: true, rttMs };
  } catch (err) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const reason: unknown = signal.reason;
    const msg = reason instanceof ClientError ? reason.message : err instanceof Error ? err.message : String(err);
    return { edge, ok: false, error: msg };
  } finally {
    done();
  }
}

/** Probes every edge in parallel; results in the order given. */
export function probeEdges(edges: Edge[], opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<EdgeProbe[]> {
  return Promise.all(edges.map((e) => probeEdge(e, opts)));
}

/**
 * Probes all candidates in parallel and resolves with the first (so the fastest) that answers
 * `pong`, aborting the others. Rejects with `no_edge` when none does.
 */
export async function selectFastestEdge(edges: Edge[], opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<EdgeProbe> {
  if (edges.length === 0) throw new ClientError('no_edge', 'no candidate edges');
  if (opts.signal?.aborted) throw abortError(opts.signal);
  const ac = new AbortController();
  const onAbort = (): void => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await new Promise<EdgeProbe>((resolve, reject) => {
      const failures: string[] = [];
      for (const edge of edges) {
        probeEdge(edge, { signal: ac.signal, timeoutMs: opts.timeoutMs }).then(
          (p) => {
            if (p.ok) return resolve(p);
            failures.push(`${edge.httpUrl}: ${p.error ?? 'failed'}`);
            if (failures.length === edges.length) {
              reject(new ClientError('no_edge', `no edge answered /ping (${failures.join('; ')})`));
            }
          },
          (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
        );
      }
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    ac.abort();
  }
}

/**
 * Reads a discovery document `{"edges":[…]}` (contract §8): items are host strings or objects
 * with a `host` field; an empty list is an error.
 */
export async function discoverEdges(url: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Edge[]> {
  const { signal, done } = timeoutSignal(opts.timeoutMs ?? DISCOVERY_TIMEOUT_MS, opts.signal);
  let doc: unknown;
  try {
    const res = await fetch(url, { signal, cache: 'no-store' });
    if (!res.ok) throw new ClientError('discovery_failed', `discovery ${url} answered HTTP ${res.status}`, { status: res.status });
    doc = await res.json();
  } catch (err) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    if (err instanceof ClientError) throw err;
    throw new ClientError('discovery_failed', `discovery ${url} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    done();
  }
  const items = typeof doc === 'object' && doc !== null ? (doc as { edges?: unknown }).edges : undefined;
  if (!Array.isArray(items) || items.length === 0) {
    throw new ClientError('discovery_failed', `discovery ${url} returned no edges`);
  }
  const scheme = url.startsWith('http:') ? 'http' : 'https';
  const edges: Edge[] = [];
  for (const item of items as unknown[]) {
    const host = typeof item === 'string' ? item : typeof item === 'object' && item !== null ? (item as { host?: unknown }).host : undefined;
    if (typeof host !== 'string' || host.trim() === '') continue;
    edges.push(parseEdge(host.trim().replace(/\/$/, ''), scheme));
  }
  if (edges.length === 0) throw new ClientError('discovery_failed', `discovery ${url} returned no usable edges`);
  return edges;
}

/**
 * Where the client connects: the one `endpoint`, or the fastest of the `bootstrap` edges (a
 * list, or a discovery URL fetched again when a reconnect reselects).
 */
export class EdgePicker {
  #candidates: Edge[] | undefined;
  readonly #discoveryUrl: string | undefined;

  /** Throws ClientError('bad_argument') unless exactly one of endpoint and bootstrap is given. */
  constructor(options: { endpoint?: string; bootstrap?: string | readonly string[] }) {
    const given = [options.endpoint !== undefined, options.bootstrap !== undefined].filter(Boolean).length;
    if (given !== 1) throw new ClientError('bad_argument', 'connect() needs exactly one of endpoint or bootstrap');
    if (options.endpoint !== undefined) this.#candidates = [parseEdge(options.endpoint)];
    else if (typeof options.bootstrap === 'string') this.#discoveryUrl = options.bootstrap;
    else {
      if (options.bootstrap!.length === 0) throw new ClientError('bad_argument', 'bootstrap is an empty list');
      this.#candidates = options.bootstrap!.map((b) => parseEdge(b));
    }
  }

  /** The edge to use: `current` unless `reselect` (then discovery and probing run again). */
  async pick(reselect: boolean, current: Edge | undefined, signal: AbortSignal): Promise<Edge> {
    if (this.#discoveryUrl !== undefined && (this.#candidates === undefined || reselect)) {
      this.#candidates = await discoverEdges(this.#discoveryUrl, { signal });
    }
    const candidates = this.#candidates!;
    if (candidates.length === 1) return candidates[0]!;
    if (!reselect && current !== undefined) return current;
    return (await selectFastestEdge(candidates, { signal })).edge;
  }
}
