// Checks around docs/deploy.md's rotation procedures: a subscriber stays on relay 2 throughout;
// after each procedure a message published at relay 1 must reach it, the certificate served
// must have changed, and after the signing-key rotation tokens signed with the old and the new
// key must both be admitted. Every wait is bounded.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hosts } from './deploy-hosts.js';

const CA = 'export NODE_EXTRA_CA_CERTS=pki/ca.pem';

export class RotationChecks {
  #sub: ChildProcess | undefined;
  #probes = 0;

  constructor(readonly h: Hosts, readonly workDir: string) {}

  /** The long-lived subscriber at relay 2, on the token from step 6 of the page. */
  async startSubscriber(): Promise<void> {
    this.#sub = this.h.background(2, `${CA}\nexec npx fastpubsub sub --url https://10.0.0.2 --token "$(cat acme-token)" acme 'chat.rot.#'`, 'rotation-sub.txt');
    await this.delivered('before', 'acme-token');
  }

  get subscriberRunning(): boolean {
    return this.#sub !== undefined && this.#sub.exitCode === null && this.#sub.signalCode === null;
  }

  /** Publishes at relay 1 (with the token in `tokenFile`) until the subscriber prints it; 40 s at most. */
  async delivered(label: string, tokenFile: string): Promise<void> {
    const deadline = Date.now() + 40_000;
    const line = `chat.rot.${label} ${label}`;
    for (;;) {
      this.#probes++;
      await this.h
        .run(1, `${CA}\nnpx fastpubsub pub --url https://10.0.0.1 --token "$(cat ${tokenFile})" acme chat.rot.${label} ${label}`, 20_000)
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
      if (this.received().includes(line)) return;
      assert.ok(Date.now() < deadline, `"${line}" never reached the subscriber at relay 2; it printed:\n${this.received().join('\n')}`);
    }
  }

  received(): string[] {
    try {
      return readFileSync(join(this.workDir, 'rotation-sub.txt'), 'utf8').split('\n');
    } catch {
      return [];
    }
  }

  /** Serial of the certificate served at host:port (etcd asks for a client certificate: the admin's). */
  async serial(endpoint: '10.0.0.1:7800' | '10.0.0.1:2379'): Promise<string> {
    const client = endpoint.endsWith(':2379') ? ' -cert pki/etcd-root.pem -key pki/etcd-root.key' : '';
    const out = await this.h.run(1, `openssl s_client -connect ${endpoint} -CAfile pki/ca.pem${client} </dev/null 2>/dev/null | openssl x509 -noout -serial`, 15_000);
    const m = /serial=([0-9A-F]+)/.exec(out);
    assert.ok(m !== null, `no certificate served at ${endpoint}: ${out}`);
    return m[1] as string;
  }

  /** After the signing-key rotation: two published keys, and a token minted now is admitted too. */
  async bothKeysAdmitted(): Promise<void> {
    const keys = await this.h.run(1, `curl -sf --cacert pki/ca.pem -H "Authorization: Bearer $(cat pki/pop-token)" https://10.0.0.1:7800/v1/keys | jq '.keys | length'`);
    assert.ok(Number(keys.trim()) >= 2, `published keys after the rotation: ${keys}`);
    await this.h.run(
      1,
      `${CA}\nnpx fastpubsub token create --url https://10.0.0.1 --master-token "$(cat acme-master-token)" --tenant acme --pub 'chat.#' --sub 'chat.#' --ttl 1h > acme-token-new`,
    );
    assert.notEqual(readFileSync(join(this.workDir, 'acme-token-new'), 'utf8').trim(), readFileSync(join(this.workDir, 'acme-token'), 'utf8').trim());
    await this.delivered('new-key', 'acme-token-new');
    await this.delivered('old-key', 'acme-token');
  }

  get probes(): number {
    return this.#probes;
  }
}
