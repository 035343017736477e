// The client core speaks presence as lines of the WebSocket extension (PresenceKeeper); over
// QUIC the same requests travel as PRESENCE frames and the answers as PRESENCE_INFO frames
// (spec/protocol.md §3). These two functions translate, so the keeper stays transport-neutral.
import { PresenceInfoKind, PresenceOp, type PresenceInfoFrame } from '@fastpubsub/wire';

const OPS: Record<string, PresenceOp> = PresenceOp;

export interface PresenceRequestParts {
  op: PresenceOp;
  tenant: string;
  channel: string;
  args: string;
}

/** `PRESENCE:{VERB}:{tenant}:{channel}[ {json}]` → the frame's parts; undefined if not such a line. */
export function presenceRequestOfLine(line: string): PresenceRequestParts | undefined {
  const space = line.indexOf(' ');
  const head = space < 0 ? line : line.slice(0, space);
  const parts = head.split(':');
  if (parts.length !== 4 || parts[0] !== 'PRESENCE') return undefined;
  const op = OPS[parts[1] as string];
  if (op === undefined) return undefined;
  return { op, tenant: parts[2] as string, channel: parts[3] as string, args: space < 0 ? '' : line.slice(space + 1) };
}

/** A PRESENCE_INFO frame as the extension's line (`PRESENCE:EVENT:…` or `PRESENCE:STATE:…`). */
export function lineOfPresenceInfo(info: PresenceInfoFrame): string {
  const what = info.kind === PresenceInfoKind.EVENT ? 'EVENT' : 'STATE';
  return `PRESENCE:${what}:${info.tenant}:${info.channel} ${info.body}`;
}
