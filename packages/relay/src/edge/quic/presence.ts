// Presence on the QUIC edge: PRESENCE (0x0B) requests on the control stream, answered OK(id,
// channel) / ERR(code, id, "PRESENCE:{OP}:t:c") / PRESENCE_INFO STATE(id), and a WATCH's events
// as PRESENCE_INFO EVENT frames carrying the WATCH's id (spec/protocol.md §3). The checks and
// limits are the WebSocket extension's (../presence-commands.ts).
import {
  PresenceInfoKind,
  decodePresenceRequest,
  encodeErr,
  encodeOk,
  encodePresenceInfo,
  presenceOpName,
  type Frame,
} from '@fastpubsub/wire';
import { PresenceCommands, type PresenceCommandsContext, type PresenceVerb } from '../presence-commands.js';

export interface QuicPresenceContext extends PresenceCommandsContext {
  /** Writes a frame on the control stream. */
  send: (frame: Uint8Array) => void;
}

export class QuicPresence {
  readonly #send: (frame: Uint8Array) => void;
  readonly #commands: PresenceCommands;

  constructor(c: QuicPresenceContext) {
    this.#send = c.send;
    this.#commands = new PresenceCommands(c);
  }

  /** A PRESENCE frame (decoding errors propagate to the session's ERR handling). */
  handle(f: Frame<number>): void {
    const req = decodePresenceRequest(f);
    const { id, tenant, channel } = req;
    const verb = presenceOpName(req.op) as PresenceVerb;
    const send = this.#send;
    this.#commands.run(
      verb,
      tenant,
      channel,
      req.args,
      {
        ok: () => send(encodeOk({ id, topic: channel })),
        refuse: (code) => send(encodeErr({ code, id, detail: `PRESENCE:${verb}:${tenant}:${channel}` })),
        state: (page) => send(encodePresenceInfo({ id, kind: PresenceInfoKind.STATE, tenant, channel, body: JSON.stringify(page) })),
      },
      (ev) => send(encodePresenceInfo({ id, kind: PresenceInfoKind.EVENT, tenant, channel, body: JSON.stringify(ev) })),
    );
  }

  dispose(): void {
    this.#commands.dispose();
  }
}

