// Ajv's validation errors as one readable line each, naming the config key by its dotted path
// (`quic.listen.port: must be integer`, `mesh.seedz: unknown key`).
import type { ErrorObject } from 'ajv';

export function describe(e: ErrorObject): string {
  const base = pointerToPath(e.instancePath);
  const at = (key: string): string => (base === '' ? key : `${base}.${key}`);
  switch (e.keyword) {
    case 'additionalProperties':
      return `${at(String(e.params['additionalProperty']))}: unknown key`;
    case 'required':
      return `${at(String(e.params['missingProperty']))}: is required`;
    case 'enum':
      return `${base || '(root)'}: must be one of ${(e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${base || '(root)'}: ${e.message ?? e.keyword}`;
  }
}

function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : p))
    .join('.')
    .replace(/\.\[/g, '[');
}
