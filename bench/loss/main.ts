// `npm run bench:loss` (as root): creates the network namespace fps-loss-<pid> with its loopback
// up, runs runner.ts inside it (`ip netns exec`), and always removes it again: on success, on an
// error, on Ctrl-C/SIGTERM and when the run exceeds its time budget. Every process still inside
// the namespace at that point is one this benchmark started; they are killed by pid.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanStaleNetns, createNetns, deleteNetns, netnsName } from './netns.js';
import { LOSS_HELP, LossUsageError, parseLossArgs, runBudgetMs } from './options.js';

const argv = process.argv.slice(2);
function fail(msg: string, code = 2): never {
  process.stderr.write(`bench:loss: ${msg}\n`);
  process.exit(code);
}

let opts;
try {
  opts = parseLossArgs(argv, 'unused');
} catch (err) {
  if (!(err instanceof LossUsageError)) throw err;
  fail(`${err.message}\n\n${LOSS_HELP}`);
}
if (opts.help) {
  process.stdout.write(LOSS_HELP);
  process.exit(0);
}
if (process.getuid?.() !== 0) {
  fail('must run as root: it creates a network namespace (ip netns) and an nft loss rule inside it. Try: sudo npm run bench:loss');
}

const ns = netnsName(process.pid);
let cleaned = false;
const cleanup = (): void => {
  if (cleaned) return;
  cleaned = true;
  deleteNetns(ns);
};
process.on('exit', cleanup);

const stale = (() => {
  try {
    return cleanStaleNetns(ns);
  } catch (err) {
    return fail(`cannot list network namespaces (ip netns list): ${err instanceof Error ? err.message : String(err)}`);
  }
})();
if (stale.length > 0) process.stderr.write(`bench:loss: removed stale namespace(s) ${stale.join(', ')}\n`);
try {
  createNetns(ns);
} catch (err) {
  const detail = err instanceof Error && 'stderr' in err ? String((err as { stderr: unknown }).stderr).trim() : String(err);
  fail(`cannot create network namespace ${ns} (ip netns add / ip link set lo up): ${detail}`);
}
process.stderr.write(`bench:loss: namespace ${ns} created\n`);

const runner = fileURLToPath(new URL('./runner.ts', import.meta.url));
const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--conditions=development', '--import', 'tsx', runner, ...argv], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, FPS_LOSS_NETNS: ns },
});

const budget = runBudgetMs(opts);
const timer = setTimeout(() => {
  process.stderr.write(`bench:loss: the run exceeded its ${Math.round(budget / 1000)} s budget; stopping it\n`);
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 3000).unref();
}, budget);
timer.unref();

// Ctrl-C reaches the runner too (same process group); give it a moment to stop its brokers.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`bench:loss: ${signal}: stopping the runner and removing ${ns}\n`);
    child.kill(signal);
    setTimeout(() => { cleanup(); process.exit(130); }, 3000).unref();
  });
}

child.on('error', (err) => {
  cleanup();
  fail(`cannot start the runner: ${err.message}`, 1);
});
child.on('exit', (code, signal) => {
  clearTimeout(timer);
  cleanup();
  process.stderr.write(`bench:loss: namespace ${ns} removed\n`);
  process.exit(code ?? (signal !== null ? 1 : 0));
});
