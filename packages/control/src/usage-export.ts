// Usage export for billing: one month's usage per tenant as JSON or CSV. The numbers are the
// ones the monthly quota is enforced on (the registry's sums over PoPs and their restarts), and
// the output is a pure function of the stored usage: the same month exports the same bytes
// every time (no timestamps, tenants sorted), so an export can be retried or re-run safely.
import type { ServerResponse } from 'node:http';
import { ErrorCode, FpsError } from '@fastpubsub/core';
import type { ControlService } from './service.js';

export interface UsageExportRow {
  month: string;
  tenant: string;
  messages: number;
  bytes: number;
  connectionMinutes: number;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

export function parseExportQuery(query: URLSearchParams): { month: string; format: 'json' | 'csv' } {
  const month = query.get('month');
  if (month === null || !MONTH.test(month)) throw new FpsError(ErrorCode.BadRequest, `month must be YYYY-MM, got ${month === null ? 'nothing' : JSON.stringify(month)}`);
  const format = query.get('format') ?? 'json';
  if (format !== 'json' && format !== 'csv') throw new FpsError(ErrorCode.BadRequest, `format must be json or csv, got ${JSON.stringify(format)}`);
  return { month, format };
}

/** Every tenant (or the one given) with its usage in `month`; tenants without usage get zeros. */
export async function usageRows(s: ControlService, month: string, onlyTenant?: string): Promise<UsageExportRow[]> {
  const usage = s.registry.usage(month);
  const tenants = new Set(onlyTenant === undefined ? (await s.tenants.listTenants()).map((t) => t.id) : [onlyTenant]);
  // Usage of a tenant deleted since is still billable: it stays in the export.
  if (onlyTenant === undefined) for (const t of Object.keys(usage)) tenants.add(t);
  return [...tenants]
    .sort()
    .map((tenant) => {
      const u = usage[tenant];
      return { month, tenant, messages: u?.messages ?? 0, bytes: u?.bytes ?? 0, connectionMinutes: u?.connectionMinutes ?? 0 };
    });
}

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv(rows: UsageExportRow[]): string {
  const lines = ['month,tenant,messages,bytes,connection_minutes'];
  for (const r of rows) lines.push([r.month, r.tenant, r.messages, r.bytes, r.connectionMinutes].map(csvField).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Writes the export; `tenant` limits it to one tenant (a tenant's own export). */
export async function sendUsageExport(s: ControlService, res: ServerResponse, query: URLSearchParams, tenant?: string): Promise<void> {
  const { month, format } = parseExportQuery(query);
  if (tenant !== undefined) await s.tenants.getTenant(tenant);
  const rows = await usageRows(s, month, tenant);
  const name = `fastpubsub-usage-${tenant ?? 'all'}-${month}.${format}`;
  const body = format === 'csv' ? toCsv(rows) : JSON.stringify({ month, tenants: rows }) + '\n';
  res.writeHead(200, {
    'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
    'Content-Disposition': `attachment; filename="${name}"`,
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
