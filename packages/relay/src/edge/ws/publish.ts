// Fan-out of one accepted publish to the WebSocket subscribers of this relay. Each receiving
// connection gets one frame listing all of its matching patterns (contract §6); a frame is
// encoded once per distinct pattern list, so in the common case every subscriber is written
// the very same Buffer.
import { performance } from 'node:perf_hooks';
import { encodeDeliveryHead, encodeDeliveryTail, type Publish } from '@fastpubsub/wire';
import { pickOne, type SubscriptionIndex } from '../../fanout/index.js';
import type { RelayMetrics } from '../../metrics.js';
import { frameMessage } from './frame.js';

export interface DeliveryTarget {
  /** True if the frame was handed to the socket now (false: queued, dropped or closing). */
  deliver(frame: Uint8Array, arrivedAtMs: number): boolean;
}

export interface FanOutContext<S extends DeliveryTarget> {
  readonly index: SubscriptionIndex<S>;
  readonly metrics: RelayMetrics;
  readonly random: () => number;
}

export function fanOut<S extends DeliveryTarget>(ctx: FanOutContext<S>, pub: Publish, arrivedAtMs: number): void {
  const matches = ctx.index.match(pub.tenant, pub.channel);
  if (matches.size === 0) {
    ctx.metrics.dropped('no_subscribers');
    return;
  }
  const head = encodeDeliveryHead(pub.tenant, pub.channel, pub.payload);
  let written = 0;
  let writtenBytes = 0;

  if (pub.mode !== 0) {
    // Deliver-one (contract §10.7): uniform over connections, the publisher included.
    const target = pickOne<S>([...matches.keys()], ctx.random);
    const patterns = target === undefined ? undefined : matches.get(target);
    if (target === undefined || patterns === undefined) return;
    const frame = frameMessage(true, [head, encodeDeliveryTail(patterns)]);
    if (target.deliver(frame, arrivedAtMs)) {
      written = 1;
      writtenBytes = frame.byteLength;
    }
  } else {
    let lastKey: string | undefined;
    let lastFrame: Buffer | undefined;
    let frames: Map<string, Buffer> | undefined;
    for (const [session, patterns] of matches) {
      // '\n' cannot occur in a valid pattern, so the joined list is an unambiguous key.
      const key = patterns.length === 1 ? (patterns[0] as string) : patterns.join('\n');
      let frame: Buffer | undefined;
      if (key === lastKey) {
        frame = lastFrame;
      } else {
        frame = frames?.get(key);
        if (frame === undefined) {
          frame = frameMessage(true, [head, encodeDeliveryTail(patterns)]);
          if (lastKey !== undefined) {
            frames ??= new Map([[lastKey, lastFrame as Buffer]]);
            frames.set(key, frame);
          }
        }
        lastKey = key;
        lastFrame = frame;
      }
      if (session.deliver(frame as Buffer, arrivedAtMs)) {
        written++;
        writtenBytes += (frame as Buffer).byteLength;
      }
    }
  }

  if (written > 0) {
    ctx.metrics.ws.messagesOut.inc(written);
    ctx.metrics.ws.bytesOut.inc(writtenBytes);
    // One observation per publish, once its last direct write is handed to a socket; queued
    // deliveries are observed when their socket drains.
    ctx.metrics.observePublishToWrite((performance.now() - arrivedAtMs) / 1000);
  }
}
