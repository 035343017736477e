// LinkHealth with the QUIC stack's measurements: a supplied RTT sample replaces reply − send time
// (so a late-handled reply does not inflate the RTT), and packets the transport saw from the
// peer keep an up link alive while this process was too busy to handle probe replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkHealth } from '../src/mesh/route/index.js';

function upLink(): LinkHealth {
  const h = new LinkHealth({ deadAfterMs: 200, upAfterReplies: 3 });
  for (let i = 1; i <= 3; i++) {
    h.probeSent(i, i * 100);
    h.probeReply(i, i * 100 + 50, 50);
  }
  assert.equal(h.tick(350), 'up');
  return h;
}

test('a supplied path RTT is the sample, not the time the reply was handled', () => {
  const h = upLink();
  h.probeSent(4, 400);
  h.probeReply(4, 400 + 90, 50); // handled 90 ms later: an event-loop stall, not the network
  assert.equal(Math.round(h.metrics()!.rttMs), 50);
  h.probeSent(5, 500);
  h.probeReply(5, 590); // without a sample: reply − send
  assert.ok(h.metrics()!.rttMs > 50);
});

test('packets heard from the peer keep the link up; silence kills it after the dead timer', () => {
  const h = upLink();
  h.probeSent(4, 400);
  h.probeSent(5, 500);
  h.heardFrom(560); // the native stack kept receiving while the replies were not handled
  assert.equal(h.tick(700), 'up');
  h.probeSent(6, 700); // still probing
  assert.equal(h.tick(740), 'up');
  assert.equal(h.tick(760), 'dead', '200 ms after the last packet heard');
});
