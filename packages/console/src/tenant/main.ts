// The tenant console: sign in with a tenant master token or the operator token; live traffic
// (over FastPubSub: the PoPs' per-tenant stats), usage against the monthly quota, access tokens
// (create, list, revoke), a publish box and a live tail. All network values shown as text.
import { connect, type Client } from '@fastpubsub/client';
import { byId, el, replace, svg } from '../shared/dom.js';
import { ApiError, api, type Session } from './api.js';
import { showOperator } from './operator.js';
import { Traffic, decodeStats } from './traffic.js';
import { PopHistory } from './pop-history.js';
import { drawClients, drawPopCharts, loadCountryPoints } from './panels.js';

const TAIL_MAX = 100;
let session: Session | undefined;
let client: Client | undefined;
const traffic = new Traffic();
const popHistory = new PopHistory();

const value = (id: string): string => byId<HTMLInputElement>(id).value.trim();
const list = (s: string): string[] => s.split(/[\s,]+/).filter((x) => x !== '');
const errorText = (err: unknown): string => (err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err));

function status(state: 'live' | 'stale', text: string): void {
  const c = byId('conn');
  c.dataset['state'] = state;
  document.body.classList.toggle('stale', state !== 'live');
  replace(c, text);
}

async function signIn(tenant: string, token: string): Promise<void> {
  const s: Session = { tenant, token };
  await api.tenant(s);
  session = s;
  byId('signin').hidden = true;
  byId('app').hidden = false;
  replace(byId('who'), `· ${tenant}`);
  await Promise.all([refreshTokens(), refreshUsage(), loadCountryPoints(), startLive(s), showOperator(s, (err) => replace(byId('operator-note'), errorText(err)))]);
}

async function startLive(s: Session): Promise<void> {
  const ct = await api.consoleToken(s);
  const edge = ct.edges[0];
  if (edge === undefined) throw new ApiError('No PoP is registered with the control plane yet.');
  client = await connect({ endpoint: edge.wsUrl, token: ct.token, ping: { intervalMs: 1000, timeoutMs: 2500 }, reconnect: { maxDelayMs: 2000 } });
  client.on('state', ({ state }) => status(state === 'connected' ? 'live' : 'stale', state === 'connected' ? `live via ${edge.pop}` : 'connection lost: figures are stale, reconnecting…'));
  status('live', `live via ${edge.pop}`);
  const stats = await client.subscribe(ct.statsTenant, ct.statsPattern);
  void (async () => {
    for await (const m of stats) {
      const r = decodeStats(m.payload);
      if (r === undefined) continue;
      const now = Date.now();
      traffic.add(r, now);
      if (r.popFigures !== undefined) popHistory.add(r.pop, r.popFigures, now);
      drawTraffic();
      drawPopCharts(popHistory, now);
      drawClients(traffic, now);
    }
  })();
}

function drawTraffic(): void {
  const now = Date.now();
  const t = traffic.totals(now);
  const rate = byId('rate-now');
  rate.dataset['rate'] = String(t.messagesPerSec);
  replace(rate, `${t.messagesPerSec.toFixed(1)} msg/s`);
  replace(byId('bytes-now'), `${(t.bytesPerSec / 1024).toFixed(1)} KiB/s`);
  const conns = byId('conns');
  conns.dataset['connections'] = String(t.connections);
  replace(conns, `${t.connections} connections`);
  replace(byId('per-pop'), ...traffic.fresh(now).map((r) => el('li', {}, el('strong', {}, r.pop), ` ${r.messagesPerSec.toFixed(1)} msg/s · ${r.connections} connections`)));
  const search = byId<HTMLInputElement>('channel-search').value.trim();
  replace(
    byId<HTMLTableSectionElement>('channels'),
    ...traffic.channels(now, search, 20).map((c) =>
      el('tr', { 'data-channel': c.channel }, el('td', {}, c.channel), el('td', { class: 'num' }, c.messagesPerSec.toFixed(1)), el('td', { class: 'num' }, (c.bytesPerSec / 1024).toFixed(2)), el('td', { class: 'num' }, String(c.subscribers)), el('td', {}, c.pops.join(', '))),
    ),
  );
  const chart = byId('rate-chart') as unknown as SVGSVGElement;
  const pts = traffic.series;
  const max = Math.max(1, ...pts.map((p) => p[1]));
  const last = pts[pts.length - 1]?.[0] ?? 0;
  const line = pts.map(([sec, v]) => `${(600 - (last - sec) * 10).toFixed(0)},${(115 - (v / max) * 105).toFixed(1)}`).join(' ');
  replace(
    chart,
    svg('polyline', { points: line, fill: 'none', stroke: '#4fb3ff', 'stroke-width': 2 }),
    svg('text', { x: 4, y: 14, class: 'link-label' }, `max ${max.toFixed(0)} msg/s`),
  );
}

async function refreshUsage(): Promise<void> {
  if (session === undefined) return;
  const [u, l] = await Promise.all([api.usage(session), api.limits(session)]);
  const quota = l.monthlyMessages;
  replace(byId('usage'), `This month: ${u.messages} messages, ${(u.bytes / 1048576).toFixed(2)} MiB, ${u.connectionMinutes.toFixed(1)} connection-minutes${quota === undefined ? ' (no monthly quota)' : ` of a ${quota}-message quota (${((u.messages / quota) * 100).toFixed(1)} %)`}.`);
}

async function refreshTokens(): Promise<void> {
  if (session === undefined) return;
  const { tokens } = await api.tokens(session);
  replace(
    byId<HTMLTableSectionElement>('tokens'),
    ...tokens.map((tk) => {
      const revoke = el('button', { type: 'button', 'data-token-id': tk.id, 'aria-label': `revoke token ${tk.id}` }, 'Revoke');
      revoke.disabled = tk.revoked;
      // Refresh: the expiry moves to now + the form's hours (the contract's PUT /v1/refresh-token).
      const refresh = el('button', { type: 'button', 'data-refresh-id': tk.id, 'aria-label': `refresh token ${tk.id}` }, 'Refresh');
      refresh.disabled = tk.revoked;
      refresh.addEventListener('click', () => void guarded('token-error', async () => {
        await api.refresh(session!, tk.id, expiryHours());
        await refreshTokens();
      }));
      revoke.addEventListener('click', () => void guarded('token-error', async () => {
        await api.revoke(session!, tk.id);
        await refreshTokens();
      }));
      return el('tr', { 'data-token-id': tk.id }, el('td', {}, tk.id), el('td', {}, tk.description ?? ''), el('td', {}, tk.createdAt), el('td', {}, tk.expiresAt), el('td', { class: 'state' }, tk.revoked ? 'revoked' : 'active'), el('td', {}, refresh, ' ', revoke));
    }),
  );
}

function expiryHours(): number {
  const hours = Number(value('token-hours'));
  if (!Number.isFinite(hours) || hours < 1 || hours > 8760) throw new ApiError('Expiry must be between 1 and 8760 hours.');
  return hours;
}

async function guarded(errorId: string, fn: () => Promise<void>): Promise<void> {
  replace(byId(errorId), '');
  try {
    await fn();
  } catch (err) {
    replace(byId(errorId), errorText(err));
  }
}

byId('channel-search').addEventListener('input', () => drawTraffic());

byId('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void guarded('signin-error', () => signIn(value('signin-tenant'), value('signin-token')));
});

byId('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void guarded('token-error', async () => {
    const { token } = await api.createToken(session!, {
      description: value('token-desc'),
      pub: list(value('token-pub')),
      sub: list(value('token-sub')),
      hours: expiryHours(),
      ipMasks: list(value('token-ips')),
      origins: list(value('token-origins')),
    });
    byId<HTMLInputElement>('new-token').value = token;
    byId('new-token-box').hidden = false;
    await refreshTokens();
  });
});

byId('publish-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (client === undefined || session === undefined) return;
  client.publish(session.tenant, value('pub-channel'), byId<HTMLInputElement>('pub-payload').value);
});

byId('tail-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (client === undefined || session === undefined) return;
  void guarded('token-error', async () => {
    const sub = await client!.subscribe(session!.tenant, value('tail-pattern'));
    const tail = byId('tail');
    void (async () => {
      for await (const m of sub) {
        tail.prepend(el('li', { 'data-channel': m.channel }, el('time', {}, new Date().toLocaleTimeString()), ' ', el('strong', {}, m.channel), ' ', new TextDecoder().decode(m.payload)));
        while (tail.childElementCount > TAIL_MAX) tail.lastElementChild?.remove();
      }
    })();
  });
});

// Usage moves slowly (PoPs report it every few seconds): refreshed every 10 s while signed in.
setInterval(() => void refreshUsage().catch(() => undefined), 10_000);
