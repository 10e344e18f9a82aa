package wsconn

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// Hostile clients: frames a browser never sends, written raw.

// rawFrame builds a masked client frame with the given first byte and a
// declared length that need not match the payload.
func rawFrame(b0 byte, declared uint64, payload []byte) []byte {
	f := []byte{b0}
	switch {
	case declared < 126:
		f = append(f, 0x80|byte(declared))
	case declared < 1<<16:
		f = append(f, 0x80|126, byte(declared>>8), byte(declared))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, declared)
	}
	f = append(f, 0, 0, 0, 0) // zero mask: the payload goes as is
	return append(f, payload...)
}

func TestHostileFramesCloseWithTheRightCode(t *testing.T) {
	fragments := func(n, size int) []byte {
		var b []byte
		b = append(b, rawFrame(opText, uint64(size), bytes.Repeat([]byte("a"), size))...)
		for i := 1; i < n; i++ {
			b = append(b, rawFrame(opContinuation, uint64(size), bytes.Repeat([]byte("a"), size))...)
		}
		return b
	}
	closeWith := func(code uint16) []byte {
		return rawFrame(0x80|opClose, 2, binary.BigEndian.AppendUint16(nil, code))
	}
	cases := []struct {
		name  string
		bytes []byte
		code  int
	}{
		{"declared length 2^63", rawFrame(0x80|opText, 1<<63, nil), CloseProtocolError},
		{"declared length 2^63-1", rawFrame(0x80|opText, 1<<63-1, nil), CloseTooBig},
		{"declared length 2^32", rawFrame(0x80|opBinary, 1<<32, nil), CloseTooBig},
		{"fragments past the limit", fragments(11, 100), CloseTooBig},
		{"a thousand 1-byte fragments", fragments(1001, 1), CloseTooBig},
		{"control frame over 125 bytes", rawFrame(0x80|opPing, 126, make([]byte, 126)), CloseProtocolError},
		{"fragmented ping", rawFrame(opPing, 1, []byte("x")), CloseProtocolError},
		{"close with a 1-byte body", rawFrame(0x80|opClose, 1, []byte{3}), CloseProtocolError},
		{"close code 999", closeWith(999), CloseProtocolError},
		{"close code 1004", closeWith(1004), CloseProtocolError},
		{"close code 1005", closeWith(1005), CloseProtocolError},
		{"close code 1006", closeWith(1006), CloseProtocolError},
		{"close code 1015", closeWith(1015), CloseProtocolError},
		{"close code 5000", closeWith(5000), CloseProtocolError},
		{"close reason not UTF-8", rawFrame(0x80|opClose, 4, []byte{0x03, 0xe8, 0xff, 0xfe}), CloseInvalidData},
		{"invalid UTF-8 across fragments", append(rawFrame(opText, 1, []byte{0xe2}), rawFrame(0x80, 1, []byte{0x28})...), CloseInvalidData},
		{"compressed without negotiation", rawFrame(0xC0|opText, 1, []byte("x")), CloseProtocolError},
		{"RSV2 set", rawFrame(0xA0|opText, 1, []byte("x")), CloseProtocolError},
		{"text inside a fragmented message", append(rawFrame(opText, 1, []byte("a")), rawFrame(0x80|opText, 1, []byte("b"))...), CloseProtocolError},
	}
	forModes(t, func(t *testing.T, opts Options) {
		opts.MaxMessageSize = 1000
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec := newRecorder(false)
				s := startServer(t, &opts, func() Handler { return rec })
				c := dial(t, s)
				if _, err := c.Write(tc.bytes); err != nil {
					t.Fatal(err)
				}
				wantProtocolClose(t, c, rec, tc.code)
			})
		}
	})
}

// A compressed message that inflates past the limit (a zip bomb) is refused
// with 1009 without inflating it whole.
func TestDecompressionBombIsRefused(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		opts.MaxMessageSize = 1 << 20
		opts.Deflate = true
		rec := newRecorder(false)
		s := startServer(t, &opts, func() Handler { return rec })
		c := dialDeflate(t, s)
		// 1 MiB of zeros compressed and flushed, repeated: a valid stream
		// (its back references only reach zeros) inflating to 300 MiB.
		var z bytes.Buffer
		w, _ := flate.NewWriter(&z, flate.BestCompression)
		_, _ = w.Write(make([]byte, 1<<20))
		_ = w.Flush()
		body := bytes.Repeat(z.Bytes(), 300)
		body = bytes.TrimSuffix(body, []byte{0, 0, 0xff, 0xff})
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := c.Write(rawFrame(0xC0|opBinary, uint64(len(body)), body)); err != nil {
			t.Fatal(err)
		}
		if code := expectClose(t, c); code != CloseTooBig {
			t.Fatalf("close code %d", code)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		// The inflated output is cut at the limit (plus io.ReadAll's growth).
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
			t.Fatalf("allocated %d MiB refusing a bomb", grown>>20)
		}
		if len(rec.msgs) != 0 {
			t.Fatalf("delivered %d messages", len(rec.msgs))
		}
	})
}

func dialDeflate(t *testing.T, s *server) net.Conn {
	t.Helper()
	d := ws.Dialer{Extensions: []httphead.Option{(wsflate.Parameters{}).Option()}}
	c, br, _, err := d.Dial(t.Context(), s.url())
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

// A client that floods pings and reads nothing gets a pong for each, queued:
// the queue's bound must bound memory too, however small the frames. The
// client ends as a slow consumer, or stalls itself first: with both of its
// socket buffers full, TCP on loopback may stop carrying its pings, and then
// the server holds nothing but the kernel's buffers.
func TestPingFloodFromANonReaderIsBounded(t *testing.T) {
	forModes(t, func(t *testing.T, opts Options) {
		opts.MaxQueuedBytes = 1 << 20
		rec := newRecorder(false)
		s := startServer(t, &opts, func() Handler { return rec })
		// Small socket buffers on both sides (accepted sockets inherit the
		// listener's), so that the pongs pile up in the server's queue, not
		// in the kernel. Not below a loopback segment: a receive buffer
		// smaller than one drops segments and stalls the connection.
		if raw, err := s.srv.Listener.(*net.TCPListener).SyscallConn(); err == nil {
			_ = raw.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 128<<10) })
		}
		d := ws.Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				_ = c.(*net.TCPConn).SetReadBuffer(128 << 10)
			}
			return c, err
		}}
		c, _, _, err := d.Dial(t.Context(), s.url())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		waitConns(t, s, 1)
		sc := s.conns[0]
		ping := bytes.Repeat(rawFrame(0x80|opPing, 0, nil), 1<<20)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var peak uint64
		for i := 0; i < 16; i++ {
			_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Write(ping); err != nil {
				break // closed by the server, or stalled
			}
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
		if grown := int64(peak) - int64(before.HeapAlloc); grown > 4*int64(opts.MaxQueuedBytes) {
			t.Fatalf("a ping flood grew the heap by %d KiB (queue bound %d KiB)", grown>>10, opts.MaxQueuedBytes>>10)
		}
		if q := sc.QueuedBytes(); q > opts.MaxQueuedBytes {
			t.Fatalf("%d bytes queued (bound %d)", q, opts.MaxQueuedBytes)
		}
		select {
		case err := <-rec.closed:
			if !errors.Is(err, ErrSlowConsumer) {
				t.Fatalf("OnClose(%v)", err)
			}
		default: // stalled: see above
		}
	})
}
