// CPU and RSS of another process, read from /proc (Linux only): the broker is measured from the
// outside, so its own instrumentation cannot flatter it.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of `pid` in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is parenthesised and may contain spaces: parse after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name, field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / ticksPerSecond();
}

/** Resident set size of `pid` in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m?.[1] !== undefined ? Number(m[1]) * 1024 : Number.NaN;
}

/** Samples a process over a window: CPU % of one core (may exceed 100 for threaded brokers) and peak RSS. */
export class ProcSampler {
  private cpu0 = 0;
  private t0 = 0;
  private peakRss = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pid: number, private readonly intervalMs = 100) {}

  start(): void {
    this.cpu0 = cpuSeconds(this.pid);
    this.t0 = performance.now();
    this.peakRss = rssBytes(this.pid);
    this.timer = setInterval(() => {
      try {
        this.peakRss = Math.max(this.peakRss, rssBytes(this.pid));
      } catch {
        // the process exited; the harness reports that elsewhere
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): { cpuPercent: number; peakRssBytes: number } {
    clearInterval(this.timer);
    const seconds = (performance.now() - this.t0) / 1000;
    const cpu = cpuSeconds(this.pid) - this.cpu0;
    this.peakRss = Math.max(this.peakRss, rssBytes(this.pid));
    return { cpuPercent: seconds > 0 ? (cpu / seconds) * 100 : Number.NaN, peakRssBytes: this.peakRss };
  }
}
