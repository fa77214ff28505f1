// The fair Node baseline for the signaling benchmark: the original design's server (socket.io
// 2.3.0) with its one scaling bug fixed — offers, answers and candidates go to the sender's room
// (`socket.to(room)`) instead of every client (`socket.broadcast`). Everything else is the seed's.
//
// Usage: NODE_PATH=e2e/peers/node_modules node bench/node/room-scoped-server.js PORT
// Prints "listening on PORT" once ready (PORT 0 picks a free one).
'use strict';

const http = require('http');

const server = http.createServer();
const io = require('socket.io')(server);

let users = {};
let socketToRoom = {};
const maximum = 2;

io.on('connection', socket => {
  socket.on('join_room', data => {
    if (users[data.room]) {
      const length = users[data.room].length;
      if (length === maximum) {
        socket.emit('room_full');
        return;
      }
      users[data.room].push({id: socket.id, email: data.email});
    } else {
      users[data.room] = [{id: socket.id, email: data.email}];
    }
    socketToRoom[socket.id] = data.room;
    socket.join(data.room);
    const usersInThisRoom = users[data.room].filter(user => user.id !== socket.id);
    io.sockets.to(socket.id).emit('all_users', usersInThisRoom);
  });
  socket.on('offer', sdp => {
    socket.to(socketToRoom[socket.id]).emit('getOffer', sdp);
  });
  socket.on('answer', sdp => {
    socket.to(socketToRoom[socket.id]).emit('getAnswer', sdp);
  });
  socket.on('candidate', candidate => {
    socket.to(socketToRoom[socket.id]).emit('getCandidate', candidate);
  });
  socket.on('disconnect', () => {
    const roomID = socketToRoom[socket.id];
    let room = users[roomID];
    if (room) {
      room = room.filter(user => user.id !== socket.id);
      users[roomID] = room;
      if (room.length === 0) delete users[roomID];
    }
    delete socketToRoom[socket.id];
    socket.to(roomID).emit('user_exit', {id: socket.id});
  });
});

server.listen(Number(process.argv[2] || process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
