// The presence extension of the WebSocket edge: text commands a contract v0.1 client never
// sends, so it never sees their answers either (docs/presence.md has the grammar).
//   PRESENCE:JOIN:{tenant}:{channel}[ {"clientId":"…","data":…}]   → OK:PRESENCE:JOIN:{tenant}:{channel}
//   PRESENCE:LEAVE:{tenant}:{channel}                                → OK:PRESENCE:LEAVE:…
//   PRESENCE:WATCH:{tenant}:{channel} / PRESENCE:UNWATCH:…           → OK:PRESENCE:WATCH:… then
//       PRESENCE:EVENT:{tenant}:{channel} {"type":"join"|"leave"|"batch",…}
//   PRESENCE:GET:{tenant}:{channel}[ {"after":"…","limit":n}]        → PRESENCE:STATE:{tenant}:{channel} {"count",…}
// Refusals: ERR:{code}:PRESENCE:{VERB}:{tenant}:{channel}. The checks and limits are shared
// with the QUIC edge (../presence-commands.ts).
import { ErrorCode } from '@fastpubsub/core';
import { formatErr } from '@fastpubsub/wire';
import { PRESENCE_VERBS, PresenceCommands, type PresenceCommandsContext, type PresenceVerb } from '../presence-commands.js';

export interface WsPresenceContext extends PresenceCommandsContext {
  send: (text: string) => void;
}

export class WsPresence {
  readonly #send: (text: string) => void;
  readonly #commands: PresenceCommands;

  constructor(c: WsPresenceContext) {
    this.#send = c.send;
    this.#commands = new PresenceCommands(c);
  }

  /** `text` starts with `PRESENCE:`. */
  handle(text: string): void {
    const space = text.indexOf(' ');
    const head = space < 0 ? text : text.slice(0, space);
    const argText = space < 0 ? undefined : text.slice(space + 1);
    const parts = head.split(':');
    const verb = parts[1] ?? '';
    if (parts.length !== 4 || !PRESENCE_VERBS.has(verb)) return this.#send(formatErr(ErrorCode.BadCommand));
    const tenant = parts[2] as string;
    const channel = parts[3] as string;
    const target = `PRESENCE:${verb}:${tenant}:${channel}`;
    const send = this.#send;
    const events = `PRESENCE:EVENT:${tenant}:${channel} `;
    this.#commands.run(
      verb as PresenceVerb,
      tenant,
      channel,
      argText,
      {
        ok: () => send(`OK:${target}`),
        refuse: (code) => send(formatErr(code, target)),
        state: (page) => send(`PRESENCE:STATE:${tenant}:${channel} ${JSON.stringify(page)}`),
      },
      (ev) => send(events + JSON.stringify(ev)),
    );
  }

  /** The connection is gone: its memberships leave, its watches end. */
  dispose(): void {
    this.#commands.dispose();
  }
}
