package socketio_test

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
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

func ExampleSocket_EmitWithAck() {
	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		answer, err := s.EmitWithAck(ctx, "question", "are you there?")
		if err != nil {
			return // socketio.ErrAckTimeout or ErrDisconnected
		}
		reply, _ := answer.String(0)
		_ = s.Emit("thanks", reply)
	})
	_ = io.Close(context.Background())
	// Output:
}

func ExampleNamespace_Use() {
	io := socketio.NewServer(nil)
	admin := io.Of("/admin")
	admin.Use(func(s *socketio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(s.Handshake().Auth, &auth); err != nil || auth.Token != "let-me-in" {
			// the client's connect_error handler gets err.message and err.data
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]string{"hint": "send a token"}}
		}
		return nil
	})
	_ = io.Close(context.Background())
	// Output:
}
