// `npm run bench:latest` (as root): like bench:loss, creates the network namespace
// fps-loss-<pid> (loopback up), runs runner.ts inside it with `ip netns exec`, and always removes
// it again: on success, on an error, on Ctrl-C/SIGTERM and past the run's time budget. Every
// process still inside the namespace then is one this benchmark started; they are killed by pid.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanStaleNetns, createNetns, deleteNetns, netnsName } from '../loss/netns.js';
import { LATEST_HELP, LatestUsageError, latestBudgetMs, parseLatestArgs } from './options.js';

const argv = process.argv.slice(2);
function fail(msg: string, code = 2): never {
  process.stderr.write(`bench:latest: ${msg}\n`);
  process.exit(code);
}

let opts;
try {
  opts = parseLatestArgs(argv, 'unused');
} catch (err) {
  if (!(err instanceof LatestUsageError)) throw err;
  fail(`${err.message}\n\n${LATEST_HELP}`);
}
if (opts.help) {
  process.stdout.write(LATEST_HELP);
  process.exit(0);
}
if (process.getuid?.() !== 0) fail('must run as root: it creates a network namespace (ip netns) and an nft loss rule inside it');

const ns = netnsName(process.pid);
let cleaned = false;
const cleanup = (): void => {
  if (cleaned) return;
  cleaned = true;
  deleteNetns(ns);
};
process.on('exit', cleanup);
const stale = cleanStaleNetns(ns);
if (stale.length > 0) process.stderr.write(`bench:latest: removed stale namespace(s) ${stale.join(', ')}\n`);
try {
  createNetns(ns);
} catch (err) {
  fail(`cannot create network namespace ${ns}: ${err instanceof Error ? err.message : String(err)}`);
}

const runner = fileURLToPath(new URL('./runner.ts', import.meta.url));
const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--conditions=development', '--import', 'tsx', runner, ...argv], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, FPS_LOSS_NETNS: ns },
});
const timer = setTimeout(() => {
  process.stderr.write('bench:latest: the run exceeded its time budget; stopping it\n');
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 3000).unref();
}, latestBudgetMs(opts));
timer.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
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
  process.exit(code ?? (signal !== null ? 1 : 0));
});
