// The original design's signaling server (../../../shared/seed), run on socket.io 2.3.0 as a test
// peer. Everything between the two "seed code" markers is the seed's handler code UNCHANGED,
// bugs included (offers/answers/candidates are broadcast to every socket, `room_full` is sent to
// nobody, `user_exit` goes nowhere): Duet must work against the server people already run.
// The one line dropped is a stray "RTCSessionDescription)" fragment of the blog page, which is
// not JavaScript. The wrapper around it only adds what the seed left out: the HTTP server, the
// listening address (127.0.0.1, port from --port/PORT, 0 = ephemeral, printed on stdout) and a
// plain static file server for the pages under test (--site DIR), same-origin like the seed.
//
//   node seed-server.js --port 0 --site /path/to/site
//   -> prints "listening on http://127.0.0.1:PORT"
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(arg('port', process.env.PORT || '0'));
const site = path.resolve(arg('site', path.join(__dirname, 'seed-client')));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

// Serves files under `site`; directories get their index.html. socket.io attaches its own
// listener for /socket.io/ and answers those requests before this one sees them.
function serveStatic(req, res) {
  if (req.url.startsWith('/socket.io/')) return;
  const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  let file = path.join(site, path.normalize(urlPath));
  if (!file.startsWith(site)) {
    res.writeHead(403).end();
    return;
  }
  fs.stat(file, (err, st) => {
    if (!err && st.isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err2, body) => {
      if (err2) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const type = TYPES[path.extname(file)] || 'application/octet-stream';
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    });
  });
}

const server = http.createServer(serveStatic);
const io = require('socket.io')(server);

// ---- seed code begins (unchanged) ----
let users = {};
let socketToRoom = {};
const maximum = 2;
io.on('connection', socket => {
socket.on('join_room', data => {
if (users[data.room]) {
const length = users[data.room].length;
if (length === maximum) {
socket.to(socket.id).emit('room_full');
return;
}
users[data.room].push({id: socket.id, email: data.email});
} else {
users[data.room] = [{id: socket.id, email: data.email}];
}
socketToRoom[socket.id] = data.room;
socket.join(data.room);
console.log(`[${socketToRoom[socket.id]}]: ${socket.id} enter`);
const usersInThisRoom = users[data.room].filter(user => user.id !== socket.id);
console.log(usersInThisRoom);
io.sockets.to(socket.id).emit('all_users', usersInThisRoom);
});
socket.on('offer', sdp => {
console.log('offer: ' + socket.id);
socket.broadcast.emit('getOffer', sdp);
});
socket.on('answer', sdp => {
console.log('answer: ' + socket.id);
socket.broadcast.emit('getAnswer', sdp);
});
socket.on('candidate', candidate => {
console.log('candidate: ' + socket.id);
socket.broadcast.emit('getCandidate', candidate);
})
socket.on('disconnect', () => {
console.log(`[${socketToRoom[socket.id]}]: ${socket.id} exit`);
const roomID = socketToRoom[socket.id];
let room = users[roomID];
if (room) {
room = room.filter(user => user.id !== socket.id);
users[roomID] = room;
}
socket.broadcast.to(room).emit('user_exit', {id: socket.id});
console.log(users);
})
});
// ---- seed code ends ----

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});

// The harness stops this process by PID; exit at once on SIGTERM like a crashed server would.
process.on('SIGTERM', () => process.exit(0));
