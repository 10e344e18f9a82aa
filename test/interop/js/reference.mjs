// The reference servers for the differential tests (differential_test.go):
// Node's own engine.io and socket.io (versions pinned in package.json) on
// the official protocol suites' fixture contracts (CONTRACTS.md), which
// switchboard/internal/conformance implements in Go.
//
//   /engine.io/  every message (text or binary) is sent back as received
//   /socket.io/  on connection to "/": emit "auth" with the auth payload;
//                "message" → "message-back" with the same arguments;
//                "message-with-ack" → ack with the arguments;
//                namespace "/custom": emit "auth" on connection
//
// Usage: node reference.mjs PING_INTERVAL_MS PING_TIMEOUT_MS
// It listens on a free port of 127.0.0.1 and prints {"t":"ready","n":PORT};
// closing stdin ends it.
import http from "node:http";
import readline from "node:readline";
import { Server as EngineServer } from "engine.io";
import { Server } from "socket.io";

const pingInterval = Number(process.argv[2] ?? 300);
const pingTimeout = Number(process.argv[3] ?? 200);
const common = { pingInterval, pingTimeout, maxHttpBufferSize: 1e6, cors: { origin: "*" } };

const httpServer = http.createServer();

const engine = new EngineServer({ ...common, path: "/engine.io/" });
engine.attach(httpServer, { path: "/engine.io/" });
engine.on("connection", (socket) => {
  socket.on("message", (data) => socket.send(data));
});

const io = new Server(httpServer, { ...common, connectTimeout: 1000 });
io.on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
});
io.of("/custom").on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
});

// Beyond the suites' contracts, for the differential tests of the server
// API (mirrored in Go by differential_test.go's opsNamespace): on "/ops" a
// client asks for server operations by event.
const ops = io.of("/ops");
const rooms = (socket) => [...socket.rooms].filter((r) => r !== socket.id).sort();
ops.on("connection", (socket) => {
  socket.on("join", (room, ack) => { socket.join(room); ack(rooms(socket)); });
  socket.on("leave", (room, ack) => { socket.leave(room); ack(rooms(socket)); });
  socket.on("to", (room, ...args) => socket.to(room).emit("got", ...args));
  socket.on("in", (room, ...args) => ops.in(room).emit("got", ...args));
  socket.on("except", (room, ...args) => ops.except(room).emit("got", ...args));
  socket.on("broadcast", (...args) => socket.broadcast.emit("got", ...args));
  socket.on("all", (...args) => ops.emit("got", ...args));
  socket.on("ask", (ms, ...args) => {
    socket.timeout(ms).emit("question", ...args, (err, ...answer) => socket.emit("answer", err ? "timeout" : null, ...answer));
  });
  socket.on("ask room", (room, ms, ...args) => {
    ops.in(room).timeout(ms).emit("question", ...args, (err, answers) => socket.emit("answers", err ? "timeout" : null, answers.length));
  });
  socket.on("disconnect me", (close) => socket.disconnect(close));
  socket.on("count", (ack) => ack(ops.sockets.size));
  socket.on("fetch", async (room, ack) => ack((await ops.in(room).fetchSockets()).length));
  socket.on("kick", (room) => ops.in(room).disconnectSockets());
  socket.on("move", (from, to) => ops.in(from).socketsJoin(to));
  socket.on("acks", (ack) => ack(1, "two", { three: 3 }, [4], null));
  socket.on("bin", (ack) => ack(Buffer.from([1, 2, 3]), { nested: Buffer.from([4]) }));
});
// "/refuse" refuses every socket, with data.
io.of("/refuse").use((socket, next) => {
  const err = new Error("nope");
  err.data = { code: 42 };
  next(err);
});

// "/plain" refuses with an error without data; "/dyn-<digits>" are
// dynamic namespaces, each telling its name on connection.
io.of("/plain").use((socket, next) => next(new Error("plain")));
io.of(/^\/dyn-\d+$/).on("connection", (socket) => socket.emit("nsp", socket.nsp.name));

httpServer.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ t: "ready", n: httpServer.address().port }) + "\n");
});

readline.createInterface({ input: process.stdin }).on("close", () => process.exit(0));
