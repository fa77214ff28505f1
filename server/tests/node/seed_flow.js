// The original React client's signaling flow, run with the real socket.io-client 2.3.0 against a
// duet-server. Usage: node seed_flow.js URL websocket|polling
//
// Two clients join one room; the second is told about the first (all_users) and sends the offer,
// the first answers, both trickle a candidate; a third client gets room_full; when the first
// closes, the second gets user_exit with its id. A client in another room sees none of it.
// Prints one JSON line with what each client observed, then exits 0; exits 1 with {"error"} on a
// failure or after a deadline.
'use strict';

const io = require('socket.io-client');

const [url, mode] = process.argv.slice(2);
if (!url || !['websocket', 'polling'].includes(mode)) {
  console.error('usage: node seed_flow.js URL websocket|polling');
  process.exit(2);
}
// 'websocket': straight to WebSocket. 'polling': the default, polling then upgrade.
const options = mode === 'websocket'
  ? { transports: ['websocket'], reconnection: false, forceNew: true }
  : { reconnection: false, forceNew: true };

const room = `seed-${mode}-${process.pid}`;
const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
const answer = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\n' };
const candidate = (n) => ({
  candidate: `candidate:${n} 1 udp 2122260223 192.0.2.${n} 5000${n} typ host`,
  sdpMid: '0',
  sdpMLineIndex: 0,
});

const result = { mode, events: { a: [], b: [], c: [], other: [] } };
const sockets = [];
const deadline = setTimeout(() => fail('timed out; observed so far'), 15000);

function fail(message) {
  clearTimeout(deadline);
  console.log(JSON.stringify({ error: message, result }));
  sockets.forEach((s) => s.close());
  process.exit(1);
}

function connect(name) {
  const socket = io.connect(url, options);
  sockets.push(socket);
  socket.on('connect_error', (e) => fail(`${name}: connect_error ${e && e.message}`));
  socket.on('error', (e) => result.events[name].push(['error', e]));
  for (const ev of ['all_users', 'getOffer', 'getAnswer', 'getCandidate', 'room_full', 'user_exit']) {
    socket.on(ev, (data) => {
      result.events[name].push(data === undefined ? [ev] : [ev, data]);
    });
  }
  return new Promise((resolve) => socket.on('connect', () => resolve(socket)));
}

function once(socket, ev) {
  return new Promise((resolve) => socket.once(ev, resolve));
}

async function main() {
  // A bystander in another room: it must see nothing but its own all_users.
  const other = await connect('other');
  const otherJoined = once(other, 'all_users');
  other.emit('join_room', { room: `${room}-other`, email: 'other@example.com' });
  await otherJoined;

  const a = await connect('a');
  const aJoined = once(a, 'all_users');
  a.emit('join_room', { room, email: 'a@example.com' });
  await aJoined;
  result.aId = a.id;

  const b = await connect('b');
  result.bId = b.id;
  // As the seed client: on all_users with someone in it, create and send the offer.
  const bJoined = once(b, 'all_users').then((users) => {
    if (users.length > 0) b.emit('offer', offer);
  });
  const aGotOffer = once(a, 'getOffer').then(() => a.emit('answer', answer));
  const bGotAnswer = once(b, 'getAnswer');
  b.emit('join_room', { room, email: 'b@example.com' });
  await Promise.all([bJoined, aGotOffer, bGotAnswer]);

  const aGotCandidate = once(a, 'getCandidate');
  const bGotCandidate = once(b, 'getCandidate');
  b.emit('candidate', candidate(2));
  a.emit('candidate', candidate(1));
  await Promise.all([aGotCandidate, bGotCandidate]);

  const c = await connect('c');
  const cFull = once(c, 'room_full');
  c.emit('join_room', { room, email: 'c@example.com' });
  await cFull;

  const bGotExit = once(b, 'user_exit');
  a.close();
  await bGotExit;

  result.transports = {
    b: b.io.engine.transport.name,
    other: other.io.engine.transport.name,
  };
  clearTimeout(deadline);
  console.log(JSON.stringify(result));
  sockets.forEach((s) => s.close());
  process.exit(0);
}

main().catch((e) => fail(String(e && e.stack || e)));
