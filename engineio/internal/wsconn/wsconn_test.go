package wsconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"go.uber.org/goleak"

	"switchboard/internal/testclient"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Handler that records what it gets and can echo.
type recorder struct {
	echo   bool
	mu     sync.Mutex
	msgs   []string
	closed chan error
}

func newRecorder(echo bool) *recorder { return &recorder{echo: echo, closed: make(chan error, 1)} }

func (r *recorder) OnMessage(c *Conn, data []byte, binary bool) {
	r.mu.Lock()
	r.msgs = append(r.msgs, string(data))
	r.mu.Unlock()
	if r.echo {
		_ = c.Send(true, AppendFrame(nil, !binary, data))
	}
}

func (r *recorder) OnClose(c *Conn, err error) { r.closed <- err }

type server struct {
	eng   *Engine
	srv   *httptest.Server
	mu    sync.Mutex
	conns []*Conn
}

func startServer(t *testing.T, opts *Options, h func() Handler) *server {
	t.Helper()
	s := &server{eng: NewEngine(opts)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.eng.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		c.Start(h())
	}))
	t.Cleanup(func() {
		s.srv.Close()
		s.eng.Close()
	})
	return s
}

func (s *server) url() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") }

func dial(t *testing.T, s *server) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, br, _, err := ws.Dial(ctx, s.url())
	if err != nil {
		t.Fatal(err)
	}
	if br != nil {
		c = &bufferedConn{Conn: c, r: br}
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

var modes = []struct {
	name string
	opts *Options
}{
	{"netpoll", &Options{}},
	{"netpoll-blocking-wait", &Options{blockingWait: true}},
	{"goroutine", &Options{DisableNetpoll: true}},
}

func forModes(t *testing.T, f func(t *testing.T, opts Options)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { f(t, *m.opts) })
	}
}

func TestEchoesTextAndBinaryMessages(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		s := startServer(t, &opts, func() Handler { return newRecorder(true) })
		c := dial(t, s)
		for i := 0; i < 50; i++ {
			if err := wsutil.WriteClientText(c, []byte("hello")); err != nil {
				t.Fatal(err)
			}
			got, op, err := wsutil.ReadServerData(c)
			if err != nil || op != ws.OpText || string(got) != "hello" {
				t.Fatalf("text echo: %q %v %v", got, op, err)
			}
		}
		if err := wsutil.WriteClientBinary(c, []byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		got, op, err := wsutil.ReadServerData(c)
		if err != nil || op != ws.OpBinary || !bytes.Equal(got, []byte{1, 2, 3}) {
			t.Fatalf("binary echo: %v %v %v", got, op, err)
		}
	})
}

func TestReassemblesFragmentedMessages(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		s := startServer(t, &opts, func() Handler { return newRecorder(true) })
		c := dial(t, s)
		frames := []ws.Frame{
			ws.NewFrame(ws.OpText, false, []byte("hel")),
			ws.NewPingFrame([]byte("p")), // control frames may interleave
			ws.NewFrame(ws.OpContinuation, false, []byte("lo ")),
			ws.NewFrame(ws.OpContinuation, true, []byte("world")),
		}
		for _, f := range frames {
			if err := ws.WriteFrame(c, ws.MaskFrame(f)); err != nil {
				t.Fatal(err)
			}
		}
		f, err := testclient.ReadFrame(c)
		if err != nil || f.Header.OpCode != ws.OpPong || string(f.Payload) != "p" {
			t.Fatalf("pong: %+v %v", f.Header, err)
		}
		got, _, err := wsutil.ReadServerData(c)
		if err != nil || string(got) != "hello world" {
			t.Fatalf("got %q %v", got, err)
		}
	})
}

func TestLargeMessageArrivingInPiecesIsDelivered(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		s := startServer(t, &opts, func() Handler { return newRecorder(true) })
		c := dial(t, s)
		big := bytes.Repeat([]byte("x"), 300_000)
		if err := wsutil.WriteClientText(c, big); err != nil {
			t.Fatal(err)
		}
		got, _, err := wsutil.ReadServerData(c)
		if err != nil || !bytes.Equal(got, big) {
			t.Fatalf("got %d bytes, %v", len(got), err)
		}
	})
}

// expectClose reads until the server's close frame and returns its code.
func expectClose(t *testing.T, c net.Conn) int {
	t.Helper()
	for {
		f, err := testclient.ReadFrame(c)
		if err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		if f.Header.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(f.Payload)
			return int(code)
		}
	}
}

func TestProtocolViolationsCloseWithTheRightCode(t *testing.T) {
	cases := []struct {
		name  string
		frame ws.Frame
		mask  bool
		code  int
	}{
		{"oversized message", ws.NewTextFrame(bytes.Repeat([]byte("a"), 2000)), true, CloseTooBig},
		{"invalid UTF-8", ws.NewTextFrame([]byte{0xff, 0xfe}), true, CloseInvalidData},
		{"unmasked frame", ws.NewTextFrame([]byte("hi")), false, CloseProtocolError},
		{"reserved opcode", ws.NewFrame(ws.OpCode(0x3), true, nil), true, CloseProtocolError},
		{"orphan continuation", ws.NewFrame(ws.OpContinuation, true, []byte("x")), true, CloseProtocolError},
	}
	forModes(t, func(t *testing.T, opts Options) {
		opts.MaxMessageSize = 1000
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec := newRecorder(false)
				s := startServer(t, &opts, func() Handler { return rec })
				c := dial(t, s)
				f := tc.frame
				if tc.mask {
					f = ws.MaskFrame(f)
				}
				if err := ws.WriteFrame(c, f); err != nil {
					t.Fatal(err)
				}
				wantProtocolClose(t, c, rec, tc.code)
			})
		}
	})
}

// wantProtocolClose expects the server to close c with code, to report a
// protocol error with that code to OnClose, and to deliver no message.
func wantProtocolClose(t *testing.T, c net.Conn, rec *recorder, code int) {
	t.Helper()
	if got := expectClose(t, c); got != code {
		t.Fatalf("close code %d, want %d", got, code)
	}
	select {
	case err := <-rec.closed:
		var pe *protocolError
		if !errors.As(err, &pe) || pe.Code != code {
			t.Fatalf("OnClose(%v)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose not called")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.msgs) != 0 {
		t.Fatalf("delivered %q", rec.msgs)
	}
}

func TestPeerCloseFrameIsEchoedAndReported(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		rec := newRecorder(false)
		s := startServer(t, &opts, func() Handler { return rec })
		c := dial(t, s)
		body := ws.NewCloseFrameBody(ws.StatusGoingAway, "bye")
		if err := ws.WriteFrame(c, ws.MaskFrame(ws.NewCloseFrame(body))); err != nil {
			t.Fatal(err)
		}
		if code := expectClose(t, c); code != CloseGoingAway {
			t.Fatalf("echo code %d", code)
		}
		err := <-rec.closed
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != CloseGoingAway || ce.Reason != "bye" {
			t.Fatalf("OnClose(%v)", err)
		}
	})
}

func TestServerCloseWritesQueuedFramesFirst(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		rec := newRecorder(false)
		s := startServer(t, &opts, func() Handler { return rec })
		c := dial(t, s)
		waitConns(t, s, 1)
		sc := s.conns[0]
		for i := 0; i < 100; i++ {
			_ = sc.Send(i%2 == 0, AppendFrame(nil, true, []byte{byte('a' + i%26)}))
		}
		sc.Close(CloseNormal, "done")
		for i := 0; i < 100; i++ {
			got, _, err := wsutil.ReadServerData(c)
			if err != nil || len(got) != 1 || got[0] != byte('a'+i%26) {
				t.Fatalf("frame %d: %q %v", i, got, err)
			}
		}
		if code := expectClose(t, c); code != CloseNormal {
			t.Fatalf("close code %d", code)
		}
		_ = ws.WriteFrame(c, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))))
		select {
		case err := <-rec.closed:
			if !errors.Is(err, ErrClosedByUs) {
				t.Fatalf("OnClose(%v)", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("OnClose not called")
		}
		if err := sc.Send(true, AppendFrame(nil, true, []byte("late"))); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send after close: %v", err)
		}
	})
}

func waitConns(t *testing.T, s *server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		k := len(s.conns)
		s.mu.Unlock()
		if k >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("want %d connections", n)
}

func TestBroadcastReachesEveryConnectionInOrder(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		s := startServer(t, &opts, func() Handler { return newRecorder(false) })
		const nconn, nmsg = 20, 200
		clients := make([]net.Conn, nconn)
		for i := range clients {
			clients[i] = dial(t, s)
		}
		waitConns(t, s, nconn)
		go func() {
			for i := 0; i < nmsg; i++ {
				frame := AppendFrame(nil, false, []byte{byte(i)})
				for _, sc := range s.conns {
					_ = sc.Send(false, frame)
				}
			}
		}()
		for ci, c := range clients {
			for i := 0; i < nmsg; i++ {
				got, _, err := wsutil.ReadServerData(c)
				if err != nil || len(got) != 1 || got[0] != byte(i) {
					t.Fatalf("client %d message %d: %v %v", ci, i, got, err)
				}
			}
		}
	})
}

// TestBatchedBroadcastsReachEveryConnectionInOrder drives the broadcast
// path (Enqueue, then Flush in slices of 128) to more connections than one
// flusher batch, message after message, so the flushers take batches while
// more are appended: every connection gets every message once, in order.
func TestBatchedBroadcastsReachEveryConnectionInOrder(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		opts.Flushers = 2
		s := startServer(t, &opts, func() Handler { return newRecorder(false) })
		const nconn, nmsg = 300, 40
		clients := make([]net.Conn, nconn)
		for i := range clients {
			clients[i] = dial(t, s)
		}
		waitConns(t, s, nconn)
		s.mu.Lock()
		conns := append([]*Conn(nil), s.conns...)
		s.mu.Unlock()
		go func() {
			var start []*Conn
			for i := 0; i < nmsg; i++ {
				frame := AppendFrame(nil, false, []byte{byte(i)})
				for j, c := range conns {
					if ok, err := c.Enqueue(frame); err == nil && ok {
						start = append(start, c)
					}
					if len(start) == 128 || j == len(conns)-1 {
						s.eng.Flush(start)
						start = start[:0]
					}
				}
			}
		}()
		var wg sync.WaitGroup
		errs := make(chan error, nconn)
		for ci, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < nmsg; i++ {
					got, _, err := wsutil.ReadServerData(c)
					if err != nil || len(got) != 1 || got[0] != byte(i) {
						errs <- fmt.Errorf("client %d message %d: %v %v", ci, i, got, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

func TestSlowConsumerIsDisconnected(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		opts.MaxQueuedBytes = 64 << 10
		rec := newRecorder(false)
		s := startServer(t, &opts, func() Handler { return rec })
		_ = dial(t, s) // never reads
		waitConns(t, s, 1)
		sc := s.conns[0]
		frame := AppendFrame(nil, false, make([]byte, 16<<10))
		var err error
		for i := 0; i < 10_000 && err == nil; i++ {
			err = sc.Send(false, frame)
			if i%64 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		if !errors.Is(err, ErrSlowConsumer) && !errors.Is(err, ErrClosed) {
			t.Fatalf("Send kept succeeding: %v", err)
		}
		select {
		case got := <-rec.closed:
			if !errors.Is(got, ErrSlowConsumer) {
				t.Fatalf("OnClose(%v)", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("OnClose not called")
		}
	})
}

func TestAbruptClientDisconnectIsReported(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		rec := newRecorder(false)
		s := startServer(t, &opts, func() Handler { return rec })
		c := dial(t, s)
		waitConns(t, s, 1)
		c.Close()
		select {
		case err := <-rec.closed:
			if err == nil {
				t.Fatal("nil cause")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("OnClose not called")
		}
	})
}

func TestBytesPipelinedWithTheHandshakeAreRead(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		s := startServer(t, &opts, func() Handler { return newRecorder(true) })
		raw, err := net.Dial("tcp", strings.TrimPrefix(s.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var frame bytes.Buffer
		_ = ws.WriteFrame(&frame, ws.MaskFrame(ws.NewTextFrame([]byte("early"))))
		req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
		if _, err := raw.Write(append([]byte(req), frame.Bytes()...)); err != nil {
			t.Fatal(err)
		}
		_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		var got []byte
		for !bytes.Contains(got, []byte("early")) {
			n, err := raw.Read(buf)
			if err != nil {
				t.Fatalf("read: %v (got %q)", err, got)
			}
			got = append(got, buf[:n]...)
		}
	})
}

// bufferedConn reads what the dialer buffered before reading the connection.
type bufferedConn struct {
	net.Conn
	r io.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) {
	if c.r != nil {
		if br, ok := c.r.(interface{ Buffered() int }); ok && br.Buffered() == 0 {
			c.r = nil
		} else {
			return c.r.Read(p)
		}
	}
	return c.Conn.Read(p)
}
