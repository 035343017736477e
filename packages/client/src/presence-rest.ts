// The presence query over HTTP: GET /v1/presence/{tenant}/{channel} on an edge, with the
// client's token (bounded by a 5 s timeout), answering one page of members mesh-wide.
import { ClientError, abortError } from './errors.js';
import type { PresencePage } from './presence.js';

export interface PresenceQuery {
  limit?: number;
  after?: string;
  signal?: AbortSignal;
}

export async function fetchPresencePage(httpUrl: string, token: string, tenant: string, channel: string, options: PresenceQuery): Promise<PresencePage> {
  const q = new URLSearchParams();
  if (options.limit !== undefined) q.set('limit', String(options.limit));
  if (options.after !== undefined) q.set('after', options.after);
  const url = `${httpUrl}/v1/presence/${encodeURIComponent(tenant)}/${encodeURIComponent(channel)}${q.size > 0 ? `?${q.toString()}` : ''}`;
  const signal = options.signal === undefined ? AbortSignal.timeout(5000) : AbortSignal.any([options.signal, AbortSignal.timeout(5000)]);
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal });
  } catch (err) {
    if (options.signal?.aborted) throw abortError(options.signal);
    throw new ClientError('connect_failed', `GET ${url} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const text = await res.text();
  if (!res.ok) {
    const code = res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : 'http';
    throw new ClientError(code, `GET /v1/presence answered HTTP ${res.status}`, { status: res.status, detail: text });
  }
  return JSON.parse(text) as PresencePage;
}
