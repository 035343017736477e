// The operator's part of the console, shown when the signed-in token is the operator token:
// every tenant, creating one, the signed-in tenant's limits and quota, signing-key rotation.
import { byId, el, replace } from '../shared/dom.js';
import { ApiError, api, type Session } from './api.js';

const LIMIT_FIELDS = ['messagesPerSecond', 'bytesPerSecond', 'maxConnections', 'monthlyMessages'] as const;

/** Shows the operator panel if `s` holds the operator token; resolves false for a tenant token. */
export async function showOperator(s: Session, onError: (err: unknown) => void): Promise<boolean> {
  let tenants: { id: string; name?: string }[];
  try {
    tenants = (await api.tenants(s)).tenants;
  } catch (err) {
    if (err instanceof ApiError && /may not manage/.test(err.message)) return false;
    throw err;
  }
  byId('operator').hidden = false;
  replace(byId('tenant-list'), ...tenants.map((t) => el('li', { 'data-tenant': t.id }, el('strong', {}, t.id), t.name === undefined ? '' : ` · ${t.name}`)));
  const limits = await api.limits(s);
  for (const f of LIMIT_FIELDS) {
    const v = (limits as Record<string, unknown>)[f];
    byId<HTMLInputElement>(`limit-${f}`).value = typeof v === 'number' ? String(v) : '';
  }
  const wire = (id: string, fn: () => Promise<void>): void => {
    const form = byId(id);
    form.onsubmit = (e) => {
      e.preventDefault();
      fn().catch(onError);
    };
  };
  wire('tenant-form', async () => {
    await api.createTenant(s, byId<HTMLInputElement>('new-tenant-id').value.trim(), byId<HTMLInputElement>('new-tenant-name').value.trim());
    await showOperator(s, onError);
  });
  wire('limits-form', async () => {
    const body: Record<string, number> = {};
    for (const f of LIMIT_FIELDS) {
      const raw = byId<HTMLInputElement>(`limit-${f}`).value.trim();
      if (raw === '') continue;
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) throw new ApiError(`${f} must be a number ≥ 0`);
      body[f] = n;
    }
    await api.setLimits(s, body);
    replace(byId('operator-note'), `Limits of ${s.tenant} saved; every PoP applies them within a second.`);
  });
  wire('rotate-form', async () => {
    const r = await api.rotateKeys(s);
    replace(byId('operator-note'), `New signing key ${r.kid}; tokens signed by older keys stay valid until they expire.`);
  });
  return true;
}
