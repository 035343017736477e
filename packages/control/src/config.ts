// Control service configuration: one schema, defaults in one place, strict validation
// (unknown keys fail with their path), like the relay's.
import { Ajv } from 'ajv';
import { ErrorCode, FpsError, type LogLevel } from '@fastpubsub/core';

/** Client TLS towards etcd: the CA that signs the members' certificates, and this instance's client certificate. */
export interface EtcdTlsConfig {
  caFile: string;
  certFile?: string;
  keyFile?: string;
}

/** etcd password auth; without it and with a client certificate, etcd takes the certificate's CN as the user. */
export interface EtcdAuthConfig {
  username: string;
  password: string;
}

export type StoreConfig =
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'etcd'; endpoints: string[]; prefix: string; tls?: EtcdTlsConfig; auth?: EtcdAuthConfig };

export interface ControlConfig {
  listen: { host: string; port: number };
  /** Serve HTTPS with this certificate chain and key (PEM files); unset: plain HTTP. */
  tls?: { certFile: string; keyFile: string };
  /** Bearer secret of the operator: every API call. */
  operatorToken: string;
  /** Bearer secret PoPs present (watch, registry, usage); default: the operator token. */
  popToken: string;
  store: StoreConfig;
  /** A PoP that has not heartbeated for this long leaves the registry. */
  popLeaseMs: number;
  maxHttpBodyBytes: number;
  logLevel: LogLevel;
  /** KB/s written into tickets minted without `ingress_kb_per_sec` / `egress_kb_per_sec` (contract §11.7). */
  defaultIngressKbPerSec: number;
  defaultEgressKbPerSec: number;
  /** Directory of the web console's static build, served at /console/; unset: not served. */
  consoleDir?: string;
}

export interface ControlConfigInput {
  listen?: { host?: string; port?: number };
  tls?: { certFile: string; keyFile: string };
  operatorToken: string;
  popToken?: string;
  store?:
    | { kind: 'embedded'; dataDir?: string }
    | { kind: 'etcd'; endpoints: string[]; prefix?: string; tls?: EtcdTlsConfig; auth?: EtcdAuthConfig };
  popLeaseMs?: number;
  maxHttpBodyBytes?: number;
  logLevel?: LogLevel;
  defaultIngressKbPerSec?: number;
  defaultEgressKbPerSec?: number;
  consoleDir?: string;
}

export const CONTROL_DEFAULTS = Object.freeze({
  listen: { host: '127.0.0.1', port: 7800 },
  dataDir: '.fastpubsub/control',
  etcdPrefix: '/fastpubsub',
  popLeaseMs: 6000,
  maxHttpBodyBytes: 64 * 1024,
  logLevel: 'info',
  // The documented maximum: tokens of clients that never set a rate are not throttled (§11.7).
  defaultKbPerSec: 16384,
});

// Operator and PoP tokens mint or accept every tenant's credentials: 32 characters at least.
const secret = { type: 'string', minLength: 32, pattern: '^\\S+$' } as const;
const file = { type: 'string', minLength: 1 } as const;
const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['operatorToken'],
  properties: {
    listen: {
      type: 'object',
      additionalProperties: false,
      properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 0, maximum: 65535 } },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['certFile', 'keyFile'],
      properties: { certFile: file, keyFile: file },
    },
    operatorToken: secret,
    popToken: secret,
    store: {
      type: 'object',
      required: ['kind'],
      oneOf: [
        {
          additionalProperties: false,
          properties: { kind: { const: 'embedded' }, dataDir: { type: 'string', minLength: 1 } },
        },
        {
          additionalProperties: false,
          required: ['endpoints'],
          properties: {
            kind: { const: 'etcd' },
            endpoints: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^https?://\\S+$' } },
            prefix: { type: 'string', pattern: '^/\\S*$' },
            tls: {
              type: 'object',
              additionalProperties: false,
              required: ['caFile'],
              // A client certificate comes with its key.
              dependentRequired: { certFile: ['keyFile'], keyFile: ['certFile'] },
              properties: { caFile: file, certFile: file, keyFile: file },
            },
            auth: {
              type: 'object',
              additionalProperties: false,
              required: ['username', 'password'],
              properties: { username: { type: 'string', minLength: 1 }, password: { type: 'string', minLength: 1 } },
            },
          },
        },
      ],
    },
    popLeaseMs: { type: 'integer', minimum: 1000 },
    maxHttpBodyBytes: { type: 'integer', minimum: 1024 },
    logLevel: { enum: ['debug', 'info', 'warn', 'error', 'silent'] },
    defaultIngressKbPerSec: { anyOf: [{ const: 0 }, { type: 'integer', minimum: 8, maximum: 16384 }] },
    defaultEgressKbPerSec: { anyOf: [{ const: 0 }, { type: 'integer', minimum: 8, maximum: 16384 }] },
    consoleDir: { type: 'string', minLength: 1 },
  },
} as const;

const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

export function resolveControlConfig(input: unknown): ControlConfig {
  if (!validate(input)) {
    const problems = (validate.errors ?? []).map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` ${String(e.params['additionalProperty'])}: unknown key` : '';
      return `${e.instancePath || '(root)'}:${extra || ' ' + (e.message ?? e.keyword)}`;
    });
    throw new FpsError(ErrorCode.ConfigInvalid, `invalid control config: ${problems.join('; ')}`);
  }
  const g = input as ControlConfigInput;
  const d = CONTROL_DEFAULTS;
  const s = g.store;
  const store: StoreConfig =
    s?.kind === 'etcd'
      ? {
          kind: 'etcd',
          endpoints: [...s.endpoints],
          prefix: s.prefix ?? d.etcdPrefix,
          ...(s.tls === undefined ? {} : { tls: { ...s.tls } }),
          ...(s.auth === undefined ? {} : { auth: { ...s.auth } }),
        }
      : { kind: 'embedded', dataDir: s?.dataDir ?? d.dataDir };
  return {
    listen: { ...d.listen, ...g.listen },
    ...(g.tls === undefined ? {} : { tls: { ...g.tls } }),
    operatorToken: g.operatorToken,
    popToken: g.popToken ?? g.operatorToken,
    store,
    popLeaseMs: g.popLeaseMs ?? d.popLeaseMs,
    maxHttpBodyBytes: g.maxHttpBodyBytes ?? d.maxHttpBodyBytes,
    logLevel: g.logLevel ?? d.logLevel,
    defaultIngressKbPerSec: g.defaultIngressKbPerSec ?? d.defaultKbPerSec,
    defaultEgressKbPerSec: g.defaultEgressKbPerSec ?? d.defaultKbPerSec,
    ...(g.consoleDir === undefined ? {} : { consoleDir: g.consoleDir }),
  };
}
