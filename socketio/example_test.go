package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"time"

	"switchboard/engineio"
	"switchboard/socketio"
)

// A complete echo server: every "echo" event comes back to its sender,
// acknowledged when the client asked for it, and "shout" goes to everyone.
func Example_echoServer() {
	io := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{PingInterval: 25 * time.Second},
	})
	io.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(s *socketio.Socket, e *socketio.Event) {
			msg, err := e.Args.String(0)
			if err != nil {
				_ = e.Ack(map[string]string{"error": err.Error()})
				return
			}
			_ = s.Emit("echo", msg)
			_ = e.Ack("ok")
		})
		s.On("shout", func(s *socketio.Socket, e *socketio.Event) {
			var text string
			if e.Args.Decode(0, &text) == nil {
				_ = io.Emit("shout", map[string]string{"from": s.ID(), "text": text})
			}
		})
		s.OnDisconnect(func(s *socketio.Socket, reason socketio.DisconnectReason) {
			log.Printf("%s left: %s", s.ID(), reason)
		})
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io) // also serves /socket.io/socket.io.js
	srv := &http.Server{Addr: "127.0.0.1:0", Handler: mux}
	go func() { _ = srv.ListenAndServe() }()

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = io.Close(ctx) // disconnects everyone with "server shutting down"
	_ = srv.Shutdown(ctx)
	// Output:
}

// Mounting the server on an http.ServeMux next to the application's own
// routes. The official client asks for "/socket.io/?EIO=4…" by default, and
// for "/socket.io?EIO=4…" when created with addTrailingSlash: false; a
// ServeMux routes the two separately, so mount the server at both.
func Example_serveMux() {
	io := socketio.NewServer(nil)
	defer io.Close(context.Background())

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io) // also serves /socket.io/socket.io.js, the browser client
	mux.Handle("/socket.io", io)  // io(url, {addTrailingSlash: false})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	for _, path := range []string{"/socket.io/", "/socket.io"} {
		c := dial(ts.URL+path, nil) // the browser: io(url, {path})
		fmt.Println(path, c.connect("/", ""))
		c.close()
	}
	res, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println("/healthz", res.Status)
	// Output:
	// /socket.io/ connect /
	// /socket.io connect /
	// /healthz 200 OK
}

// Authentication in a connection middleware (Node's io.use): it reads the
// handshake — the auth payload the client sent, the cookies and headers of
// the request that opened the connection — and refuses with a ConnectError,
// whose Message and Data the client's connect_error handler receives as
// err.message and err.data. What it learns goes in the socket's data.
func ExampleServer_Use() {
	sessions := map[string]string{"s3cr3t": "alice"} // session cookie → user
	tokens := map[string]string{"t0k3n": "bob"}      // API token → user

	io := socketio.NewServer(nil)
	io.Use(func(ctx context.Context, s *socketio.Socket) error {
		// The browser's io({auth: {token: "…"}}).
		var auth struct {
			Token string `json:"token"`
		}
		if json.Unmarshal(s.Handshake().Auth, &auth) == nil && tokens[auth.Token] != "" {
			s.SetData(tokens[auth.Token]) // socket.data = …
			return nil
		}
		// The cookies sent with the first request (same origin, or
		// withCredentials: true with CORS Credentials). A lookup that does
		// I/O takes ctx (db.QueryRowContext(ctx, …)): it ends if the client
		// leaves or the server closes meanwhile.
		cookies, _ := http.ParseCookie(s.Handshake().Headers.Get("Cookie"))
		for _, c := range cookies {
			if c.Name == "session" && sessions[c.Value] != "" {
				s.SetData(sessions[c.Value])
				return nil
			}
		}
		return &socketio.ConnectError{Message: "unauthorized", Data: map[string]string{"hint": "log in first"}}
	})
	io.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("welcome", s.Data())
	})
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	alice := dial(ts.URL+"/socket.io/", http.Header{"Cookie": {"session=s3cr3t"}})
	fmt.Println("alice:", alice.connect("/", ""))
	fmt.Println("alice:", alice.read())

	bob := dial(ts.URL+"/socket.io/", nil)
	fmt.Println("bob:", bob.connect("/", `{"token":"t0k3n"}`))
	fmt.Println("bob:", bob.read())

	eve := dial(ts.URL+"/socket.io/", nil)
	fmt.Println("eve:", eve.connect("/", `{"token":"guess"}`))

	alice.close()
	bob.close()
	eve.close()
	// Output:
	// alice: connect /
	// alice: event ["welcome","alice"]
	// bob: connect /
	// bob: event ["welcome","bob"]
	// eve: connect_error / {"message":"unauthorized","data":{"hint":"log in first"}}
}

// Rooms: a socket joins rooms on request, and a message goes to everyone in
// a room but its sender (Node's socket.to(room).emit). Each handler
// acknowledges, so the clients know when the server is done.
func ExampleSocket_To() {
	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(s *socketio.Socket, e *socketio.Event) {
			room, err := e.Args.String(0)
			if err != nil {
				_ = e.Ack(err.Error())
				return
			}
			s.Join(room) // socket.join(room)
			_ = e.Ack("joined " + room)
		})
		s.On("say", func(s *socketio.Socket, e *socketio.Event) {
			var msg struct {
				Room string `json:"room"`
				Text string `json:"text"`
			}
			if err := e.Args.Decode(0, &msg); err != nil {
				_ = e.Ack(err.Error())
				return
			}
			_ = s.To(msg.Room).Emit("said", msg.Text) // socket.to(room).emit: not back to s
			_ = e.Ack("sent")
		})
	})
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	users := map[string]*client{}
	for _, name := range []string{"alice", "bob", "carol"} {
		c := dial(ts.URL+"/socket.io/", nil)
		c.connect("/", "")
		room := "lobby"
		if name == "carol" {
			room = "kitchen"
		}
		c.emitWithAck("/", "join", room) // await socket.emitWithAck("join", room)
		fmt.Println(name+":", c.read())
		users[name] = c
	}

	users["alice"].emitWithAck("/", "say", map[string]any{"room": "lobby", "text": "hello"})
	fmt.Println("alice:", users["alice"].read()) // her acknowledgement, not her message
	fmt.Println("bob:", users["bob"].read())

	// io.emit: everyone. Alice and carol get this first: "hello" never came.
	_ = io.Emit("closing", "at 6pm")
	for _, name := range []string{"alice", "bob", "carol"} {
		fmt.Println(name+":", users[name].read())
		users[name].close()
	}
	// Output:
	// alice: ack ["joined lobby"]
	// bob: ack ["joined lobby"]
	// carol: ack ["joined kitchen"]
	// alice: ack ["sent"]
	// bob: event ["said","hello"]
	// alice: event ["closing","at 6pm"]
	// bob: event ["closing","at 6pm"]
	// carol: event ["closing","at 6pm"]
}

// Acknowledgements both ways. The server asks the client and waits for its
// answer, bounded by a context (Node's socket.timeout(ms).emitWithAck); a
// client that does not answer in time yields an error wrapping both
// ErrAckTimeout and the context's error. The client's own acknowledgement
// requests are answered with Event.Ack.
func ExampleSocket_EmitWithAck() {
	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		// Client → server: socket.emitWithAck("ping", n) answered by Ack.
		s.On("ping", func(s *socketio.Socket, e *socketio.Event) {
			var n int
			_ = e.Args.Decode(0, &n)
			_ = e.Ack(n + 1)
		})

		// Server → client, from the connection handler: while it waits,
		// this client's other events wait too, so bound the wait.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		answer, err := s.EmitWithAck(ctx, "question", "are you there?")
		if err != nil {
			fmt.Println("server: no answer:", err)
			return
		}
		reply, _ := answer.String(0)
		fmt.Println("server: the client answered", reply)

		ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err = s.EmitWithAck(ctx, "question", "still there?")
		fmt.Println("server:", errors.Is(err, socketio.ErrAckTimeout), errors.Is(err, context.DeadlineExceeded))
		_ = s.Emit("bye")
	})
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	c := dial(ts.URL+"/socket.io/", nil)
	c.connect("/", "")
	q := c.read()
	fmt.Println("client:", q)
	c.ack("/", q.ID, "yes") // socket.on("question", (q, callback) => callback("yes"))
	fmt.Println("client:", c.read())
	fmt.Println("client:", c.read()) // not answered
	c.emitWithAck("/", "ping", 41)
	fmt.Println("client:", c.read())
	c.close()
	// Output:
	// client: event ["question","are you there?"] (ack id 0)
	// server: the client answered yes
	// client: event ["question","still there?"] (ack id 1)
	// server: true true
	// client: event ["bye"]
	// client: ack [42]
}

// Namespaces: a static one (Node's io.of("/admin")) with its own middleware,
// and a family of dynamic ones created on first use (io.of(/^\/room-\d+$/)).
// One connection can join several namespaces; a namespace that is neither
// declared nor matched is refused.
func ExampleServer_OfRegexp() {
	io := socketio.NewServer(nil)
	admin := io.Of("/admin")
	admin.Use(func(_ context.Context, s *socketio.Socket) error {
		if s.Handshake().Query().Get("role") != "admin" {
			return errors.New("admins only")
		}
		return nil
	})
	admin.OnConnection(func(s *socketio.Socket) { _ = s.Emit("hello", "admin") })

	rooms := io.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	rooms.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("hello", s.Namespace().Name()) // "/room-42"
	})
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	// io(url + "/room-42"), io(url + "/admin"), …: one connection, multiplexed.
	c := dial(ts.URL+"/socket.io/", nil)
	fmt.Println(c.connect("/room-42", ""))
	fmt.Println(c.read())
	fmt.Println(c.connect("/admin", ""))
	fmt.Println(c.connect("/nope", ""))
	c.close()

	// The query of the first request: io(url + "/admin", {query: {role: "admin"}}).
	root := dial(ts.URL+"/socket.io/?role=admin", nil)
	fmt.Println(root.connect("/admin", ""))
	fmt.Println(root.read())
	root.close()
	// Output:
	// connect /room-42
	// event /room-42 ["hello","/room-42"]
	// connect_error /admin {"message":"admins only"}
	// connect_error /nope {"message":"Invalid namespace"}
	// connect /admin
	// event /admin ["hello","admin"]
}

// Dynamic namespaces decided by a function of the name and the auth payload
// (Node's io.of((name, auth, next) => …)): here one namespace per tenant,
// open only to that tenant's clients. Handlers registered on the parent
// apply to every child.
func ExampleServer_OfFunc() {
	io := socketio.NewServer(&socketio.Options{CleanupEmptyChildNamespaces: true})
	tenants := io.OfFunc(func(name string, auth json.RawMessage) bool {
		var a struct {
			Tenant string `json:"tenant"`
		}
		return json.Unmarshal(auth, &a) == nil && a.Tenant != "" && name == "/tenant-"+a.Tenant
	})
	tenants.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("hello", s.Namespace().Name())
	})
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	c := dial(ts.URL+"/socket.io/", nil)
	fmt.Println(c.connect("/tenant-acme", `{"tenant":"acme"}`)) // io(url + "/tenant-acme", {auth: {tenant: "acme"}})
	fmt.Println(c.read())
	fmt.Println(c.connect("/tenant-other", `{"tenant":"acme"}`))
	c.close()
	// Output:
	// connect /tenant-acme
	// event /tenant-acme ["hello","/tenant-acme"]
	// connect_error /tenant-other {"message":"Invalid namespace"}
}

// Binary data: a Node Buffer, ArrayBuffer or Blob arrives as a []byte — read
// it with Args.Bytes, or Decode into a []byte, at any depth — and a []byte
// sent, at any depth of an argument (a struct field too), arrives as a
// Buffer (Node) or ArrayBuffer (browser).
func Example_binary() {
	type file struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("upload", func(s *socketio.Socket, e *socketio.Event) {
			var f file
			if err := e.Args.Decode(0, &f); err != nil {
				_ = e.Ack(err.Error())
				return
			}
			fmt.Printf("server: %s % x\n", f.Name, f.Data)
			for i := range f.Data {
				f.Data[i] ^= 0xff
			}
			_ = e.Ack(file{Name: "inverted-" + f.Name, Data: f.Data})
		})
	})
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	c := dial(ts.URL+"/socket.io/", nil)
	c.connect("/", "")
	// socket.emitWithAck("upload", {name: "a.bin", data: Buffer.from([0xde, 0xad])})
	c.emitWithAck("/", "upload", map[string]any{"name": "a.bin", "data": []byte{0xde, 0xad}})
	fmt.Println("client:", c.read())
	c.close()
	// Output:
	// server: a.bin de ad
	// client: ack [{"name":"inverted-a.bin","data":<Buffer 21 52>}]
}

// Graceful shutdown: Server.Close disconnects every socket with "server
// shutting down" — their disconnect handlers have run when it returns — and
// refuses new connections. Close it before the http.Server's Shutdown, which
// would otherwise wait for the long-polling requests in flight.
func ExampleServer_Close() {
	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(s *socketio.Socket, reason socketio.DisconnectReason) {
			fmt.Println("disconnect:", reason)
		})
	})
	ts := httptest.NewServer(io)
	defer ts.Close() // in a program: httpServer.Shutdown(ctx), after io.Close

	c := dial(ts.URL+"/socket.io/", nil)
	c.connect("/", "")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := io.Close(ctx); err != nil {
		fmt.Println("cut short:", err) // ctx ended first: context.DeadlineExceeded
	}
	res, err := http.Get(ts.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println("new connection:", res.Status)
	// Output:
	// disconnect: server shutting down
	// new connection: 503 Service Unavailable
}

// Cross-origin clients. CORS (Node's cors option) lets a page of another
// origin use HTTP long-polling; it does not restrict WebSocket connections,
// which browsers open from any origin: check the Origin header in
// AllowRequest (Node's allowRequest) to refuse foreign pages altogether.
func ExampleOptions_cors() {
	const site = "https://app.example.com"
	io := socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{
			CORS: &engineio.CORS{Origins: []string{site}, Credentials: true},
			AllowRequest: func(r *http.Request) error {
				if origin := r.Header.Get("Origin"); origin != "" && origin != site {
					return errors.New("origin not allowed")
				}
				return nil
			},
		},
	})
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	// The browser's preflight, and a handshake from each origin.
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	for _, r := range []struct{ method, origin string }{
		{http.MethodOptions, site},
		{http.MethodGet, site},
		{http.MethodGet, "https://evil.example"},
	} {
		req, _ := http.NewRequest(r.method, ts.URL+"/socket.io/?EIO=4&transport=polling", nil)
		req.Header.Set("Origin", r.origin)
		if r.method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		res, err := hc.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Printf("%s from %s: %d, Access-Control-Allow-Origin %q\n",
			r.method, r.origin, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	// Output:
	// OPTIONS from https://app.example.com: 204, Access-Control-Allow-Origin "https://app.example.com"
	// GET from https://app.example.com: 200, Access-Control-Allow-Origin "https://app.example.com"
	// GET from https://evil.example: 403, Access-Control-Allow-Origin ""
}

// A broadcast that collects acknowledgements (Node's
// io.timeout(ms).emitWithAck): the answers that came in time, and an error
// wrapping ErrAckTimeout when some did not.
func ExampleBroadcastOperator_EmitWithAck() {
	io := socketio.NewServer(nil)
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	alice, bob := dial(ts.URL+"/socket.io/", nil), dial(ts.URL+"/socket.io/", nil)
	alice.connect("/", "")
	bob.connect("/", "")

	type result struct {
		answers []socketio.Args
		err     error
	}
	done := make(chan result)
	go func() {
		answers, err := io.Timeout(2*time.Second).EmitWithAck(context.Background(), "vote", "lunch?")
		done <- result{answers, err}
	}()

	q := alice.read()
	fmt.Println("alice:", q)
	alice.ack("/", q.ID, "pizza")
	fmt.Println("bob:", bob.read()) // and does not answer

	r := <-done
	for _, a := range r.answers {
		choice, _ := a.String(0)
		fmt.Println("server: answer", choice)
	}
	fmt.Println("server:", errors.Is(r.err, socketio.ErrAckTimeout), r.err)
	alice.close()
	bob.close()
	// Output:
	// alice: event ["vote","lunch?"] (ack id 0)
	// bob: event ["vote","lunch?"] (ack id 0)
	// server: answer pizza
	// server: true socketio: acknowledgement timed out: 1 of 2 acknowledgements for "vote": context deadline exceeded
}
