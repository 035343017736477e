// The layering of FastPubSub as rules that fail `npm run check` (docs/architecture.md explains
// them). Package level: imports flow wire → core → protocol → {quic, relay, control, client} →
// cli; tests and tools reach a package through its public entry. Folder level inside the
// relay: pure cores (fanout, mesh/route, mesh/interest) import nothing with I/O, and each
// folder imports only the folders below it; node.ts (the composition root) is the one file
// that wires them together.
//
// Paths are real paths (workspace symlinks resolved), so `@fastpubsub/relay` is seen as
// packages/relay/src/index.ts through the 'development' export condition.

/** Entry files a package exports (package.json "exports"); anything else is a deep import. */
const PUBLIC_ENTRY = '^packages/[^/]+/src/(index|node|quic|admin|cli|relay/index)\\.ts$';
/** Node built-ins that do I/O: forbidden in the pure cores. */
const IO_BUILTINS = '^node:(fs|fs/promises|net|dgram|http|https|http2|tls|child_process|worker_threads|cluster)$|^(fs|net|dgram|http|https|tls|child_process)$';
/** The same without `net`: protocol uses node:net's BlockList and isIP for address masks, no sockets. */
const IO_BUILTINS_BUT_NET = '^node:(fs|fs/promises|dgram|http|https|http2|tls|child_process|worker_threads|cluster)$|^(fs|dgram|http|https|tls|child_process)$';
const RELAY = 'packages/relay/src';

/** A package's sources may import only these of our packages (itself included). */
function packageMayImport(pkg, allowed) {
  const others = ['wire', 'core', 'protocol', 'quic', 'relay', 'control', 'client', 'testkit', 'cli', 'console'];
  const forbidden = others.filter((p) => p !== pkg && !allowed.includes(p));
  return {
    name: `${pkg}-imports-only-${allowed.length === 0 ? 'itself' : allowed.join('-')}`,
    comment: `packages/${pkg}/src may import ${allowed.length === 0 ? 'none of our packages' : allowed.join(', ')} only.`,
    severity: 'error',
    from: { path: `^packages/${pkg}/src/` },
    to: { path: `^packages/(${forbidden.join('|')})/` },
  };
}

/** A relay folder may not import these relay folders (or files). */
function folderMayNotImport(name, from, to, comment) {
  return { name, comment, severity: 'error', from: { path: `^${RELAY}/${from}` }, to: { path: `^${RELAY}/(${to.join('|')})` } };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles between files.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves (a moved file leaves no dangling import).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },

    // ---- packages
    packageMayImport('wire', []),
    packageMayImport('core', ['wire']),
    packageMayImport('protocol', ['core', 'wire']),
    packageMayImport('quic', ['core', 'wire']),
    packageMayImport('control', ['core', 'wire', 'protocol']),
    packageMayImport('relay', ['core', 'wire', 'protocol', 'quic']),
    packageMayImport('client', ['wire', 'quic']),
    packageMayImport('testkit', ['core', 'wire', 'protocol', 'quic', 'relay', 'client']),
    // The web console talks HTTP and FastPubSub (the browser SDK) only: no relay or control code.
    packageMayImport('console', ['client']),
    {
      name: 'console-reaches-no-relay-internals',
      comment: "The console's tests reach relays through the dev cluster (@fastpubsub/cli) and the SDK, never relay or control internals.",
      severity: 'error',
      from: { path: '^packages/console/' },
      to: { path: '^packages/(relay|control|quic|core|protocol)/' },
    },
    {
      name: 'control-never-imports-relay',
      comment: 'Nothing in packages/control (sources, tests, benchmarks) imports the relay or the QUIC addon; its tests reach real PoPs through @fastpubsub/testkit/relay.',
      severity: 'error',
      from: { path: '^packages/control/' },
      to: { path: '^packages/(relay|quic)/' },
    },
    {
      name: 'pure-packages-do-no-io',
      comment: 'wire and protocol are pure: parsing and shapes, no I/O built-ins (wire: no Node built-ins at all).',
      severity: 'error',
      from: { path: '^packages/(wire|protocol)/src/' },
      to: { dependencyTypes: ['core'], path: IO_BUILTINS_BUT_NET },
    },
    {
      name: 'wire-has-no-node-builtins',
      comment: 'wire runs in browsers too.',
      severity: 'error',
      from: { path: '^packages/wire/src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-deep-imports-across-packages',
      comment: 'Another package is reached through its public entry (package.json "exports"), never a deep path.',
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/[^/]+/src/', pathNot: ['^packages/$1/', PUBLIC_ENTRY] },
    },
    {
      name: 'tools-use-public-entries',
      comment: 'The simulator and the benchmarks import packages through their public entries.',
      severity: 'error',
      from: { path: '^(sim|bench)/' },
      to: { path: '^packages/[^/]+/src/', pathNot: PUBLIC_ENTRY },
    },
    {
      name: 'no-test-code-in-sources',
      comment: 'Production sources never import tests, benchmarks or the simulator.',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/' },
      to: { path: '^(packages/[^/]+/(test|bench)/|sim/|bench/)' },
    },
    {
      name: 'no-test-helpers-across-packages',
      comment: "A package's tests use their own helpers or @fastpubsub/testkit, not another package's test folder.",
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/[^/]+/test/', pathNot: '^packages/$1/' },
    },

    // ---- folders inside the relay
    {
      name: 'pure-cores-do-no-io',
      comment: 'fanout, mesh/route and mesh/interest are pure: no I/O built-ins; time is a parameter.',
      severity: 'error',
      from: { path: `^${RELAY}/(fanout|mesh/route|mesh/interest)/` },
      to: { dependencyTypes: ['core'], path: IO_BUILTINS },
    },
    folderMayNotImport('fanout-is-a-core', 'fanout/', ['(?!fanout/)'], 'fanout imports nothing else of the relay.'),
    folderMayNotImport('route-is-a-core', 'mesh/route/', ['(?!mesh/route/|mesh/interest/)'], 'mesh/route imports only itself and the interest table.'),
    folderMayNotImport('interest-is-a-core', 'mesh/interest/', ['(?!mesh/interest/|fanout/)'], 'mesh/interest imports only the fanout pattern matcher.'),
    folderMayNotImport('auth-below-edges', 'auth/', ['edge/', 'mesh/', 'delivery/', 'limits/', 'control-client/', 'fanout/', 'node\\.ts'], 'auth is below the edges, the mesh and the control client.'),
    folderMayNotImport('limits-below-auth', 'limits/', ['auth/', 'edge/', 'mesh/', 'delivery/', 'control-client/', 'node\\.ts'], 'limits (token buckets, admission) import no other relay folder.'),
    folderMayNotImport('delivery-below-edges', 'delivery/', ['edge/', 'mesh/', 'agent/', 'control-client/', 'auth/', 'node\\.ts'], 'the dispatcher knows fan-out and the mesh only through seams.'),
    folderMayNotImport('edges-independent', 'edge/', ['mesh/', 'agent/', 'control-client/', 'node\\.ts'], 'edges know the dispatcher, auth and limits, not the mesh or the control client.'),
    folderMayNotImport('edge-ws-not-quic', 'edge/ws/', ['edge/(quic|http)/'], 'one edge does not import another.'),
    folderMayNotImport('edge-quic-not-ws', 'edge/quic/', ['edge/(ws|http)/'], 'one edge does not import another.'),
    folderMayNotImport('edge-mqtt-alone', 'edge/mqtt/', ['edge/(ws|quic|http)/'], 'one edge does not import another.'),
    folderMayNotImport('edges-not-mqtt', 'edge/(ws|quic|http)/', ['edge/mqtt/'], 'one edge does not import another.'),
    folderMayNotImport('bridges-beside-edges', 'bridges/', ['edge/', 'mesh/', 'auth/', 'control-client/', 'node\\.ts'], 'bridges feed the dispatcher; they see the mesh only through the CarrierView seam.'),
    folderMayNotImport('mesh-independent', 'mesh/', ['edge/', 'control-client/', 'auth/', 'agent/', 'node\\.ts'], 'the mesh does not know edges, auth, the control client or the edge agent.'),
    folderMayNotImport('agent-over-the-mesh', 'agent/', ['edge/', 'auth/', 'control-client/', 'bridges/', 'presence/', 'telemetry/', 'node\\.ts'], 'the edge agent plugs into the mesh (discovery, the forwarder seam); it knows no edge, auth or control client.'),
    folderMayNotImport('presence-independent', 'presence/', ['edge/', 'mesh/', 'auth/', 'delivery/', 'limits/', 'control-client/', 'fanout/', 'node\\.ts'], 'presence (members, gossip state) imports no other relay folder; the mesh and the edges reach it through seams.'),
    folderMayNotImport('telemetry-through-seams', 'telemetry/', ['(?!telemetry/)'], 'the network-state publisher knows the mesh and the dispatcher only through its seams; node.ts wires it.'),
    folderMayNotImport('webhooks-through-seams', 'webhooks/', ['edge/', 'mesh/', 'auth/', 'control-client/', 'presence/', 'bridges/', 'telemetry/', 'node\\.ts'], 'webhooks feed the dispatcher and use limits and the pattern matcher; node.ts wires them to the HTTP router and the control client.'),
    folderMayNotImport('control-client-independent', 'control-client/', ['edge/', 'mesh/', 'delivery/', 'webhooks/', 'node\\.ts'], "the PoP's control-plane client knows auth and limits only."),
    {
      name: 'one-composition-root',
      comment: 'node.ts wires the relay; only the package entry imports it.',
      severity: 'error',
      from: { path: `^${RELAY}/`, pathNot: `^${RELAY}/(index|node)\\.ts$` },
      to: { path: `^${RELAY}/node\\.ts$` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules|target)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['development', 'import', 'types', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
