// The OpenAPI 3.1 document of the control service, served at /openapi.json. Written by hand;
// test/control-openapi.test.ts checks it names exactly the routes in routes.ts.

import { hookPaths, hookSchemas } from './hooks-openapi.js';

const json = (schema: object): object => ({ 'application/json': { schema } });
const ok = (description: string, schema: object = { type: 'object' }): object => ({ description, content: json(schema) });
const err = { description: 'Error', content: json({ $ref: '#/components/schemas/Error' }) };
const errors = { '400': err, '401': err, '403': err, '404': err, '503': err };
const tenantParam = { name: 'tenant', in: 'path', required: true, schema: { type: 'string' } };
const exportParams = [
  { name: 'month', in: 'query', required: true, schema: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' } },
  { name: 'format', in: 'query', required: false, schema: { enum: ['json', 'csv'], default: 'json' } },
];
const usageExport = {
  description: 'one row per tenant, sorted by tenant; the same month always exports the same content',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          month: { type: 'string' },
          tenants: {
            type: 'array',
            items: {
              type: 'object',
              properties: { month: { type: 'string' }, tenant: { type: 'string' }, messages: { type: 'integer' }, bytes: { type: 'integer' }, connectionMinutes: { type: 'number' } },
            },
          },
        },
      },
    },
    'text/csv': { schema: { type: 'string', description: 'header month,tenant,messages,bytes,connection_minutes; CRLF line ends' } },
  },
};
const body = (schema: object): object => ({ required: true, content: json(schema) });

export const openapi = {
  openapi: '3.1.0',
  info: {
    title: 'FastPubSub control plane',
    version: '0.1.0',
    description:
      'Tenants, master tokens, signed access tokens (contract v0.1 token endpoints), limits, signing keys, ' +
      'the PoP registry, usage and the config/revocation watch stream PoPs follow. ' +
      'Auth: `Authorization: Bearer <operator token>`; tenant master tokens (`MT_…`) for their own tenant; PoP token for PoP calls.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, message: { type: 'string' } } },
      Tenant: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, createdAtMs: { type: 'integer' } } },
      ChannelLimits: {
        type: 'object',
        additionalProperties: false,
        properties: {
          messagesPerSecond: { type: 'number' },
          bytesPerSecond: { type: 'number' },
          delivery: { type: 'string', enum: ['all', 'latest'], description: "'latest': only the newest message of the channel counts (docs/latest-mode.md)" },
        },
      },
      Limits: {
        type: 'object',
        additionalProperties: false,
        properties: {
          messagesPerSecond: { type: 'number' },
          bytesPerSecond: { type: 'number' },
          burstSeconds: { type: 'number' },
          maxConnections: { type: 'integer' },
          monthlyMessages: { type: 'integer' },
          channel: { $ref: '#/components/schemas/ChannelLimits' },
          channels: { type: 'object', additionalProperties: { $ref: '#/components/schemas/ChannelLimits' } },
        },
      },
      GetTokenRequest: {
        type: 'object',
        required: ['right', 'created_by'],
        properties: {
          right: {
            type: 'object',
            required: ['tenant_grants', 'expires_at'],
            properties: {
              tenant_grants: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    tenant_ids: { type: 'array', items: { type: 'string' } },
                    allow_channels_pub: { type: 'array', items: { type: 'string' } },
                    allow_channels_sub: { type: 'array', items: { type: 'string' } },
                  },
                },
              },
              allow_ip_masks: { type: 'array', items: { type: 'string' } },
              allow_regions: { type: 'array', items: { type: 'string' } },
              allowed_ws_origin: { type: 'array', items: { type: 'string' } },
              expires_at: { type: 'string', format: 'date-time' },
            },
          },
          created_by: { type: 'string' },
          description: { type: 'string' },
        },
      },
      Pop: {
        type: 'object',
        properties: {
          id: { type: 'string' }, region: { type: 'string' }, httpUrl: { type: 'string' }, wsUrl: { type: 'string' },
          mesh: { type: 'string', description: 'host:port of the mesh endpoint' }, meshId: { type: 'string' },
          registeredAtMs: { type: 'integer' }, lastSeenMs: { type: 'integer' },
        },
      },
      ...hookSchemas,
      Usage: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          properties: { messages: { type: 'integer' }, bytes: { type: 'integer' }, connectionMinutes: { type: 'number' } },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    ...hookPaths,
    '/ping': { get: { summary: 'Liveness: body `pong`', security: [], responses: { '200': { description: 'pong' } } } },
    '/healthz': { get: { summary: 'Health, including the store', security: [], responses: { '200': ok('ok'), '503': err } } },
    '/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': ok('OpenAPI document') } } },
    '/v1/tenants': {
      get: { summary: 'List tenants (operator)', responses: { '200': ok('tenants', { type: 'object', properties: { tenants: { type: 'array', items: { $ref: '#/components/schemas/Tenant' } } } }), ...errors } },
      post: {
        summary: 'Create a tenant (operator)',
        requestBody: body({ type: 'object', required: ['id'], properties: { id: { type: 'string' }, name: { type: 'string' }, limits: { $ref: '#/components/schemas/Limits' } } }),
        responses: { '201': ok('created', { $ref: '#/components/schemas/Tenant' }), ...errors },
      },
    },
    '/v1/tenants/{tenant}': {
      parameters: [tenantParam],
      get: { summary: 'A tenant with its limits (operator, or its master token)', responses: { '200': ok('tenant'), ...errors } },
      patch: { summary: 'Rename a tenant (operator)', requestBody: body({ type: 'object', properties: { name: { type: 'string' } } }), responses: { '200': ok('tenant'), ...errors } },
      delete: { summary: 'Delete a tenant, its master tokens, limits and webhooks (operator)', responses: { '200': ok('deleted'), ...errors } },
    },
    '/v1/tenants/{tenant}/master-tokens': {
      parameters: [tenantParam],
      get: { summary: 'List master tokens (ids only; secrets are never returned again)', responses: { '200': ok('master tokens'), ...errors } },
      post: {
        summary: 'Create a master token; the token text is in this response only',
        requestBody: { required: false, content: json({ type: 'object', properties: { description: { type: 'string' } } }) },
        responses: { '201': ok('created', { type: 'object', properties: { id: { type: 'string' }, token: { type: 'string' } } }), ...errors },
      },
    },
    '/v1/tenants/{tenant}/master-tokens/{id}': {
      parameters: [tenantParam, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      delete: { summary: 'Delete a master token', responses: { '200': ok('deleted'), ...errors } },
    },
    '/v1/tenants/{tenant}/limits': {
      parameters: [tenantParam],
      get: { summary: 'Limits of a tenant', responses: { '200': ok('limits', { $ref: '#/components/schemas/Limits' }), ...errors } },
      put: { summary: 'Replace the limits of a tenant (pushed to every PoP)', requestBody: body({ $ref: '#/components/schemas/Limits' }), responses: { '200': ok('limits'), ...errors } },
    },
    '/v1/tenants/{tenant}/usage': {
      parameters: [tenantParam, { name: 'month', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{4}-\\d{2}$' } }],
      get: { summary: 'Usage of a tenant aggregated over PoPs', responses: { '200': ok('usage'), ...errors } },
    },
    '/v1/get-token': {
      post: {
        summary: 'Issue an access token (contract v0.1 §7); tenant master tokens only for their own tenant',
        requestBody: body({ $ref: '#/components/schemas/GetTokenRequest' }),
        responses: { '200': ok('token', { type: 'object', properties: { token: { type: 'string' } } }), ...errors },
      },
    },
    '/v1/refresh-token': {
      put: {
        summary: 'Change a token\'s expiry (contract v0.1 §7); the token text stays the same',
        requestBody: body({ type: 'object', required: ['token_id', 'expires_at'], properties: { token_id: { type: 'string' }, expires_at: { type: 'string' } } }),
        responses: { '200': ok('refreshed', { type: 'object', properties: { message: { type: 'string' }, new_expires_at: { type: 'string' } } }), ...errors },
      },
    },
    '/v1/revoke-token': {
      delete: {
        summary: 'Revoke a token (contract v0.1 §7, JSON body); every PoP refuses it within 1 s',
        requestBody: body({ type: 'object', required: ['token'], properties: { token: { type: 'string' } } }),
        responses: { '200': ok('revoked', { type: 'object', properties: { message: { type: 'string' } } }), ...errors },
      },
    },
    '/v1/network/map-token': {
      get: {
        summary: 'Read-only token of the public live map: subscribe-only to net.# of the system tenant, where every PoP publishes its health, links and routes; with the PoPs to connect to',
        security: [],
        responses: {
          '200': ok('Map token', {
            type: 'object',
            required: ['token', 'tenant', 'pattern', 'expiresAt', 'edges'],
            properties: {
              token: { type: 'string' },
              tenant: { type: 'string' },
              pattern: { type: 'string' },
              expiresAt: { type: 'string', format: 'date-time' },
              edges: { type: 'array', items: { type: 'object', properties: { pop: { type: 'string' }, region: { type: 'string' }, httpUrl: { type: 'string' }, wsUrl: { type: 'string' } } } },
            },
          }),
          '503': err,
        },
      },
    },
    '/v1/tenants/{tenant}/tokens': {
      get: {
        summary: "The tenant's unexpired access tokens, newest first (at most 500), without secrets",
        parameters: [tenantParam],
        responses: {
          '200': ok('Tokens', {
            type: 'object',
            properties: {
              tokens: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { id: { type: 'string' }, description: { type: ['string', 'null'] }, createdBy: { type: 'string' }, createdAt: { type: 'string' }, expiresAt: { type: 'string' }, revoked: { type: 'boolean' } },
                },
              },
            },
          }),
          ...errors,
        },
      },
    },
    '/v1/tenants/{tenant}/tokens/{id}': {
      delete: {
        summary: 'Revoke one of the tenant\'s access tokens by id; every PoP closes its live connections. Idempotent.',
        parameters: [tenantParam, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': ok('Revoked', { type: 'object', properties: { message: { type: 'string' } } }), ...errors },
      },
    },
    '/v1/tenants/{tenant}/console-token': {
      post: {
        summary: "A one-hour token for the web console: publish and subscribe in the tenant, and read the tenant's per-PoP traffic stats (tenant.<tenant>.stats.<pop> on the system tenant); with the PoPs to connect to",
        parameters: [tenantParam],
        responses: {
          '201': ok('Console token', {
            type: 'object',
            properties: { token: { type: 'string' }, tenant: { type: 'string' }, statsTenant: { type: 'string' }, statsPattern: { type: 'string' }, expiresAt: { type: 'string' }, edges: { type: 'array' } },
          }),
          ...errors,
        },
      },
    },
    '/v1/keys': { get: { summary: 'Published verification keys (JWKS)', security: [], responses: { '200': ok('JWKS', { type: 'object', properties: { keys: { type: 'array' } } }) } } },
    '/v1/keys/rotate': { post: { summary: 'Add a new signing key; old keys stay published until their tokens expire', responses: { '200': ok('rotated'), ...errors } } },
    '/v1/pops': { get: { summary: 'The PoP registry (lease-backed; the mesh discovers peers here)', responses: { '200': ok('pops', { type: 'object', properties: { pops: { type: 'array', items: { $ref: '#/components/schemas/Pop' } } } }), ...errors } } },
    '/v1/pops/{pop}': {
      parameters: [{ name: 'pop', in: 'path', required: true, schema: { type: 'string' } }],
      put: { summary: 'Register or heartbeat a PoP (renews its lease)', requestBody: body({ type: 'object', properties: { region: { type: 'string' }, httpUrl: { type: 'string' }, wsUrl: { type: 'string' }, mesh: { type: 'string' }, meshId: { type: 'string' } } }), responses: { '200': ok('pop', { $ref: '#/components/schemas/Pop' }), ...errors } },
    },
    '/v1/pops/{pop}/usage': {
      parameters: [{ name: 'pop', in: 'path', required: true, schema: { type: 'string' } }],
      post: { summary: 'Report cumulative per-tenant usage of one PoP process for one month', requestBody: body({ type: 'object', properties: { boot: { type: 'string' }, month: { type: 'string' }, usage: { type: 'object' } } }), responses: { '200': ok('accepted'), ...errors } },
    },
    '/v1/usage': {
      get: {
        summary: 'Usage of every tenant',
        parameters: [{ name: 'month', in: 'query', required: false, schema: { type: 'string' } }],
        responses: { '200': ok('usage', { type: 'object', properties: { usage: { $ref: '#/components/schemas/Usage' } } }), ...errors },
      },
    },
    '/v1/usage/export': {
      get: {
        summary: 'Billing export: usage of every tenant (or ?tenant=) in one month, the numbers the monthly quota counts, as JSON or CSV',
        parameters: [...exportParams, { name: 'tenant', in: 'query', required: false, schema: { type: 'string' } }],
        responses: { '200': usageExport, ...errors },
      },
    },
    '/v1/tenants/{tenant}/usage/export': {
      parameters: [tenantParam],
      get: { summary: "Billing export of one tenant's month (its master token may call it)", parameters: exportParams, responses: { '200': usageExport, ...errors } },
    },
    '/v1/watch': {
      get: {
        summary: 'Config and revocation stream for PoPs: JSON lines, a snapshot first, then deltas, and a ping every 2 s',
        responses: { '200': { description: 'stream', content: { 'application/x-ndjson': { schema: { type: 'object' } } } }, ...errors },
      },
    },
  },
} as const;
