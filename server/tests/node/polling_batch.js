// socket.io-client 2.3.0 on polling only, sending what a call can send at once: a large offer, a
// renegotiation offer right behind it (a track added, an ICE restart) and a burst of candidates,
// which engine.io-client batches into one POST body, over socketioxide's 100 KB default max
// payload. Usage: node polling_batch.js URL
// Prints {"offerBytes": [N, N], "candidates": N, "transport": "polling", "sentBytes": N} and
// exits 0, or prints {"error"} and exits 1.
'use strict';

const io = require('socket.io-client');

const url = process.argv[2];
const options = { transports: ['polling'], reconnection: false, forceNew: true };
const room = `batch-${process.pid}`;
const CANDIDATES = 30;
// 60 KiB of SDP-like lines: under Duet's 64 KiB SDP limit, far over 100 KB once batched with
// the candidates and JSON escaping.
const sdp = 'v=0\r\n' + 'a=x-filler:0123456789abcdef0123456789abcdef0123456789abcdef\r\n'.repeat(1000);

const deadline = setTimeout(() => fail('timed out'), 15000);
const sockets = [];
function fail(message) {
  clearTimeout(deadline);
  console.log(JSON.stringify({ error: message }));
  sockets.forEach((s) => s.close());
  process.exit(1);
}

function connect() {
  const s = io.connect(url, options);
  sockets.push(s);
  s.on('connect_error', (e) => fail(`connect_error ${e && e.message}`));
  s.on('disconnect', (r) => fail(`disconnected: ${r}`));
  s.on('error', (e) => fail(`error event: ${JSON.stringify(e)}`));
  return new Promise((resolve) => s.on('connect', () => resolve(s)));
}

async function main() {
  const a = await connect();
  await new Promise((resolve) => { a.once('all_users', resolve); a.emit('join_room', { room, email: 'a' }); });
  const b = await connect();
  await new Promise((resolve) => { b.once('all_users', resolve); b.emit('join_room', { room, email: 'b' }); });

  const offerBytes = [];
  let candidates = 0;
  const done = new Promise((resolve) => {
    const check = () => { if (offerBytes.length === 2 && candidates === CANDIDATES) resolve(); };
    a.on('getOffer', (o) => { offerBytes.push(o.sdp.length); check(); });
    a.on('getCandidate', () => { candidates += 1; check(); });
  });
  // All in the same tick: engine.io-client writes them as one polling payload.
  b.emit('offer', { type: 'offer', sdp });
  b.emit('offer', { type: 'offer', sdp: sdp.replace('v=0', 'v=0\r\na=ice-restart') });
  for (let i = 0; i < CANDIDATES; i++) {
    b.emit('candidate', { candidate: `candidate:${i} 1 udp 2122260223 192.0.2.1 ${50000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 });
  }
  await done;
  clearTimeout(deadline);
  const transport = b.io.engine.transport.name;
  sockets.forEach((s) => s.off('disconnect'));
  console.log(JSON.stringify({ offerBytes, candidates, transport, sentBytes: sdp.length }));
  sockets.forEach((s) => s.close());
  process.exit(0);
}

main().catch((e) => fail(String((e && e.stack) || e)));
