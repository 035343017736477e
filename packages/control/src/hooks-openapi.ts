// The OpenAPI paths and schemas of the webhook routes (hooks.ts), spread into openapi.ts.
import { INBOUND_SCHEMES } from '@fastpubsub/protocol';

const json = (schema: object): object => ({ 'application/json': { schema } });
const ok = (description: string, schema: object = { type: 'object' }): object => ({ description, content: json(schema) });
const err = { description: 'Error', content: json({ $ref: '#/components/schemas/Error' }) };
const errors = { '400': err, '401': err, '403': err, '404': err, '503': err };
const tenantParam = { name: 'tenant', in: 'path', required: true, schema: { type: 'string' } };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const body = (schema: object): object => ({ required: true, content: json(schema) });

export const hookSchemas = {
  InboundHookRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['scheme'],
    description: 'Exactly one of channel or channelPointer.',
    properties: {
      channel: { type: 'string', description: 'Fixed target channel' },
      channelPointer: { type: 'string', description: 'JSON pointer (RFC 6901) into the body naming the channel, e.g. /repository/name' },
      scheme: { enum: [...INBOUND_SCHEMES] },
      secret: { type: 'string', description: 'The sender\'s secret (github, stripe); for standard a whsec_ secret, generated when omitted; none takes none' },
    },
  },
  InboundHook: {
    type: 'object',
    properties: {
      id: { type: 'string' }, tenant: { type: 'string' }, direction: { const: 'in' }, channel: { type: 'string' }, channelPointer: { type: 'string' },
      scheme: { enum: [...INBOUND_SCHEMES] }, secret: { type: 'string', description: 'Only in the 201 answer' }, url: { type: 'string', description: 'Path to POST to at any PoP' },
      createdAtMs: { type: 'integer' },
    },
  },
  OutboundHookRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['pattern', 'url'],
    properties: {
      pattern: { type: 'string', description: 'Channel pattern, e.g. orders.#' },
      url: { type: 'string', description: 'https:// (http:// only to loopback, or with webhooks.allowHttp on the relay)' },
      timeoutMs: { type: 'integer', minimum: 100, maximum: 60000, default: 10000 },
      retryWindowMs: { type: 'integer', minimum: 0, maximum: 86400000, default: 300000 },
    },
  },
  OutboundHook: {
    type: 'object',
    properties: {
      id: { type: 'string' }, tenant: { type: 'string' }, direction: { const: 'out' }, pattern: { type: 'string' }, url: { type: 'string' },
      secret: { type: 'string', description: 'whsec_ signing secret; only in the 201 answer' },
      timeoutMs: { type: 'integer' }, retryWindowMs: { type: 'integer' }, createdAtMs: { type: 'integer' },
      status: {
        type: 'object',
        description: 'Delivery counts summed over PoPs',
        properties: { delivered: { type: 'integer' }, retried: { type: 'integer' }, dropped: { type: 'integer' } },
      },
    },
  },
};

const list = (ref: string): object => ok('hooks', { type: 'object', properties: { hooks: { type: 'array', items: { $ref: ref } } } });

export const hookPaths = {
  '/v1/tenants/{tenant}/hooks/inbound': {
    parameters: [tenantParam],
    get: { summary: 'List inbound hooks (secrets are not returned)', responses: { '200': list('#/components/schemas/InboundHook'), ...errors } },
    post: {
      summary: 'Register an inbound hook: any PoP then accepts POST /v1/hooks/{id} and publishes the verified body',
      requestBody: body({ $ref: '#/components/schemas/InboundHookRequest' }),
      responses: { '201': ok('created (with the secret)', { $ref: '#/components/schemas/InboundHook' }), ...errors },
    },
  },
  '/v1/tenants/{tenant}/hooks/inbound/{id}': {
    parameters: [tenantParam, idParam],
    get: { summary: 'One inbound hook', responses: { '200': ok('hook', { $ref: '#/components/schemas/InboundHook' }), ...errors } },
    delete: { summary: 'Delete an inbound hook (every PoP answers 404 for it within a second)', responses: { '200': ok('deleted'), ...errors } },
  },
  '/v1/tenants/{tenant}/hooks/outbound': {
    parameters: [tenantParam],
    get: { summary: 'List outbound hooks with their delivery status', responses: { '200': list('#/components/schemas/OutboundHook'), ...errors } },
    post: {
      summary: 'Register an outbound hook: messages matching pattern are POSTed to url, signed per Standard Webhooks',
      requestBody: body({ $ref: '#/components/schemas/OutboundHookRequest' }),
      responses: { '201': ok('created (with the signing secret)', { $ref: '#/components/schemas/OutboundHook' }), ...errors },
    },
  },
  '/v1/tenants/{tenant}/hooks/outbound/{id}': {
    parameters: [tenantParam, idParam],
    get: { summary: 'One outbound hook with its delivery status (delivered, retried, dropped)', responses: { '200': ok('hook', { $ref: '#/components/schemas/OutboundHook' }), ...errors } },
    delete: { summary: 'Delete an outbound hook', responses: { '200': ok('deleted'), ...errors } },
  },
  '/v1/pops/{pop}/hook-stats': {
    parameters: [{ name: 'pop', in: 'path', required: true, schema: { type: 'string' } }],
    post: {
      summary: 'Report cumulative outbound delivery counts per hook of one PoP process (PoP token)',
      requestBody: body({ type: 'object', required: ['hooks'], properties: { boot: { type: 'string' }, hooks: { type: 'object' } } }),
      responses: { '200': ok('accepted'), ...errors },
    },
  },
};
