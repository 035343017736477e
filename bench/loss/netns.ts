// The network namespace the loss benchmark runs in, and the nft rule that drops packets on its
// loopback. The rule text and the name checks are pure (tested); the rest shells out to `ip`
// and `nft`, which need root.
import { execFileSync } from 'node:child_process';

export const NFT_TABLE = 'fpsloss';
export const NETNS_PREFIX = 'fps-loss-';

/** `fps-loss-<pid>`: one namespace per benchmark process, so a stale one is recognisable. */
export function netnsName(pid: number): string {
  return `${NETNS_PREFIX}${pid}`;
}

/**
 * The nft script that (re)places the loss rule: one atomic transaction that declares the table
 * (so the delete never fails), deletes it and, for a loss above 0, adds it back with the drop
 * rule. `numgen random mod 100 < PCT` drops PCT % of the packets entering through `lo`: in a
 * namespace every packet of every connection crosses that hook, both directions, ACKs too.
 * The counter tells how many packets the rule actually dropped.
 */
export function nftLossScript(pct: number): string {
  if (!Number.isInteger(pct) || pct < 0 || pct > 100) throw new RangeError(`loss must be an integer percentage 0..100, got ${pct}`);
  const lines = [`table inet ${NFT_TABLE}`, `delete table inet ${NFT_TABLE}`];
  if (pct > 0) {
    lines.push(
      `table inet ${NFT_TABLE} {`,
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      `    iif "lo" numgen random mod 100 < ${pct} counter drop`,
      '  }',
      '}',
    );
  }
  return lines.join('\n') + '\n';
}

/** Packets dropped so far by the rule, from `nft list table` output (0 when there is no rule). */
export function parseDropCounter(nftList: string): number {
  const m = /numgen random mod 100 < \d+ counter packets (\d+) bytes \d+ drop/.exec(nftList);
  return m?.[1] !== undefined ? Number(m[1]) : 0;
}

const run = (cmd: string, args: string[], input?: string): string =>
  execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });

/** Applies `pct` % loss in the current network namespace (call from inside the namespace). */
export function applyLoss(pct: number): void {
  run('nft', ['-f', '-'], nftLossScript(pct));
}

/** Packets dropped so far in the current namespace. */
export function droppedPackets(): number {
  try {
    return parseDropCounter(run('nft', ['list', 'table', 'inet', NFT_TABLE]));
  } catch {
    return 0; // no table at 0 % loss
  }
}

/** The name of the namespace this process runs in, or undefined (default namespace). */
export function currentNetns(): string | undefined {
  try {
    const name = run('ip', ['netns', 'identify', String(process.pid)]).trim();
    return name === '' ? undefined : name;
  } catch {
    return undefined;
  }
}

export function listNetns(): string[] {
  return run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '');
}

/** Pids of the processes inside namespace `name`. */
export function netnsPids(name: string): number[] {
  try {
    return run('ip', ['netns', 'pids', name]).split('\n').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

/** Kills (SIGKILL, by pid) every process inside `name`, then deletes the namespace. Never throws. */
export function deleteNetns(name: string): void {
  for (const pid of netnsPids(name)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  try { run('ip', ['netns', 'delete', name]); } catch { /* not there */ }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Deletes namespaces left behind by earlier runs that were killed before cleaning up:
 * `fps-loss-<pid>` whose benchmark process is gone (and the one with our own name, if any).
 * Returns the names deleted.
 */
export function cleanStaleNetns(own: string): string[] {
  const out: string[] = [];
  for (const name of listNetns()) {
    if (!name.startsWith(NETNS_PREFIX)) continue;
    const pid = Number(name.slice(NETNS_PREFIX.length));
    if (name === own || (Number.isInteger(pid) && pid > 0 && !alive(pid))) {
      deleteNetns(name);
      out.push(name);
    }
  }
  return out;
}

/** Creates namespace `name` with its loopback up. Throws with `ip`'s message on failure. */
export function createNetns(name: string): void {
  run('ip', ['netns', 'add', name]);
  run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
}
