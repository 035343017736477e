// The deployment rehearsal: docs/deploy.md's shell blocks, run in the page's order on three
// network namespaces standing in for the three hosts (deploy-hosts.ts): `on=build` on the admin
// machine, `on=each` on every host with N set, `on=1` on host 1; `systemctl enable --now` starts
// the installed unit files' ExecStart; blocks marked `rehearsal=skip` (package install, users,
// chown) are skipped because the rehearsal runs this checkout's build as root. Then host 3 is
// killed (processes SIGKILLed, link down) and the survivors must still carry a message from
// relay 1 to relay 2 and create a tenant through the control API. Needs root, ip, etcd,
// etcdctl, openssl, curl and jq: a missing one fails the test naming it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOSTS, Hosts } from './deploy-hosts.js';
import { RotationChecks } from './deploy-rotation.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let hosts: Hosts | undefined;
let dir = '';

after(async () => {
  // FPS_KEEP_REHEARSAL=1 leaves the files in place for a look after a failure.
  await hosts?.tearDown();
  if (dir !== '' && process.env['FPS_KEEP_REHEARSAL'] === undefined) await rm(dir, { recursive: true, force: true });
});

export interface DocBlock {
  on: string;
  notRehearsed: boolean;
  /** Which rotation procedure the block belongs to, if any. */
  rotation: string | undefined;
  script: string;
}

/** The `sh on=…` blocks of docs/deploy.md, in order. */
export function deployBlocks(markdown: string): DocBlock[] {
  return [...markdown.matchAll(/^```sh ([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => {
    const attrs = Object.fromEntries((m[1] as string).split(/\s+/).map((kv) => kv.split('=') as [string, string]));
    return { on: attrs['on'] ?? '', notRehearsed: attrs['rehearsal'] === 'skip', rotation: attrs['rotation'], script: m[2] as string };
  });
}

/** A block cut at its `systemctl` lines: shell segments and unit starts, in order. */
type Segment = { shell: string } | { start: string[] } | { reload: string[] } | { restart: string[] } | { noop: string };
function segments(script: string): Segment[] {
  const out: Segment[] = [];
  let shell: string[] = [];
  const flush = (): void => {
    if (shell.some((l) => l.trim() !== '' && !l.trim().startsWith('#'))) out.push({ shell: shell.join('\n') });
    shell = [];
  };
  for (const line of script.split('\n')) {
    const m = /^systemctl (.*)$/.exec(line.trim());
    if (m === null) {
      shell.push(line);
      continue;
    }
    flush();
    const words = (m[1] as string).split(/\s+/);
    if (words[0] === 'daemon-reload') out.push({ noop: line });
    else if (words[0] === 'enable' && words[1] === '--now') out.push({ start: words.slice(2) });
    else if (words[0] === 'reload') out.push({ reload: words.slice(1) });
    else if (words[0] === 'restart') out.push({ restart: words.slice(1) });
    else throw new Error(`the rehearsal does not know: ${line}`);
  }
  flush();
  return out;
}

async function runBlock(h: Hosts, block: DocBlock): Promise<void> {
  const targets = block.on === 'build' ? [0] : block.on === 'each' ? [...HOSTS] : [Number(block.on)];
  assert.ok(targets.every((t) => Number.isInteger(t) && t >= 0 && t <= 3), `unknown on=${block.on}`);
  for (const n of targets) {
    for (const seg of segments(block.script)) {
      if ('shell' in seg) await h.run(n, seg.shell);
      else if ('start' in seg) h.startUnits(n, seg.start);
      else if ('reload' in seg) for (const u of seg.reload) h.reloadUnit(n, u);
      else if ('restart' in seg) for (const u of seg.restart) await h.restartUnit(n, u);
    }
  }
}

test('deployBlocks finds the page steps in order, with their hosts', () => {
  const blocks = deployBlocks(readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8'));
  assert.deepEqual(
    blocks.map((b) => `${b.on}${b.notRehearsed ? ':skip' : ''}`),
    ['each:skip', 'build', 'each', 'each:skip', 'each', '1', 'each', '1', '1', 'build', 'each', 'build', 'each', '1', 'build', 'each'],
  );
  assert.ok(blocks.some((b) => b.script.includes('systemctl enable --now fastpubsub-control fastpubsub-relay')));
});

test('docs/deploy.md on three namespaces: deploy, rotate every certificate and key, lose host 3 and keep serving', { timeout: 420_000 }, async () => {
  assert.equal(process.getuid?.(), 0, 'the rehearsal needs root (network namespaces, bind mounts)');
  for (const [tool, pkg] of [
    ['/usr/sbin/ip', 'iproute2'],
    ['/usr/bin/etcd', 'etcd-server'],
    ['/usr/bin/etcdctl', 'etcd-client'],
    ['/usr/bin/openssl', 'openssl'],
    ['/usr/bin/curl', 'curl'],
    ['/usr/bin/jq', 'jq'],
    ['/usr/bin/unshare', 'util-linux'],
  ]) {
    assert.ok(existsSync(tool as string), `${tool as string} is missing: apt-get install ${pkg as string}`);
  }
  assert.ok(existsSync(join(ROOT, 'packages/control/dist/index.js')), 'the build is missing: npm run build');
  dir = await mkdtemp(join(tmpdir(), 'fps-rehearsal-'));
  const work = join(dir, 'admin');
  await rm(work, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(work);
  symlinkSync(join(ROOT, 'deploy'), join(work, 'deploy')); // "a checkout of the repository"
  const h = new Hosts(dir, ROOT, work);
  hosts = h;
  h.setUp();

  const blocks = deployBlocks(readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8'));
  const rotation = new RotationChecks(h, work);
  const serialsBefore = new Map<string, string>();
  let current: string | undefined;
  // What must hold once a rotation procedure's blocks have all run.
  const finishRotation = async (name: string): Promise<void> => {
    if (name === 'control-tls') assert.notEqual(await rotation.serial('10.0.0.1:7800'), serialsBefore.get('control'), 'control certificate not renewed');
    if (name === 'etcd') assert.notEqual(await rotation.serial('10.0.0.1:2379'), serialsBefore.get('etcd'), 'etcd certificate not renewed');
    if (name === 'signing-key') await rotation.bothKeysAdmitted();
    if (name !== 'mesh') assert.ok(rotation.subscriberRunning, `the subscriber stopped during the ${name} rotation`);
    await rotation.delivered(`after-${name}`, 'acme-token');
    console.log(`rehearsal: ${name} rotated, subscriber at relay 2 still receiving`);
  };
  for (const block of blocks) {
    if (block.notRehearsed) continue;
    if (block.rotation !== current) {
      if (current !== undefined) await finishRotation(current);
      if (current === undefined && block.rotation !== undefined) {
        await rotation.startSubscriber();
        serialsBefore.set('control', await rotation.serial('10.0.0.1:7800'));
        serialsBefore.set('etcd', await rotation.serial('10.0.0.1:2379'));
      }
      current = block.rotation;
    }
    try {
      await runBlock(h, block);
    } catch (err) {
      const logs = HOSTS.map((n) => ['etcd', 'fastpubsub-control', 'fastpubsub-relay'].map((u) => `--- host ${n} ${u}\n${h.log(n, u)}`).join('\n')).join('\n');
      throw new Error(`${(err as Error).message}\n${logs}`);
    }
  }
  if (current !== undefined) await finishRotation(current);
  assert.deepEqual([...serialsBefore.keys()], ['control', 'etcd'], 'the page has rotation procedures');
  // Step 6 of the page: the message crossed from relay 1 to relay 2.
  assert.equal(readFileSync(join(work, 'received.txt'), 'utf8').trim(), 'chat.hello hello from host 1');
  const pops = await h.run(1, `curl -sf --cacert pki/ca.pem -H "Authorization: Bearer $(cat pki/pop-token)" https://10.0.0.2:7800/v1/pops | jq -r '.pops[].id' | sort`);
  assert.deepEqual(pops.trim().split('\n'), ['relay-1', 'relay-2', 'relay-3']);

  // Host 3 fails.
  h.killHost(3);
  const started = Date.now();
  // etcd may be electing a new leader and relays may be moving to another control instance:
  // a few bounded attempts.
  const serving = `export NODE_EXTRA_CA_CERTS=pki/ca.pem
rm -f after.txt
timeout 20 npx fastpubsub sub --url https://10.0.0.2 --token "$(cat acme-token)" --count 1 -q acme 'chat.#' > after.txt &
sleep 3
npx fastpubsub pub --url https://10.0.0.1 --token "$(cat acme-token)" acme chat.after 'still serving'
wait
cat after.txt
curl -sf -o /dev/null -w '%{http_code}\\n' --cacert pki/ca.pem -H "Authorization: Bearer $(cat pki/operator-token)" \\
  -H 'Content-Type: application/json' -d "{\\"id\\":\\"after-$ATTEMPT\\"}" https://10.0.0.1:7800/v1/tenants`;
  let last = '';
  for (let attempt = 1; attempt <= 4; attempt++) {
    try {
      last = await h.run(1, `ATTEMPT=${attempt}\n${serving}`, 45_000);
      break;
    } catch (err) {
      last = (err as Error).message;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  assert.match(last, /^chat\.after still serving$/m, last);
  assert.match(last, /^201$/m, last);
  console.log(`rehearsal: serving again ${Date.now() - started} ms after host 3 failed`);
  // The tenant is readable through the other surviving control instance: both share etcd's quorum.
  const tenants = await h.run(2, `curl -sf --cacert pki/ca.pem -H "Authorization: Bearer $(cat pki/operator-token)" https://10.0.0.2:7800/v1/tenants | jq -r '.tenants[].id'`);
  assert.match(tenants, /^after-\d$/m);
});
