// The OpenAPI 3.1 document of a relay's (PoP's) HTTP API, served at /openapi.json. Written by
// hand; test/relay-openapi.test.ts checks that every documented path answers on a real relay.
// The control service has its own document (packages/control/src/openapi.ts).

const json = (schema: object): object => ({ 'application/json': { schema } });
const ok = (description: string, schema: object = { type: 'object' }): object => ({ description, content: json(schema) });
const err = (description: string): object => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });
const tooMany = {
  description: 'Rate limit or quota exceeded',
  headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } },
  content: json({ $ref: '#/components/schemas/Error' }),
};
const publishErrors = {
  '400': err('Invalid name, path, Idempotency-Key or batch item (the message names the item)'),
  '401': err('Missing, bad, expired or revoked access token'),
  '403': err('The token has no publish grant for the channel'),
  '413': err('Payload larger than the payload limit'),
  '429': tooMany,
};
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'The same key (per tenant) within 60 s publishes once, at whichever PoP it is sent to.',
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
};
const pathParam = (name: string): object => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const master = [{ bearer: [] }];

export const relayOpenapi = {
  openapi: '3.1.0',
  info: {
    title: 'FastPubSub relay (PoP)',
    version: '0.1.0',
    description:
      'The HTTP API of every PoP: contract v0.1 REST (ping, token calls with the master token), discovery, ' +
      'health, metrics, mesh views, HTTPS publish and presence (access token `AT_…` as Bearer).',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error', 'message'],
        properties: { error: { type: 'string' }, message: { type: 'string' }, detail: { type: 'string' } },
      },
      BatchItem: {
        type: 'object',
        required: ['tenant', 'channel'],
        additionalProperties: false,
        properties: {
          tenant: { type: 'string' },
          channel: { type: 'string' },
          data: { type: 'string', contentEncoding: 'base64' },
          text: { type: 'string' },
          idempotency_key: { type: 'string' },
        },
      },
      ItemResult: {
        type: 'object',
        required: ['status'],
        properties: { status: { type: 'integer' }, id: { type: 'string' }, error: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  security: [],
  paths: {
    '/ping': {
      get: {
        summary: 'Liveness for edge selection (body `pong`; 503 while draining, so clients pick another edge)',
        responses: { '200': { description: 'pong', content: { 'text/plain': { schema: { const: 'pong' } } } }, '503': err('shutting_down: the relay is draining') },
      },
    },
    '/healthz': { get: { summary: 'Health (503 while shutting down)', responses: { '200': ok('ok'), '503': ok('shutting down') } } },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': ok('OpenAPI 3.1') } } },
    '/v1/webtransport': {
      get: {
        summary: 'WebTransport: UDP port, CONNECT path and the certificate hashes to pass as serverCertificateHashes (empty with a CA-issued certificate)',
        responses: {
          '200': ok('webtransport', {
            type: 'object',
            properties: {
              enabled: { type: 'boolean', description: 'false when the QUIC edge (and so WebTransport) is disabled' },
              port: { type: ['integer', 'null'] },
              path: { type: 'string' },
              serverCertificateHashes: { type: 'array', items: { type: 'object', properties: { algorithm: { type: 'string', enum: ['sha-256'] }, value: { type: 'string', format: 'byte' } } } },
            },
          }),
        },
      },
    },
    '/v1/edges': { get: { summary: 'Discovery: the edges to offer clients', responses: { '200': ok('edges', { type: 'object', properties: { edges: { type: 'array', items: { type: 'string' } } } }) } } },
    '/v1/mesh/links': { get: { summary: 'Mesh links of this PoP', responses: { '200': ok('links'), '404': err('no mesh') } } },
    '/v1/mesh/routes': { get: { summary: 'Mesh routes of this PoP', responses: { '200': ok('routes'), '404': err('no mesh') } } },
    '/v1/get-token': { post: { summary: 'Issue an access token (contract v0.1 §7)', security: master, responses: { '200': ok('token'), '400': err('bad body'), '401': err('bad master token') } } },
    '/v1/refresh-token': { put: { summary: 'Change a token expiry', security: master, responses: { '200': ok('refreshed'), '400': err('bad body'), '401': err('bad master token') } } },
    '/v1/revoke-token': { delete: { summary: 'Revoke a token (JSON body)', security: master, responses: { '200': ok('revoked'), '400': err('bad body'), '401': err('bad master token') } } },
    '/v1/publish/{tenant}/{channel}': {
      post: {
        summary: 'Publish the request body, as is, to one channel',
        security: [{ bearer: [] }],
        parameters: [pathParam('tenant'), pathParam('channel'), idempotencyKey],
        requestBody: { required: false, content: { '*/*': { schema: { type: 'string', format: 'binary', maxLength: 65535 } } } },
        responses: { '202': ok('accepted', { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' } } }), ...publishErrors },
      },
    },
    '/v1/publish': {
      post: {
        summary: 'Publish a batch (JSON array), answered per item',
        description: 'A malformed item fails the whole request with 400 (or 413) naming the item; otherwise each item gets its own status. An Idempotency-Key header applies to item i as `{key}/{i}` unless the item has its own key.',
        security: [{ bearer: [] }],
        parameters: [idempotencyKey],
        requestBody: { required: true, content: json({ type: 'array', minItems: 1, maxItems: 1000, items: { $ref: '#/components/schemas/BatchItem' } }) },
        responses: {
          '202': ok('per-item results', { type: 'object', properties: { results: { type: 'array', items: { $ref: '#/components/schemas/ItemResult' } } } }),
          ...publishErrors,
        },
      },
    },
    '/v1/hooks/{hookId}': {
      post: {
        summary: 'Inbound webhook: verify the signature of the hook\'s scheme and publish the body, as is, to its channel',
        description:
          'The hook is registered in the control plane (docs/webhooks.md). Schemes: Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), ' +
          'GitHub (X-Hub-Signature-256), Stripe (Stripe-Signature), or none; timestamps within 300 s. The channel is fixed or named by a JSON pointer into the body.',
        security: [],
        parameters: [
          pathParam('hookId'),
          { name: 'webhook-signature', in: 'header', required: false, schema: { type: 'string' } },
          { name: 'X-Hub-Signature-256', in: 'header', required: false, schema: { type: 'string' } },
          { name: 'Stripe-Signature', in: 'header', required: false, schema: { type: 'string' } },
        ],
        requestBody: { required: false, content: { '*/*': { schema: { type: 'string', format: 'binary', maxLength: 65535 } } } },
        responses: {
          '202': ok('published', { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' } } }),
          '400': err('The body names no valid channel (JSON-pointer hooks)'),
          '401': err('signature_invalid: missing header, bad signature, or timestamp outside the tolerance (detail says which); nothing is published'),
          '404': err('No such hook'),
          '413': err('Payload larger than the payload limit'),
          '429': tooMany,
        },
      },
    },
    '/v1/presence/{tenant}/{channel}': {
      get: {
        summary: 'Who is present in a channel, mesh-wide: the count and one page of members ordered by client id',
        security: [{ bearer: [] }],
        parameters: [
          pathParam('tenant'),
          pathParam('channel'),
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'after', in: 'query', required: false, description: 'The `next` cursor of the previous page', schema: { type: 'string' } },
        ],
        responses: {
          '200': ok('presence', {
            type: 'object',
            required: ['count', 'members', 'next'],
            properties: {
              count: { type: 'integer' },
              members: { type: 'array', items: { type: 'object', required: ['clientId'], properties: { clientId: { type: 'string' }, data: {} } } },
              next: { type: ['string', 'null'] },
            },
          }),
          '400': err('Invalid name or limit'),
          '401': err('Missing, bad, expired or revoked access token'),
          '403': err('The token may not subscribe to the channel'),
        },
      },
    },
  } as Record<string, object>,
};
