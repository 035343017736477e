// The result table: one row per scenario, one column per SDK, then a throughput row, then the
// failure details (which step, why, the driver's stderr tail).

export interface SdkResult {
  sdk: string;
  transports?: string[];
  scenarios: Record<string, 'pass' | 'FAIL'>;
  failures: Array<{ scenario: string; message: string; stderr: string }>;
  throughput: { messagesPerSecond: number; received: number; seconds: number } | { error: string } | undefined;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function formatReport(scenarioNames: string[], results: SdkResult[], throughputCount: number): { text: string; failed: boolean } {
  const first = Math.max('scenario'.length, 'throughput (msg/s, 256 B)'.length, ...scenarioNames.map((s) => s.length)) + 2;
  const widths = results.map((r) => Math.max(r.sdk.length, 9) + 2);
  const row = (label: string, cells: string[]): string => pad(label, first) + cells.map((c, i) => pad(c, widths[i]!)).join('').trimEnd();
  const lines = [row('scenario', results.map((r) => r.sdk)), row('-'.repeat(first - 2), widths.map((w) => '-'.repeat(w - 2)))];
  let failed = false;
  for (const name of scenarioNames) {
    lines.push(row(name, results.map((r) => r.scenarios[name] ?? 'FAIL')));
    if (results.some((r) => r.scenarios[name] !== 'pass')) failed = true;
  }
  if (throughputCount > 0) {
    lines.push(
      row('throughput (msg/s, 256 B)', results.map((r) => {
        const t = r.throughput;
        if (t === undefined || 'error' in t) {
          failed = true;
          return 'FAIL';
        }
        return String(Math.round(t.messagesPerSecond));
      })),
    );
  }
  for (const r of results) if (r.failures.length > 0) failed = true;
  const details: string[] = [];
  for (const r of results) {
    for (const f of r.failures) {
      details.push(`${r.sdk} / ${f.scenario}: ${f.message}`);
      if (f.stderr.trim() !== '') details.push(`  driver stderr (tail):\n${f.stderr.trim().split('\n').map((l) => `    ${l}`).join('\n')}`);
    }
    const t = r.throughput;
    if (t !== undefined && 'error' in t) details.push(`${r.sdk} / throughput: ${t.error}`);
  }
  const verdict = failed ? 'FAILED' : 'all passed';
  return { text: [...lines, '', ...(details.length > 0 ? ['Failures:', ...details, ''] : []), `sdk:conformance: ${verdict}`].join('\n'), failed };
}
