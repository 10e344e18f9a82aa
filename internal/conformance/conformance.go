// Package conformance builds the servers of the official protocol test
// suites' fixture contracts (CONTRACTS.md, "Fixture contracts"): the
// Engine.IO echo server of socketio/engine.io-protocol and the Socket.IO
// server of socketio/socket.io-protocol. ./test/fixture serves them to the
// suites; the differential tests of ./test/interop put them side by side
// with Node's own servers on the same contracts (test/interop/js/reference.mjs).
package conformance

import (
	"bytes"
	"log/slog"
	"time"

	"switchboard/engineio"
	"switchboard/socketio"
)

// Options change the contracts' heartbeat, for tests that need a longer
// one. A nil *Options, and every zero field, mean the contracts' values.
type Options struct {
	// PingInterval is the time between server pings (contract: 300 ms).
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong (contract: 200 ms).
	PingTimeout time.Duration
	// Logger receives the servers' diagnostics (default: discard).
	Logger *slog.Logger
}

func (o *Options) engine(path string) engineio.Options {
	eo := engineio.Options{
		Path:              path,
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1_000_000,
		CORS:              &engineio.CORS{Origins: []string{"*"}},
	}
	if o != nil {
		if o.PingInterval > 0 {
			eo.PingInterval = o.PingInterval
		}
		if o.PingTimeout > 0 {
			eo.PingTimeout = o.PingTimeout
		}
		eo.Logger = o.Logger
	}
	return eo
}

// EngineIO is the engine.io-protocol suite's server at /engine.io/: every
// message, text or binary, is sent back as received.
func EngineIO(opts *Options) *engineio.Server {
	eo := opts.engine("/engine.io/")
	return engineio.NewServer(echo{}, &eo)
}

// echo sends every message back as received.
type echo struct{}

func (echo) OnOpen(*engineio.Session) {}

func (echo) OnMessage(s *engineio.Session, data []byte, binary bool) {
	_ = s.Send(0, engineio.NewMessage(bytes.Clone(data), binary))
}

func (echo) OnClose(*engineio.Session, engineio.CloseReason, error) {}

// SocketIO is the socket.io-protocol suite's server at /socket.io/: on
// connection to "/" it emits "auth" with the auth payload; "message" →
// "message-back" with the same arguments; "message-with-ack" → ack with
// the arguments; namespace /custom emits "auth" on connection too.
func SocketIO(opts *Options) *socketio.Server {
	so := &socketio.Options{ConnectTimeout: time.Second, Engine: opts.engine("")}
	if opts != nil {
		so.Logger = opts.Logger
	}
	io := socketio.NewServer(so)
	io.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
		s.On("message", func(s *socketio.Socket, e *socketio.Event) {
			_ = s.Emit("message-back", e.Args.Values()...)
		})
		s.On("message-with-ack", func(s *socketio.Socket, e *socketio.Event) {
			_ = e.Ack(e.Args.Values()...)
		})
	})
	io.Of("/custom").OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
	})
	return io
}
