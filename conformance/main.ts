// `npm run sdk:conformance -- --sdk <name>[,<name>]|all [--driver '<cmd>'] [--scenario <substring>]`
// Starts real relays, runs every scenario of spec/conformance/scenarios/ through each SDK's
// conformance driver, prints one table (scenario × SDK → pass/FAIL) and a throughput line per
// SDK, and exits non-zero if anything failed.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DriverProcess } from './driver-process.js';
import { Environment } from './environment.js';
import { ScenarioRun, type Variant } from './execute.js';
import { loadScenarios, type Scenario } from './scenario.js';
import { formatReport, type SdkResult } from './report.js';
import { measureThroughput } from './throughput.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SCENARIO_DIR = join(REPO_ROOT, 'spec', 'conformance', 'scenarios');
export const TS_DRIVER = 'node --conditions=development --import tsx packages/client/conformance/driver.ts';
const SETUP_HINT = 'run `bash sdks/setup.sh` (or `bash sdks/<lang>/setup.sh`) to install and build the SDKs and their drivers';

const USAGE = `Usage: npm run sdk:conformance -- --sdk <name>[,<name>…]|all [options]

SDK names: ts, and every sdks/<lang> with a driver (python, go, rust, java, …); <lang>-quic runs
the same driver over the QUIC edge (listed in 'all' when its driver's ready event offers quic).

Options:
  --sdk LIST             which SDKs (comma separated) or 'all'
  --driver CMD           run this driver command instead (with one --sdk); or
  --driver LANG=CMD      the driver for LANG (and LANG-quic); repeatable
  --scenario SUBSTRING   only the scenarios whose name contains it (repeatable)
  --throughput-count N   messages in the throughput run (default 50000, after a 5000-message warm-up; 0 skips it)
  --report FILE          also write the results as JSON
  -h, --help             this help
`;

export interface SdkTarget {
  name: string;
  command: string;
  transport: Variant['transport'];
}

function driverCommand(lang: string): string {
  if (lang === 'ts') return TS_DRIVER;
  return `sdks/${lang}/driver`;
}

/** ts, then every sdks/<lang>/driver, sorted. */
export function presentLanguages(root = REPO_ROOT): string[] {
  const dir = join(root, 'sdks');
  const langs = existsSync(dir) ? readdirSync(dir).filter((l) => existsSync(join(dir, l, 'driver'))).sort() : [];
  return ['ts', ...langs];
}

/**
 * Resolves `--sdk` into targets. `drivers`: the `--driver` values, either one plain command
 * (with exactly one SDK) or `lang=command` entries (any number; `lang` also covers `lang-quic`).
 */
export function resolveTargets(list: string, drivers: string[] = [], root = REPO_ROOT): SdkTarget[] {
  const names = list === 'all' ? presentLanguages(root) : list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new Error('--sdk names no SDK');
  const byLang = new Map<string, string>();
  let plain: string | undefined;
  for (const d of drivers) {
    const m = /^([a-z0-9]+)=(.+)$/.exec(d);
    if (m !== null) byLang.set(m[1]!, m[2]!);
    else if (plain === undefined) plain = d;
    else throw new Error('more than one plain --driver: use lang=command for several SDKs');
  }
  if (plain !== undefined && names.length !== 1) throw new Error('a plain --driver goes with exactly one --sdk (or write lang=command)');
  return names.map((name) => {
    const quic = name.endsWith('-quic');
    const lang = quic ? name.slice(0, -'-quic'.length) : name;
    const override = plain ?? byLang.get(lang);
    if (override === undefined && lang !== 'ts' && !existsSync(join(root, 'sdks', lang, 'driver'))) {
      throw new Error(`no driver for '${lang}': sdks/${lang}/driver does not exist`);
    }
    return { name, command: override ?? driverCommand(lang), transport: quic ? 'quic' : 'websocket' };
  });
}

async function startDriver(target: SdkTarget): Promise<DriverProcess> {
  try {
    return await DriverProcess.start(target.command, REPO_ROOT);
  } catch (err) {
    const hint = target.name.startsWith('ts') ? '' : ` — ${SETUP_HINT}`;
    throw new Error(`${target.name}: driver '${target.command}' did not start: ${(err as Error).message}${hint}`);
  }
}

async function runSdk(target: SdkTarget, scenarios: Scenario[], env: Environment, throughputCount: number, log: (s: string) => void): Promise<SdkResult> {
  const result: SdkResult = { sdk: target.name, scenarios: {}, failures: [], throughput: undefined };
  let driver: DriverProcess | undefined;
  let runIndex = 0;
  try {
    driver = await startDriver(target);
    result.transports = driver.transports;
    if (target.transport === 'quic' && !driver.transports.includes('quic')) {
      throw new Error(`${target.name}: the driver's ready event lists transports ${JSON.stringify(driver.transports)}, not quic`);
    }
    for (const scenario of scenarios) {
      if (driver === undefined || !driver.alive) driver = await startDriver(target);
      const started = Date.now();
      try {
        await new ScenarioRun(scenario, driver, env, { transport: target.transport }, runIndex++).run();
        result.scenarios[scenario.name] = 'pass';
        log(`  ${target.name} ${scenario.name}: pass (${Date.now() - started} ms)`);
      } catch (err) {
        result.scenarios[scenario.name] = 'FAIL';
        const message = (err as Error).message;
        result.failures.push({ scenario: scenario.name, message, stderr: driver.stderr.slice(-1500) });
        log(`  ${target.name} ${scenario.name}: FAIL (${Date.now() - started} ms) ${message}`);
        // A failed scenario may leave the driver in any state: start a fresh one.
        await driver.stop();
        driver = undefined;
      }
    }
    if (throughputCount > 0) {
      if (driver === undefined || !driver.alive) driver = await startDriver(target);
      try {
        result.throughput = await measureThroughput(driver, env, target.transport, throughputCount, runIndex++);
        log(`  ${target.name} throughput: ${Math.round(result.throughput.messagesPerSecond)} msg/s`);
      } catch (err) {
        result.throughput = { error: (err as Error).message };
        log(`  ${target.name} throughput: FAIL ${(err as Error).message}`);
      }
    }
  } catch (err) {
    const message = (err as Error).message;
    for (const s of scenarios) result.scenarios[s.name] ??= 'FAIL';
    result.failures.push({ scenario: '(driver)', message, stderr: driver?.stderr.slice(-1500) ?? '' });
    log(`  ${target.name}: ${message}`);
  } finally {
    await driver?.stop();
  }
  return result;
}

export async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        sdk: { type: 'string' },
        driver: { type: 'string', multiple: true },
        scenario: { type: 'string', multiple: true },
        'throughput-count': { type: 'string' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    process.stderr.write(`sdk:conformance: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (flags.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags.sdk === undefined) {
    process.stderr.write(`sdk:conformance: --sdk is required\n${USAGE}`);
    return 2;
  }
  const throughputCount = flags['throughput-count'] === undefined ? 50_000 : Number(flags['throughput-count']);
  if (!Number.isInteger(throughputCount) || throughputCount < 0) {
    process.stderr.write('sdk:conformance: --throughput-count must be an integer ≥ 0\n');
    return 2;
  }
  let targets: SdkTarget[];
  let scenarios: Scenario[];
  try {
    targets = resolveTargets(flags.sdk, flags.driver);
    scenarios = loadScenarios(SCENARIO_DIR);
  } catch (err) {
    process.stderr.write(`sdk:conformance: ${(err as Error).message}\n`);
    return 2;
  }
  const filters = flags.scenario ?? [];
  if (filters.length > 0) scenarios = scenarios.filter((s) => filters.some((f) => s.name.includes(f)));
  if (scenarios.length === 0) {
    process.stderr.write(`sdk:conformance: no scenario matches ${filters.join(', ')}\n`);
    return 2;
  }
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const env = await Environment.create();
  const results: SdkResult[] = [];
  const stopOnSignal = (): void => {
    void env.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const started = Date.now();
  try {
    const expanded = [...targets];
    for (let i = 0; i < expanded.length; i++) {
      const target = expanded[i]!;
      log(`sdk:conformance: ${target.name} (${scenarios.length} scenario(s))`);
      const r = await runSdk(target, scenarios, env, throughputCount, log);
      results.push(r);
      // 'all' adds <lang>-quic right after <lang> when that driver offers quic.
      if (flags.sdk === 'all' && target.transport === 'websocket' && r.transports?.includes('quic')) {
        expanded.splice(i + 1, 0, { ...target, name: `${target.name}-quic`, transport: 'quic' });
      }
    }
  } finally {
    await env.stop();
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
  }
  const { text, failed } = formatReport(scenarios.map((s) => s.name), results, throughputCount);
  process.stdout.write(`${text}\n(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  if (flags.report !== undefined) writeFileSync(flags.report, JSON.stringify({ results, scenarios: scenarios.map((s) => s.name) }, null, 2));
  return failed ? 1 : 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`sdk:conformance: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
