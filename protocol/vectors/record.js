// Records the exact frames of real socket.io 2.3.0 sessions (server and client from npm, pinned in
// e2e/peers) into protocol/tests/fixtures/socketio-2.3.0.json. The Rust tests decode every frame
// and payload and re-encode it byte for byte.
//
// Frames are captured on the server side, as raw as engine.io 3.4 sees them: WebSocket messages
// (text or binary) and polling request/response bodies. Session ids come from a counter so that a
// re-recording only differs where the wire itself changed.
//
// Usage: NODE_PATH=e2e/peers/node_modules node protocol/vectors/record.js [OUT.json]
'use strict';

const http = require('http');
const path = require('path');
const fs = require('fs');
const WebSocketLib = require('ws');
const Polling = require('engine.io/lib/transports/polling');
const WsTransport = require('engine.io/lib/transports/websocket');
const ioServer = require('socket.io');
const ioClient = require('socket.io-client');

const out = process.argv[2] || path.join(__dirname, '..', 'tests', 'fixtures', 'socketio-2.3.0.json');
const records = [];
let session = 'none';

function record(transport, direction, form, data) {
  const binary = typeof data !== 'string';
  records.push({
    session,
    transport,
    direction,
    form,
    kind: binary ? 'binary' : 'text',
    data: binary ? Buffer.from(data).toString('base64') : data,
  });
}

// Client → server.
const pollOnData = Polling.prototype.onData;
Polling.prototype.onData = function (data) {
  record('polling', 'c2s', 'payload', data);
  return pollOnData.call(this, data);
};
const wsOnData = WsTransport.prototype.onData;
WsTransport.prototype.onData = function (data) {
  record('websocket', 'c2s', 'frame', data);
  return wsOnData.call(this, data);
};
// Server → client.
const pollWrite = Polling.prototype.write;
Polling.prototype.write = function (data, options) {
  record('polling', 's2c', 'payload', data);
  return pollWrite.call(this, data, options);
};
const wsSend = WebSocketLib.prototype.send;
WebSocketLib.prototype.send = function (data, opts, cb) {
  if (this._isServer) record('websocket', 's2c', 'frame', data);
  return wsSend.call(this, data, opts, cb);
};

function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, resolve));
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), 10000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// One packet of a binary polling payload: marker, length digits as bytes, 0xFF, packet.
function binaryPayloadPart(marker, packet) {
  const digits = String(packet.length).split('').map(Number);
  return Buffer.concat([Buffer.from([marker, ...digits, 255]), packet]);
}

function httpRequest(method, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { 'Content-Type': 'application/octet-stream' } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${method} ${url}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.end(body);
  });
}

async function main() {
  const httpServer = http.createServer();
  const io = ioServer(httpServer, { pingInterval: 300, pingTimeout: 5000 });
  let sidCounter = 0;
  io.engine.generateId = () => `sid${String(++sidCounter).padStart(17, '0')}`;

  io.on('connection', (socket) => {
    socket.on('join_room', (data) => {
      socket.emit('all_users', [{ id: 'peer-1', email: data.email, nested: { list: [1, 2.5, -3, true, null], text: 'héllo 😀 日本\n"quoted"' } }]);
    });
    socket.on('with_ack', (a, b, ack) => ack('ok', { got: [a, b] }));
    socket.on('binary_ack', (ack) => ack({ bytes: Buffer.from([7, 8, 9]) }));
    socket.on('upload', (meta, bytes) => {
      socket.emit('download', { name: meta.name, size: bytes.length }, Buffer.concat([bytes, Buffer.from([0, 255])]));
    });
    socket.on('ask_me', () => {
      socket.emit('question', 'ready?', (answer) => socket.emit('answered', answer));
    });
  });
  io.of('/admin').on('connection', (socket) => {
    socket.on('hello', (ack) => ack({ ns: '/admin', query: socket.handshake.query.token }));
  });

  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const url = `http://127.0.0.1:${httpServer.address().port}`;

  async function run(name, opts, body) {
    session = name;
    const client = ioClient(url, Object.assign({ reconnection: false, forceNew: true }, opts));
    await withTimeout(once(client, 'connect'), `${name} connect`);
    await withTimeout(body(client), name);
    client.close();
    // Let the server see the close before the next session starts.
    await new Promise((resolve) => setImmediate(resolve));
  }

  async function flow(client) {
    client.emit('join_room', { room: '1234', email: 'sample@naver.com' });
    await once(client, 'all_users');
    await new Promise((resolve) => client.emit('with_ack', 'ünïcödé', { deep: { deeper: [[['x']]] } }, resolve));
    await new Promise((resolve) => client.emit('binary_ack', resolve));
    client.emit('upload', { name: 'blob.bin' }, Buffer.from([1, 2, 3, 4, 5]));
    await once(client, 'download');
    const answered = once(client, 'answered');
    client.once('question', (q, ack) => ack(`yes to ${q}`));
    client.emit('ask_me');
    await answered;
  }

  await run('websocket', { transports: ['websocket'] }, async (client) => {
    await flow(client);
    // One heartbeat: the v3 client pings, the server pongs.
    await once(client, 'pong');
  });
  await run('polling-upgrade', {}, async (client) => {
    await once(client.io.engine, 'upgrade');
    await flow(client);
  });
  await run('polling-only', { transports: ['polling'] }, flow);
  await run('polling-base64', { transports: ['polling'], forceBase64: true }, flow);
  await run('namespace', { transports: ['websocket'], query: { token: 'abc' } }, async () => {
    session = 'namespace';
    const admin = ioClient(`${url}/admin`, { transports: ['websocket'], query: { token: 'abc' }, reconnection: false });
    await withTimeout(once(admin, 'connect'), 'admin connect');
    await new Promise((resolve) => admin.emit('hello', resolve));
    const refused = ioClient(`${url}/nope`, { transports: ['websocket'], reconnection: false });
    await withTimeout(once(refused, 'error'), 'refused namespace');
    admin.close();
    refused.close();
  });

  // Node's socket.io-client polls with base64 (b64=1); browsers with XHR2 get the binary payload
  // form. Speak it by hand: a binary POST, then a poll answered in binary.
  session = 'polling-binary-payload';
  const base = `${url}/socket.io/?EIO=3&transport=polling`;
  const open = await httpRequest('GET', base);
  const sid = /"sid":"([^"]+)"/.exec(open.toString())[1];
  const upload = Buffer.concat([
    binaryPayloadPart(0, Buffer.from('451-["upload",{"name":"raw.bin"},{"_placeholder":true,"num":0}]')),
    binaryPayloadPart(1, Buffer.from([4, 9, 8, 7])),
  ]);
  await httpRequest('POST', `${base}&sid=${sid}`, upload);
  await httpRequest('GET', `${base}&sid=${sid}`);
  await httpRequest('POST', `${base}&sid=${sid}`, binaryPayloadPart(0, Buffer.from('1')));

  io.close();
  httpServer.close();
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ recorded_with: { 'socket.io': require('socket.io/package.json').version, 'socket.io-client': require('socket.io-client/package.json').version }, records }, null, 1) + '\n');
  console.log(`recorded ${records.length} frames and payloads into ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
