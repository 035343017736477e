// Composition root: the one place that builds a relay out of its parts (config, token store
// and service, subscription index, metrics, the WebSocket edge and the REST api) and serves
// them on one port, http or https. Nothing else constructs the world (STYLE.md #8).
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import {
  ErrorCode,
  FpsError,
  assertPrivate,
  createLogger,
  isFpsError,
  resolveRelayConfig,
  systemClock,
  type Clock,
  type Logger,
  type RelayConfig,
  type RelayConfigInput,
} from '@fastpubsub/core';
import { AuthFailureThrottle } from '@fastpubsub/protocol';
import { EmbeddedTokenStore, TokenService, throttledVerifier } from './auth/index.js';
import { ControlClient } from './control-client/index.js';
import { RegistryDiscovery } from './mesh/link/registry-discovery.js';
import { Admission, FanoutBudget, PreAuthGate, RefusalCounters, TenantCapacity, prepareDescriptorLimit, acceptErrorLogger } from './limits/index.js';
import { registerAdmissionMetrics } from './limits/metrics.js';
import { Dispatcher } from './delivery/index.js';
import { RelayMetrics } from './metrics.js';
import { createHttpApi } from './edge/http/api.js';
import { HttpPublisher } from './edge/http/publish.js';
import { Webhooks } from './webhooks/index.js';
import { presenceRoutes } from './edge/http/presence.js';
import { PresenceService } from './presence/service.js';
import { WsEdge } from './edge/ws/edge.js';
import { QuicEdge } from './edge/quic/edge.js';
import { loadQuicTls } from './edge/quic/tls.js';
import { MqttEdge } from './edge/mqtt/edge.js';
import { startMesh, type Mesh } from './mesh/start.js';
import { EdgeAgent } from './agent/index.js';
import { startBridges, validateBridges, type Bridges, type CarrierView } from './bridges/index.js';
import { createTelemetry, startNetworkState, startTenantStats } from './telemetry-wiring.js';
import { WEBTRANSPORT_PATH, WebTransportDevCerts, webTransportInfo } from './edge/webtransport/index.js';

/** A batch publish body holds up to this many bytes (base64 inflates payloads by a third), and this many items. */
const HTTP_BATCH_MAX_BYTES = 4 * 1024 * 1024;
const HTTP_BATCH_MAX_ITEMS = 1000;

export interface RelayDeps {
  logger?: Logger;
  /** The relay's one clock (default: the system's); the mesh and token expiry read it. */
  clock?: Clock;
  /** Wall clock in ms since the epoch (token expiry); default clock.wallNow. */
  now?: () => number;
  /** Uniform [0, 1) for deliver-one picks; default Math.random. */
  random?: () => number;
}

export interface Relay {
  readonly host: string;
  /** The bound port (the ephemeral one when configured with port 0). */
  readonly port: number;
  /** `http://host:port` or `https://host:port`. */
  readonly httpUrl: string;
  /** `ws://host:port/ws` or `wss://host:port/ws`. */
  readonly wsUrl: string;
  /** The bound UDP port of the QUIC edge (ALPN fastpubsub/1); undefined when quic.enabled is false. */
  readonly quicPort: number | undefined;
  /** The CA certificate QUIC clients must trust when the relay generated its own (no cert configured). */
  readonly quicCaPem: string | undefined;
  /**
   * With a generated QUIC identity: the self-signed certificate served now to WebTransport
   * (ALPN h3) clients, which browsers pin by hash (GET /v1/webtransport); Node clients may trust it as their CA.
   */
  readonly webTransportCertPem: string | undefined;
  /** The bound TCP port of the MQTT listener; undefined without config `mqtt`. */
  readonly mqttPort: number | undefined;
  /** The relay mesh (config `mesh`), undefined for a standalone relay. */
  readonly mesh: Mesh | undefined;
  /** Set on an edge agent (config `mesh.agent`, docs/agent.md). */
  readonly agent: EdgeAgent | undefined;
  readonly config: RelayConfig;
  metricsText(): Promise<string>;
  /**
   * Graceful stop: no new connections, RECONNECT to every client, serve them for `graceMs`
   * (default `reconnectGraceMs`, never more than `shutdownGraceMs`) or until they leave, then
   * close with 1001. Idempotent; always settles in bounded time.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

export async function startRelay(input: RelayConfigInput, deps: RelayDeps = {}): Promise<Relay> {
  let config = resolveRelayConfig(input);
  validateBridges(config.bridges);
  const logger = deps.logger ?? createLogger({ level: config.logLevel }, { component: 'relay' });
  const clock = deps.clock ?? systemClock;
  const now = deps.now ?? (() => clock.wallNow());
  const random = deps.random ?? Math.random;
  const tlsOptions = config.tls === undefined ? undefined : await readTls(config.tls);

  const store = await EmbeddedTokenStore.open(config.dataDir, { now });
  const tokens = new TokenService({
    store,
    now,
    logger,
    rateDefaults: { ingressKbPerSec: config.limits.defaultIngressKbPerSec, egressKbPerSec: config.limits.defaultEgressKbPerSec },
  });
  await tokens.start();
  let shuttingDown = false;
  // The edge needs the metrics and the metrics' gauges read the edge; the gauge reads happen
  // only on scrape, long after both exist.
  const built: { edge?: WsEdge; quic?: QuicEdge; mqtt?: MqttEdge; mesh?: Mesh; agent?: EdgeAgent | undefined } = {};
  const metrics = new RelayMetrics({
    connections: (name) => (name === 'ws' ? built.edge?.connectionCount : built.quic?.connectionCount) ?? 0,
    subscriptions: (): number => dispatcher.size,
  });
  // Both edges (and the mesh) feed this one fan-out core.
  const fanoutBudget = new FanoutBudget(config.limits.maxDeliveriesPerTenantPerSecond);
  const dispatcher: Dispatcher = new Dispatcher({ metrics, random, charge: (tenant, n) => fanoutBudget.charge(tenant, n, now()) });
  // With a control plane: signed tickets verified locally, limits enforced, token calls forwarded.
  const cc = config.control;
  const admission = cc === undefined ? undefined : new Admission({ ipAttemptsPerSecond: cc.ipAttemptsPerSecond ?? 0 });
  const advertised: { httpUrl: string; wsUrl: string; mesh?: string; meshId?: string } = { httpUrl: '', wsUrl: '' };
  const control =
    cc === undefined || admission === undefined
      ? undefined
      : new ControlClient({
          urls: cc.urls,
          token: cc.token,
          ...(cc.caFile === undefined ? {} : { caFile: cc.caFile }),
          popId: cc.popId ?? `${config.region}-${config.listen.host}-${config.listen.port}`,
          region: config.region,
          advertise: () => advertised,
          dataDir: config.dataDir,
          admission,
          logger: logger.child({ component: 'control-client' }),
          now,
          ...(cc.heartbeatMs === undefined ? {} : { heartbeatMs: cc.heartbeatMs }),
          ...(cc.usageReportMs === undefined ? {} : { usageReportMs: cc.usageReportMs }),
          hookCounts: (): ReturnType<Webhooks['counts']> => webhooks.counts(),
        });
  // Hooks come from the control plane (none without one): inbound at POST /v1/hooks/{id}, outbound from the origin PoP.
  const webhooks = new Webhooks({
    dispatcher, admission, maxPayloadBytes: config.limits.maxPayloadBytes, registry: metrics.registry, logger: logger.child({ component: 'webhooks' }), now,
    outbound: { allowHttp: cc?.webhooksAllowHttp ?? false },
  });
  control?.state.onChange((ev) => {
    if (ev.type === 'snapshot' || ev.type === 'hooks') webhooks.setHooks(control.state.hooks);
  });
  if (admission !== undefined) registerAdmissionMetrics(metrics.registry, admission);
  if (admission !== undefined) dispatcher.setLatestPolicy((tenant, channel) => admission.isLatest(tenant, channel));
  const connectionRefusals = new RefusalCounters(
    metrics.registry,
    'fastpubsub_connections_refused_total',
    'Connections cut or refused by connection limits (pre-auth cap, per IP, handshake deadline, capacity), by edge and reason.',
    ['edge', 'reason'],
  );
  const authThrottle = new AuthFailureThrottle({
    failuresPerIp: config.limits.authFailuresPerIp,
    counters: new RefusalCounters(metrics.registry, 'fastpubsub_auth_failures_total', 'Failed authentications (and attempts refused while throttled), by edge and reason.', ['edge', 'reason']),
    logger: logger.child({ component: 'auth' }),
  });
  // Client telemetry: GeoIP, User-Agent and bot signals per connection, top-K tenants and channels.
  const telemetry = createTelemetry({ registry: metrics.registry, dispatcher, logger, now, onPublish: (msg) => webhooks.observe(msg) });
  const verifier = telemetry.watchAuth(control?.verifier ?? tokens);
  const presence = PresenceService.fromConfig(config.presence, metrics.registry);
  presence.start();
  const capacity = new TenantCapacity(config.limits);
  const edge = new WsEdge({
    config,
    verifier: throttledVerifier(authThrottle, verifier, 'ws'),
    dispatcher,
    metrics,
    logger,
    now,
    capacity,
    presence,
    observer: telemetry.insights,
    ...(admission === undefined ? {} : { admission }),
    // The mesh starts after the edges; until then (and without one) this relay is the whole network.
    interestReady: (timeoutMs) => built.mesh?.interestReady(timeoutMs) ?? Promise.resolve(true),
  });
  built.edge = edge;

  const publisher = new HttpPublisher({
    verifier,
    dispatcher,
    admission,
    maxPayloadBytes: config.limits.maxPayloadBytes,
    maxBatchBytes: HTTP_BATCH_MAX_BYTES,
    maxBatchItems: HTTP_BATCH_MAX_ITEMS,
    region: config.region,
    now,
    registry: metrics.registry,
  });
  const api = createHttpApi({
    publish: publisher,
    prefixRoutes: [presenceRoutes({ verifier, presence, region: config.region }), webhooks.route()],
    masterToken: config.masterToken,
    maxBodyBytes: config.limits.maxHttpBodyBytes,
    tokens,
    metrics,
    edges: () => config.discovery.edges,
    webTransport: () => webTransportInfo(built.quic?.port, WEBTRANSPORT_PATH, webTransportCerts),
    isShuttingDown: () => shuttingDown,
    mesh: () => built.mesh,
    logger,
    authThrottle,
    publicMeshIntrospection: config.mesh?.publicIntrospection ?? false,
    ...(control === undefined ? {} : { tokenProxy: (op, auth, body) => control.forwardToken(op, auth, body) }),
  });
  const server: HttpServer = tlsOptions === undefined ? createHttpServer(api) : createHttpsServer(tlsOptions, api);
  server.on('upgrade', (req, socket, head: Buffer) => edge.handleUpgrade(req, socket, head));
  server.on('clientError', (_err, socket) => socket.destroy());
  // Before the gate reads it: every connection is a descriptor.
  prepareDescriptorLimit(config.limits, logger);
  new PreAuthGate(config.limits, (reason) => connectionRefusals.inc({ edge: 'ws', reason })).attach(server);

  try {
    await control?.start();
    await listen(server, config.listen.host, config.listen.port);
  } catch (err) {
    await control?.close();
    await store.close();
    throw err;
  }
  server.on('error', acceptErrorLogger(logger));
  const port = (server.address() as AddressInfo).port;
  if (config.listen.port === 0) config = withBoundPort(config, port);

  // The QUIC edge starts once HTTP is bound, so both are up (or neither) when startRelay resolves.
  let quicCaPem: string | undefined;
  let webTransportCerts: WebTransportDevCerts | undefined;
  if (config.quic.enabled) {
    try {
      const quicTls = await loadQuicTls(config, logger);
      quicCaPem = quicTls.caPem;
      // A generated identity: browsers get a short-lived certificate they pin by hash.
      if (quicTls.caPem !== undefined) {
        webTransportCerts = new WebTransportDevCerts({ names: quicTls.names ?? ['localhost', '127.0.0.1'], onServe: (c) => built.quic?.setWebTransportCertificate(c.certPem, c.keyPem) });
        quicTls.webTransport = { h3CertPem: webTransportCerts.serving.certPem, h3KeyPem: webTransportCerts.serving.keyPem };
        webTransportCerts.start();
      }
      built.quic = new QuicEdge({
        config,
        verifier: throttledVerifier(authThrottle, verifier, 'quic'),
        dispatcher,
        metrics,
        logger: logger.child({ component: 'quic-edge' }),
        now,
        tls: quicTls,
        onRefused: (reason) => connectionRefusals.inc({ edge: 'quic', reason }),
        capacity,
        observer: telemetry.insights,
        presence,
        ...(admission === undefined ? {} : { admission }),
      });
    } catch (err) {
      server.close();
      await control?.close();
      await store.close();
      throw nameTheSocket(err, 'QUIC edge', config.quic.listen, 'quic.listen, --quic-listen');
    }
    logger.info('quic edge listening', { host: config.quic.listen.host, port: built.quic.port, alpn: 'fastpubsub/1, h3 (WebTransport at /fastpubsub, / and /wt)' });
  }
  const quicEdge = built.quic;
  if (config.mqtt !== undefined) {
    try {
      built.mqtt = await MqttEdge.start({
        config: config.mqtt,
        relayConfig: config,
        verifier,
        dispatcher,
        registry: metrics.registry,
        logger: logger.child({ component: 'mqtt-edge' }),
        now,
        ...(admission === undefined ? {} : { admission }),
      });
    } catch (err) {
      server.close();
      await quicEdge?.shutdown(0, 250);
      await control?.close();
      await store.close();
      throw err;
    }
    logger.info('mqtt listening', { host: config.mqtt.listen.host, port: built.mqtt.port });
  }
  const mqttEdge = built.mqtt;
  let stopDiscovery = (): void => undefined;
  try {
    // With a control plane, the mesh also dials the PoPs of its registry, unless peer discovery
    // is off (behind a link emulator only the configured, emulated paths may be used).
    const discovery =
      control === undefined || config.mesh === undefined || !config.mesh.peerExchange
        ? undefined
        : new RegistryDiscovery({ seeds: config.mesh.seeds, peerExchange: config.mesh.peerExchange, self: () => built.mesh?.id });
    // An edge agent (docs/agent.md): the mesh dials one PoP (the uplink selector's choice), sees
    // only its tenant's interest and hands fabric-bound publishes to the outage queue.
    built.agent = config.mesh?.agent === undefined ? undefined : await EdgeAgent.create(config.mesh, { registry: metrics.registry, logger, now: () => clock.now() });
    const meshDeps = built.agent === undefined
      ? { delivery: dispatcher, presence, ...(discovery === undefined ? {} : { discovery }) }
      : { delivery: built.agent.wrapDelivery(dispatcher), discovery: built.agent.uplink };
    built.mesh = await startMesh(config, { ...meshDeps, registry: metrics.registry, logger, clock });
    if (built.mesh !== undefined) built.agent?.start(built.mesh);
    if (built.mesh !== undefined && config.mesh !== undefined) {
      advertised.mesh = config.mesh.advertise ?? `${config.mesh.listen.host}:${built.mesh.address.port}`;
      advertised.meshId = built.mesh.id;
    }
    if (discovery !== undefined && control !== undefined) {
      discovery.start(control, control.heartbeatMs);
      stopDiscovery = () => discovery.stop();
    }
  } catch (err) {
    server.close();
    await quicEdge?.shutdown(0, 250);
    await mqttEdge?.shutdown(250);
    await control?.close();
    await store.close();
    throw config.mesh === undefined ? err : nameTheSocket(err, 'mesh', config.mesh.listen, 'mesh.listen');
  }
  const mesh = built.mesh;
  const bridges: Bridges | undefined =
    config.bridges.length === 0
      ? undefined
      : startBridges(config.bridges, { dispatcher, registry: metrics.registry, logger: logger.child({ component: 'bridges' }), carrier: () => carrierView(mesh) });
  // The PoP's links, routes and health on the system tenant (the live map, docs/console.md).
  const stopNetworkState =
    mesh === undefined || built.agent !== undefined
      ? undefined
      : startNetworkState({
          source: mesh,
          dispatcher,
          region: config.region,
          location: config.location,
          connections: () => (built.edge?.connectionCount ?? 0) + (built.quic?.connectionCount ?? 0),
          now,
        });
  // Each tenant's traffic here, for its console (needs the per-tenant counters of admission).
  const tenantStats =
    admission === undefined ? undefined : startTenantStats({ pop: mesh?.id ?? cc?.popId ?? config.region, telemetry, admission, dispatcher, metrics, now });

  const host = config.listen.host;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const secure = tlsOptions !== undefined;
  const httpUrl = `${secure ? 'https' : 'http'}://${hostForUrl}:${port}`;
  const wsUrl = `${secure ? 'wss' : 'ws'}://${hostForUrl}:${port}/ws`;
  logger.info('relay listening', { url: httpUrl, region: config.region, dataDir: config.dataDir });
  advertised.httpUrl = httpUrl;
  advertised.wsUrl = wsUrl;
  control?.announce(cc?.popId === undefined ? `${config.region}-${host}-${port}` : undefined);

  let closing: Promise<void> | undefined;
  const close = async (graceMs: number | undefined): Promise<void> => {
    shuttingDown = true;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const drainMs = Math.min(graceMs ?? config.reconnectGraceMs, config.shutdownGraceMs);
    const closeMs = Math.min(2000, Math.max(250, config.shutdownGraceMs - drainMs));
    stopDiscovery();
    tenantStats?.stop();
    telemetry.stop();
    stopNetworkState?.();
    await bridges?.close();
    // The mesh stays up while the edges drain: clients that got RECONNECT are still served
    // through it (messages from other PoPs) until they moved to another edge.
    webTransportCerts?.stop();
    await Promise.all([edge.shutdown(drainMs, closeMs), quicEdge?.shutdown(drainMs, closeMs), mqttEdge?.shutdown(closeMs)]);
    built.agent?.close();
    await mesh?.close();
    presence.close();
    webhooks.close();
    server.closeAllConnections();
    await serverClosed;
    await control?.close();
    await store.close();
    logger.info('relay stopped');
  };

  return {
    host,
    port,
    httpUrl,
    wsUrl,
    quicPort: quicEdge?.port,
    quicCaPem,
    get webTransportCertPem() {
      return webTransportCerts?.serving.certPem;
    },
    mqttPort: mqttEdge?.port,
    mesh,
    agent: built.agent,
    get config() {
      return config;
    },
    metricsText: () => metrics.text(),
    close: (options) => (closing ??= close(options?.graceMs)),
  };
}

/** Who may carry a bridge: the live PoPs (self included) whose marker interest the mesh knows. */
function carrierView(mesh: Mesh | undefined): CarrierView {
  if (mesh === undefined) return { selfId: undefined, livePopsWanting: () => [] };
  const reachable = new Set(mesh.routes().map((r) => r.dest));
  return { selfId: mesh.id, livePopsWanting: (tenant, channel) => mesh.interest.destinationsFor(tenant, channel).filter((p) => p === mesh.id || reachable.has(p)) };
}

async function readTls(tls: { certFile: string; keyFile: string }): Promise<{ cert: Buffer; key: Buffer }> {
  await assertPrivate(tls.keyFile, 'tls.keyFile');
  const read = async (key: 'certFile' | 'keyFile'): Promise<Buffer> => {
    try {
      return await readFile(tls[key]);
    } catch (err) {
      throw new FpsError(ErrorCode.ConfigInvalid, `tls.${key}: cannot read ${tls[key]}: ${(err as Error).message}`, { cause: err });
    }
  };
  return { cert: await read('certFile'), key: await read('keyFile') };
}

function listen(server: HttpServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** With port 0 the real port is known only now; the default discovery entry must carry it. */
function withBoundPort(config: RelayConfig, port: number): RelayConfig {
  const unbound = `${config.listen.host}:0`;
  return {
    ...config,
    listen: { ...config.listen, port },
    discovery: { edges: config.discovery.edges.map((e) => (e === unbound ? `${config.listen.host}:${port}` : e)) },
  };
}

/**
 * A bind failure from the native QUIC layer says only "bind HOST:PORT"; both the QUIC edge and
 * the mesh listen on UDP, so say which one and which setting moves it.
 */
function nameTheSocket(err: unknown, what: string, listen: { host: string; port: number }, setting: string): unknown {
  if (isFpsError(err) || !(err instanceof Error) || !/bind|in use/i.test(err.message)) return err;
  return new FpsError(ErrorCode.ConfigInvalid, `${what}: cannot listen on UDP ${listen.host}:${listen.port} (${setting}): ${err.message}`, { cause: err });
}
