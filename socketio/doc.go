// Package socketio is a Socket.IO v4 server (protocol v5 over Engine.IO v4)
// that the official JavaScript client (socket.io-client 4.x, browser and
// Node) talks to unchanged: namespaces, rooms, acknowledgements both ways,
// binary payloads, middleware, and broadcasts encoded once for all
// recipients.
//
// # Mounting
//
// A [Server] is an [http.Handler]; mount it at its path, "/socket.io/" by
// default, next to the application's other routes. A client created with
// addTrailingSlash: false asks for "/socket.io?EIO=4…", without the slash,
// which an [http.ServeMux] routes apart: mount the server at both.
//
//	io := socketio.NewServer(nil)
//	io.OnConnection(func(s *socketio.Socket) {
//		s.On("chat message", func(s *socketio.Socket, e *socketio.Event) {
//			msg, _ := e.Args.String(0)
//			_ = io.Emit("chat message", msg)
//		})
//	})
//	mux := http.NewServeMux()
//	mux.Handle("/socket.io/", io) // also serves the browser client, /socket.io/socket.io.js
//	mux.Handle("/socket.io", io)  // clients with addTrailingSlash: false
//
// Shut down with [Server.Close] before the http.Server's Shutdown (see the
// example of Server.Close).
//
// # Handlers and concurrency
//
// Every exported type is safe for concurrent use: [Server], [Namespace],
// [ParentNamespace], [Socket], [RemoteSocket] and [Event] (its Ack) through
// their methods, and [BroadcastOperator], [Emitter] and [Args] as values that
// are never modified once made.
//
// The handlers of one client connection — connection middlewares,
// connection handlers, event handlers, packet middlewares, disconnect
// handlers, on every namespace it joined — run one at a time, in the order
// its packets arrived, on a goroutine of that connection's own; different
// connections' handlers run in parallel. A handler may block, on a database
// or on [Socket.EmitWithAck]: meanwhile that client's next events wait, and
// past 256 of them (or 4 MiB) its connection is no longer read, which slows
// the client down and nobody else. A panic in a connection handler, event
// handler or packet middleware is recovered and reported as a [*PanicError]
// to [Socket.OnError] (or logged with its stack).
//
// # What blocks
//
// Emit, Event.Ack, Join, Leave, Disconnect and the bulk operations
// (SocketsJoin, SocketsLeave, DisconnectSockets) never wait for the network:
// they queue the packets and return (a client that falls too far behind is
// disconnected with "transport error"; see engineio.Options.MaxQueuedBytes).
// The calls that wait take a [context.Context] first, and return when it
// ends: [Socket.EmitWithAck] and [BroadcastOperator.EmitWithAck] wait for
// acknowledgements (ending the wait never closes the socket);
// FetchSockets and ServerSideEmit wait for the adapter, which in a cluster
// asks the other nodes (the in-memory default answers at once);
// [Server.Close] waits for the connections to close. Handlers that do I/O
// for a socket pass it [Socket.Context], which ends when the socket
// disconnects (connection middlewares get it as their ctx).
//
// # Errors
//
// Errors are wrapped once and checkable with [errors.Is]:
// [ErrReservedEvent] (emitting "connect", "disconnect", … which the protocol
// reserves), [ErrDisconnected] (with the reason: [*DisconnectError], the
// cause of an ended [Socket.Context]), [ErrAckTimeout] (wrapping the context's
// error too, so errors.Is(err, context.DeadlineExceeded) also holds),
// [ErrAckSent], [ErrServerClosed] (a broadcast after [Server.Close]
// returned), and [ErrNoArgument] and [ErrArgumentType] when reading
// [Args]. An argument that encoding/json cannot encode yields its error,
// wrapped ([errors.As] with *json.UnsupportedTypeError, …). A connection
// middleware refuses a socket with any error; a [*ConnectError] also sets
// the data the client's connect_error handler gets.
//
// # Coming from Node
//
// The API follows Node's socket.io 4.x; where Node takes a callback, Go
// blocks with a context. With io a *Server, s a *Socket and e the *Event
// a handler receives:
//
//   - new Server(httpServer, {path, pingInterval, cors, …}) → [NewServer](&[Options]{…}),
//     mounted on your mux; Engine.IO settings (pingInterval, pingTimeout,
//     maxHttpBufferSize, transports, cors, allowRequest, perMessageDeflate)
//     are in Options.Engine ([engineio.Options])
//   - io.on("connection", (socket) => …) → [Server.OnConnection] (or io.On("connection", h))
//   - io.use((socket, next) => …), next(err) → [Server.Use](func(ctx, s) error {…}): return
//     nil or an error; err.data → return &[ConnectError]{Message, Data}; ctx ends if the
//     client leaves first
//   - socket.handshake.auth / .query / .headers → s.Handshake().Auth (JSON), .Query(), .Headers;
//     socket.request.headers.cookie → http.ParseCookie(s.Handshake().Headers.Get("Cookie"))
//   - socket.data → [Socket.SetData] / [Socket.Data]; socket.id → [Socket.ID]
//   - socket.on("event", (arg, callback) => …) → [Socket.On]("event", func(s, e) {…}):
//     arguments in e.Args ([Args.String], [Args.Decode], [Args.Bytes]); callback(x) → [Event.Ack](x)
//   - socket.onAny → [Socket.OnAny]; socket.use(([event, …args], next) => …) → [Socket.Use]
//   - socket.on("disconnect", (reason) => …) → [Socket.OnDisconnect]; "disconnecting" →
//     [Socket.OnDisconnecting] (s.Rooms() still holds the rooms)
//   - socket.emit("event", a, b) → [Socket.Emit]("event", a, b); socket.volatile.emit → s.Volatile().Emit;
//     socket.compress(false).emit → s.Compress(false).Emit (the [Emitter]'s options combine:
//     s.Volatile().Compress(false).EmitWithAck(ctx, …));
//     several socket.emit in a row → [Socket.EmitMany] (queued together, usually one write)
//   - await socket.timeout(ms).emitWithAck("event", a) → ctx, cancel := context.WithTimeout(ctx, d);
//     [Socket.EmitWithAck](ctx, "event", a); socket.timeout(ms).emit("event", a, (err, res) => …) →
//     the same in a goroutine
//   - socket.join(room) / socket.leave(room) / socket.rooms → [Socket.Join] / [Socket.Leave] / [Socket.Rooms]
//   - socket.to(room).emit (the room but the sender) → [Socket.To](room).Emit;
//     socket.broadcast.emit → [Socket.Broadcast]().Emit; socket.except(room) → [Socket.Except]
//   - io.emit → [Server.Emit]; io.to(room).emit, io.in, io.except → [Server.To](room).Emit, In, Except
//   - several io.emit (or io.to(room).emit) in a row → [Server.EmitMany] ([BroadcastOperator.EmitMany]):
//     one selection and one write per recipient for all of them
//   - io.timeout(ms).emitWithAck("event") → io.Timeout(d).EmitWithAck(ctx, "event"):
//     the acknowledgements received, and an error wrapping ErrAckTimeout if some are missing
//   - io.local / io.volatile / io.compress(false) → [Server.Local] / [Server.Volatile] /
//     [Server.Compress](false), also after To, In, Except
//   - io.of("/admin") → [Server.Of]("/admin"), which has the same methods as io;
//     io.of(/^\/room-\d+$/) → [Server.OfRegexp]; io.of((name, auth, next) => …) → [Server.OfFunc]
//   - io.fetchSockets(), io.in(room).fetchSockets() → [Server.FetchSockets](ctx),
//     io.In(room).FetchSockets(ctx): []*[RemoteSocket] with ID, Rooms, Data, Handshake
//   - io.socketsJoin / socketsLeave / disconnectSockets(close) → [Server.SocketsJoin] /
//     [Server.SocketsLeave] / [Server.DisconnectSockets], also after To, In, Except
//   - io.serverSideEmit("event", …) → [Server.ServerSideEmit](ctx, "event", …)
//   - io.of("/").sockets.get(id), .size → io.Of("/").Socket(id), .Count()
//   - socket.disconnect() / socket.disconnect(true) → s.Disconnect(false) / s.Disconnect(true)
//   - socket.conn.transport.name → [Socket.Transport]; io.engine → [Server.Engine]
//   - new Server({cookie: true}) → Options.Engine.Cookie = &engineio.Cookie{}; io.engine.on("headers"
//     / "initial_headers", (headers, req) => …) → Options.Engine.OnHeaders(h, r, initial)
//   - io.close() → [Server.Close](ctx), then your http.Server's Shutdown(ctx)
//
// Not provided: connection state recovery, Engine.IO v3 clients
// (allowEIO3), emit with a callback (use EmitWithAck), removing
// handlers (off, removeAllListeners), serverSideEmit with acknowledgements.
package socketio
