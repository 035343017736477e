// Contract v0.1 §4 text frames (UTF-8, no newline). Parsers check structure only; the relay
// validates tenant and pattern itself so it can pick invalid_name or invalid_pattern.
import { WireError } from '../errors.js';

export const PING = 'PING';
export const PONG = 'PONG';
export const RECONNECT = 'RECONNECT';

export type SubOp = 'SUB' | 'UNSUB';

export type ClientText =
  | { kind: 'SUB'; tenant: string; pattern: string; latest?: true }
  | { kind: 'UNSUB'; tenant: string; pattern: string }
  | { kind: 'PING' };

export type ServerText =
  | { kind: 'OK'; op: SubOp; tenant: string; pattern: string }
  | { kind: 'PONG' }
  | { kind: 'ERR'; code: string; detail?: string }
  | { kind: 'RECONNECT' }
  | { kind: 'unknown'; text: string };

function splitFirstColon(rest: string): [string, string] | null {
  const i = rest.indexOf(':');
  return i < 0 ? null : [rest.slice(0, i), rest.slice(i + 1)];
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + '…' : text);
}

/**
 * Latest-mode suffix of a SUB (`SUB:{tenant}:{pattern}:L`), an extension of the contract: valid
 * patterns contain no `:`, so no contract client ever sends it, and the OK:SUB omits it.
 */
export const LATEST_SUFFIX = ':L';

/** Throws WireError('bad_command') for anything but `PING`, `SUB:t:p[:L]`, `UNSUB:t:p`. */
export function parseClientText(text: string): ClientText {
  if (text === PING) return { kind: 'PING' };
  let kind: SubOp;
  let rest: string;
  if (text.startsWith('SUB:')) {
    kind = 'SUB';
    rest = text.slice(4);
  } else if (text.startsWith('UNSUB:')) {
    kind = 'UNSUB';
    rest = text.slice(6);
  } else {
    throw new WireError('bad_command', `unknown command ${excerpt(text)}`);
  }
  const parts = splitFirstColon(rest);
  if (parts === null) throw new WireError('bad_command', `${kind} needs {tenant}:{pattern}, got ${excerpt(text)}`);
  if (kind === 'SUB' && parts[1].endsWith(LATEST_SUFFIX)) {
    return { kind, tenant: parts[0], pattern: parts[1].slice(0, -LATEST_SUFFIX.length), latest: true };
  }
  return { kind, tenant: parts[0], pattern: parts[1] };
}

export function formatSub(tenant: string, pattern: string, options: { latest?: boolean } = {}): string {
  return `SUB:${tenant}:${pattern}${options.latest === true ? LATEST_SUFFIX : ''}`;
}

export function formatUnsub(tenant: string, pattern: string): string {
  return `UNSUB:${tenant}:${pattern}`;
}

/** Tenant and pattern must be byte-identical to the request (contract §4). */
export function formatOk(op: SubOp, tenant: string, pattern: string): string {
  return `OK:${op}:${tenant}:${pattern}`;
}

/**
 * Latest-mode extension, sent only for subscriptions that asked with `:L`: n messages of
 * (tenant, pattern) were replaced by newer ones before the connection could take them.
 */
export function formatSuperseded(tenant: string, pattern: string, count: number): string {
  return `SUPERSEDED:${tenant}:${pattern}:${count}`;
}

/** SDK side: the fields of a `SUPERSEDED:` line, or undefined when the text is not one. */
export function parseSuperseded(text: string): { tenant: string; pattern: string; count: number } | undefined {
  if (!text.startsWith('SUPERSEDED:')) return undefined;
  const parts = text.slice(11).split(':');
  const count = Number(parts[2]);
  if (parts.length !== 3 || !Number.isSafeInteger(count) || count <= 0) return undefined;
  return { tenant: parts[0] as string, pattern: parts[1] as string, count };
}

/** `ERR:{code}` or `ERR:{code}:{detail}` (contract §10.2). */
export function formatErr(code: string, detail?: string): string {
  return detail === undefined ? `ERR:${code}` : `ERR:${code}:${detail}`;
}

/** SDK side. Like the reference client, it trims whitespace around OK's tenant and pattern. */
export function parseServerText(text: string): ServerText {
  if (text === PONG) return { kind: 'PONG' };
  if (text === RECONNECT) return { kind: 'RECONNECT' };
  if (text.startsWith('ERR:')) {
    const rest = text.slice(4);
    const parts = splitFirstColon(rest);
    return parts === null ? { kind: 'ERR', code: rest } : { kind: 'ERR', code: parts[0], detail: parts[1] };
  }
  for (const op of ['SUB', 'UNSUB'] as const) {
    const prefix = `OK:${op}:`;
    if (!text.startsWith(prefix)) continue;
    const parts = splitFirstColon(text.slice(prefix.length));
    if (parts === null) break;
    return { kind: 'OK', op, tenant: parts[0].trim(), pattern: parts[1].trim() };
  }
  return { kind: 'unknown', text };
}
