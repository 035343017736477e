import { createHash } from 'node:crypto';

const PREFIX = 'AT_';

/** `AT_{id}_{secret}` (contract §7): id up to the first `_`, secret the rest, neither empty. */
export function parseAccessToken(text: string): { id: string; secret: string } | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  const body = text.slice(PREFIX.length);
  const sep = body.indexOf('_');
  if (sep <= 0 || sep === body.length - 1) return undefined;
  return { id: body.slice(0, sep), secret: body.slice(sep + 1) };
}

export function formatAccessToken(id: string, secret: string): string {
  return `${PREFIX}${id}_${secret}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
