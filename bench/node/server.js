// The Node bench fixture: npm socket.io with default options. On 'chat message' (a string) it
// broadcasts {username: 'bench', message} to every socket of '/', the same contract as
// `go run ./bench/fixture`.
//
//   node server.js [PORT]      (or PORT=... node server.js; default 3000; HOST defaults to 127.0.0.1)
'use strict';

const http = require('node:http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

const httpServer = http.createServer();
const io = new Server(httpServer);

io.on('connection', (socket) => {
  socket.on('chat message', (message) => {
    if (typeof message !== 'string') return;
    io.emit('chat message', { username: 'bench', message });
  });
});

httpServer.listen(port, host, () => {
  console.log(`socket.io ${require('socket.io/package.json').version} bench fixture on http://${host}:${port}`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    io.close();
    process.exit(0);
  });
}
