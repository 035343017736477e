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
  createLogger,
  resolveRelayConfig,
  type Logger,
  type RelayConfig,
  type RelayConfigInput,
} from '@fastpubsub/core';
import { EmbeddedTokenStore, TokenService } from './auth/index.js';
import { ControlClient } from './control-client/index.js';
import { RegistryDiscovery } from './mesh/link/registry-discovery.js';
import { Admission } from './limits/index.js';
import { registerAdmissionMetrics } from './limits/metrics.js';
import { Dispatcher } from './delivery/index.js';
import { RelayMetrics } from './metrics.js';
import { createHttpApi } from './edge/http/api.js';
import { WsEdge } from './edge/ws/edge.js';
import { QuicEdge } from './edge/quic/edge.js';
import { loadQuicTls } from './edge/quic/tls.js';
import { startMesh, type Mesh } from './mesh/start.js';
import { ChannelCounter, NetworkStatePublisher, TenantStatsPublisher } from './telemetry/index.js';
import { SYSTEM_TENANT } from '@fastpubsub/protocol';
import { PublishMode } from '@fastpubsub/wire';
import { performance } from 'node:perf_hooks';

export interface RelayDeps {
  logger?: Logger;
  /** Wall clock in ms since the epoch (token expiry); default Date.now. */
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
  /** The relay mesh (config `mesh`), undefined for a standalone relay. */
  readonly mesh: Mesh | undefined;
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
  const logger = deps.logger ?? createLogger({ level: config.logLevel }, { component: 'relay' });
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const tlsOptions = config.tls === undefined ? undefined : await readTls(config.tls);

  const store = await EmbeddedTokenStore.open(config.dataDir, { now });
  const tokens = new TokenService({ store, now });
  await tokens.start();
  let shuttingDown = false;
  // The edge needs the metrics and the metrics' gauges read the edge; the gauge reads happen
  // only on scrape, long after both exist.
  const built: { edge?: WsEdge; quic?: QuicEdge; mesh?: Mesh } = {};
  const metrics = new RelayMetrics({
    connections: (name) => (name === 'ws' ? built.edge?.connectionCount : built.quic?.connectionCount) ?? 0,
    subscriptions: (): number => dispatcher.size,
  });
  // Both edges (and the mesh) feed this one fan-out core.
  const dispatcher: Dispatcher = new Dispatcher({ metrics, random });
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
          popId: cc.popId ?? `${config.region}-${config.listen.host}-${config.listen.port}`,
          region: config.region,
          advertise: () => advertised,
          dataDir: config.dataDir,
          admission,
          logger: logger.child({ component: 'control-client' }),
          now,
          ...(cc.heartbeatMs === undefined ? {} : { heartbeatMs: cc.heartbeatMs }),
          ...(cc.usageReportMs === undefined ? {} : { usageReportMs: cc.usageReportMs }),
        });
  if (admission !== undefined) registerAdmissionMetrics(metrics.registry, admission);
  const verifier = control?.verifier ?? tokens;
  const edge = new WsEdge({ config, verifier, dispatcher, metrics, logger, now, ...(admission === undefined ? {} : { admission }) });
  built.edge = edge;

  const api = createHttpApi({
    masterToken: config.masterToken,
    maxBodyBytes: config.limits.maxHttpBodyBytes,
    tokens,
    metrics,
    edges: () => config.discovery.edges,
    isShuttingDown: () => shuttingDown,
    mesh: () => built.mesh,
    logger,
    ...(control === undefined ? {} : { tokenProxy: (op, auth, body) => control.forwardToken(op, auth, body) }),
  });
  const server: HttpServer = tlsOptions === undefined ? createHttpServer(api) : createHttpsServer(tlsOptions, api);
  server.on('upgrade', (req, socket, head: Buffer) => edge.handleUpgrade(req, socket, head));
  server.on('clientError', (_err, socket) => socket.destroy());

  try {
    await control?.start();
    await listen(server, config.listen.host, config.listen.port);
  } catch (err) {
    await control?.close();
    await store.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  if (config.listen.port === 0) config = withBoundPort(config, port);

  // The QUIC edge starts once HTTP is bound, so both are up (or neither) when startRelay resolves.
  let quicCaPem: string | undefined;
  if (config.quic.enabled) {
    try {
      const quicTls = await loadQuicTls(config, logger);
      quicCaPem = quicTls.caPem;
      built.quic = new QuicEdge({
        config,
        verifier,
        dispatcher,
        metrics,
        logger: logger.child({ component: 'quic-edge' }),
        now,
        tls: quicTls,
        ...(admission === undefined ? {} : { admission }),
      });
    } catch (err) {
      server.close();
      await control?.close();
      await store.close();
      throw err;
    }
    logger.info('quic edge listening', { host: config.quic.listen.host, port: built.quic.port, alpn: 'fastpubsub/1' });
  }
  const quicEdge = built.quic;
  let stopDiscovery = (): void => undefined;
  try {
    // With a control plane, the mesh also dials the PoPs of its registry, unless peer discovery
    // is off (behind a link emulator only the configured, emulated paths may be used).
    const discovery =
      control === undefined || config.mesh === undefined || !config.mesh.peerExchange
        ? undefined
        : new RegistryDiscovery({ seeds: config.mesh.seeds, peerExchange: config.mesh.peerExchange, self: () => built.mesh?.id });
    built.mesh = await startMesh(config, { delivery: dispatcher, registry: metrics.registry, logger, ...(discovery === undefined ? {} : { discovery }) });
    if (built.mesh !== undefined && config.mesh !== undefined) {
      advertised.mesh = config.mesh.advertise ?? `${config.mesh.listen.host}:${built.mesh.address.port}`;
      advertised.meshId = built.mesh.id;
    }
    if (discovery !== undefined && control !== undefined) {
      discovery.start(control, config.control?.heartbeatMs ?? 2000);
      stopDiscovery = () => discovery.stop();
    }
  } catch (err) {
    server.close();
    await quicEdge?.shutdown(0, 250);
    await control?.close();
    await store.close();
    throw err;
  }
  const mesh = built.mesh;
  // The PoP's links, routes and health on the system tenant (the live map, docs/console.md).
  const networkState =
    mesh === undefined
      ? undefined
      : new NetworkStatePublisher({
          source: mesh,
          publish: (channel, payload) =>
            dispatcher.publish({ tenant: SYSTEM_TENANT, channel, payload, mode: PublishMode.BROADCAST, arrivedAtMs: performance.now(), origin: 'system' }),
          region: config.region,
          location: config.location,
          connections: () => (built.edge?.connectionCount ?? 0) + (built.quic?.connectionCount ?? 0),
          now,
        });
  networkState?.start();
  // Each tenant's traffic here, for its console (needs the per-tenant counters of admission).
  const channelCounter = admission === undefined ? undefined : new ChannelCounter();
  if (channelCounter !== undefined) dispatcher.setPublishObserver((msg) => channelCounter.record(msg.tenant, msg.channel, msg.payload.byteLength));
  const tenantStats =
    admission === undefined
      ? undefined
      : new TenantStatsPublisher({
          pop: mesh?.id ?? cc?.popId ?? config.region,
          usage: () => admission.usage(now()),
          connections: (tenant) => admission.connections(tenant),
          ...(channelCounter === undefined ? {} : { channels: () => channelCounter.drain() }),
          publish: (channel, payload) =>
            dispatcher.publish({ tenant: SYSTEM_TENANT, channel, payload, mode: PublishMode.BROADCAST, arrivedAtMs: performance.now(), origin: 'system' }),
          now,
        });
  tenantStats?.start();
  // A new map subscriber here gets the current state at once instead of at the next heartbeat.
  const stopStateOnInterest = networkState === undefined ? undefined : dispatcher.onInterestChange((tenant) => {
    if (tenant === SYSTEM_TENANT) networkState.publishAll();
  });

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
    stopStateOnInterest?.();
    tenantStats?.stop();
    networkState?.stop();
    await Promise.all([edge.shutdown(drainMs, closeMs), quicEdge?.shutdown(drainMs, closeMs), mesh?.close()]);
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
    mesh,
    get config() {
      return config;
    },
    metricsText: () => metrics.text(),
    close: (options) => (closing ??= close(options?.graceMs)),
  };
}

async function readTls(tls: { certFile: string; keyFile: string }): Promise<{ cert: Buffer; key: Buffer }> {
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
