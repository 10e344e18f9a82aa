package socketio

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/engineio"
)

// pollGzip is a long-polling GET that accepts gzip and keeps the answer as
// it came (not decompressed): its Content-Encoding and its raw body.
func pollGzip(t *testing.T, url string) (encoding string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Get("Content-Encoding"), body
}

// Compress(false) — on a socket's emitter, on a broadcast — sends the event
// uncompressed where the engine would compress it: here a long-polling
// answer over the 1 KiB threshold, which is gzipped otherwise.
func TestCompressFalseSendsUncompressed(t *testing.T) {
	io := NewServer(quietOptions())
	sockets := newEvents[*Socket]()
	io.OnConnection(func(s *Socket) { sockets.add(s) })
	ts := start(t, io)
	_, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling"), "")
	sid := body[len(`0{"sid":"`) : len(`0{"sid":"`)+20]
	poll := ts.url("EIO=4&transport=polling&sid=" + sid)
	if code, _, _ := do(t, "POST", poll, "40"); code != 200 {
		t.Fatalf("CONNECT: %d", code)
	}
	if enc, reply := pollGzip(t, poll); enc != "" || !strings.HasPrefix(string(reply), "40{") {
		t.Fatalf("CONNECT reply %q (%q)", reply, enc)
	}
	s := sockets.next(t)
	big := strings.Repeat("not worth compressing ", 100)
	want := `42["big","` + big + `"]`
	for _, c := range []struct {
		name     string
		emit     func() error
		encoding string
	}{
		{"Socket.Compress(false)", func() error { return s.Compress(false).Emit("big", big) }, ""},
		{"Socket.Emit", func() error { return s.Emit("big", big) }, "gzip"},
		{"Socket.Compress(true)", func() error { return s.Compress(true).Emit("big", big) }, "gzip"},
		{"Compress(false) then Compress(true)", func() error { return s.Compress(false).Compress(true).Emit("big", big) }, "gzip"},
		{"Server.Compress(false)", func() error { return io.Compress(false).Emit("big", big) }, ""},
		{"Server.Emit", func() error { return io.Emit("big", big) }, "gzip"},
		{"To(room).Compress(false)", func() error { return io.To(s.ID()).Compress(false).Emit("big", big) }, ""},
		{"EmitMany", func() error {
			return s.Compress(false).EmitMany(Message{Event: "big", Args: []any{big}})
		}, ""},
	} {
		if err := c.emit(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		enc, raw := pollGzip(t, poll)
		if enc != c.encoding {
			t.Errorf("%s: Content-Encoding %q, want %q", c.name, enc, c.encoding)
		}
		if enc == "" && string(raw) != want {
			t.Errorf("%s: answer %.40q…, want the event", c.name, raw)
		}
	}

	// The options combine (a volatile emit would be dropped here, with no
	// poll waiting).
	if got := s.Volatile().Compress(false).opts; got != engineio.Volatile|engineio.Uncompressed {
		t.Errorf("Volatile().Compress(false) options %b", got)
	}
	if got := s.Compress(false).Volatile().Compress(true).opts; got != engineio.Volatile {
		t.Errorf("Compress(false).Volatile().Compress(true) options %b", got)
	}

	// EmitWithAck takes the emitter's options too; the client's answer
	// resolves it.
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		args, err := s.Compress(false).EmitWithAck(ctx, "big", big)
		if err == nil {
			var got string
			if got, err = args.String(0); err == nil && got != "ok" {
				err = fmt.Errorf("acknowledged with %q", got)
			}
		}
		done <- err
	}()
	enc, raw := pollGzip(t, poll)
	if enc != "" || !strings.HasPrefix(string(raw), `420["big",`) {
		t.Fatalf("EmitWithAck: answer %.40q… (%q)", raw, enc)
	}
	if code, _, _ := do(t, "POST", poll, `430["ok"]`); code != 200 {
		t.Fatalf("ack POST: %d", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("EmitWithAck: %v", err)
	}
}
