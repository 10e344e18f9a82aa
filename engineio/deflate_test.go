package engineio

import (
	"bytes"
	"compress/flate"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"switchboard/internal/testclient"
)

func compress(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(b)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

func decompress(t *testing.T, b []byte) []byte {
	r := flate.NewReader(io.MultiReader(bytes.NewReader(b), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

// deflateConn is a raw WebSocket client that negotiates per-message deflate.
type deflateConn struct {
	t    *testing.T
	conn net.Conn
	r    io.Reader
}

func dialDeflate(t *testing.T, url string) *deflateConn {
	t.Helper()
	d := ws.Dialer{Extensions: []httphead.Option{(wsflate.Parameters{}).Option()}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, hs, err := d.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if len(hs.Extensions) != 1 || !strings.Contains(string(hs.Extensions[0].Name), "permessage-deflate") {
		t.Fatalf("extensions %v", hs.Extensions)
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(io.LimitReader(br, int64(br.Buffered())), conn)
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	return &deflateConn{t: t, conn: conn, r: r}
}

// read returns the next frame and its payload, inflated if it was
// compressed (RSV1).
func (c *deflateConn) read() (ws.Frame, []byte) {
	c.t.Helper()
	f, err := testclient.ReadFrame(c.r)
	if err != nil {
		c.t.Fatal(err)
	}
	if f.Header.Rsv&0x4 != 0 { // RSV1
		return f, decompress(c.t, f.Payload)
	}
	return f, f.Payload
}

func (c *deflateConn) text(msg string) {
	c.t.Helper()
	if err := ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewTextFrame([]byte(msg)))); err != nil {
		c.t.Fatal(err)
	}
}

// startDeflateEcho starts an echo server that compresses WebSocket messages
// of 100 bytes or more, and sends no ping in a test's time.
func startDeflateEcho(t *testing.T) *testServer {
	t.Helper()
	opts := fixtureOptions()
	opts.PingInterval = 10 * time.Second
	opts.PerMessageDeflate = &PerMessageDeflate{Threshold: 100}
	return startEcho(t, opts)
}

func TestPerMessageDeflateCompressesLargeMessagesBothWays(t *testing.T) {
	ts := startDeflateEcho(t)
	c := dialDeflate(t, ts.wsURL("EIO=4&transport=websocket"))
	if _, open := c.read(); !bytes.HasPrefix(open, []byte("0{")) {
		t.Fatalf("open %q", open)
	}
	big := "4" + strings.Repeat("compressible ", 100)
	// A compressed message from the client…
	f := ws.NewTextFrame(compress(t, []byte(big)))
	f.Header.Rsv = ws.Rsv(true, false, false)
	if err := ws.WriteFrame(c.conn, ws.MaskFrame(f)); err != nil {
		t.Fatal(err)
	}
	// …comes back compressed (over the threshold)…
	got, payload := c.read()
	if got.Header.Rsv&0x4 == 0 || string(payload) != big || len(got.Payload) >= len(big) {
		t.Fatalf("echo: rsv=%x %d bytes on the wire for %d", got.Header.Rsv, len(got.Payload), len(big))
	}
	// …and a small one comes back plain.
	c.text("4hi")
	got, payload = c.read()
	if got.Header.Rsv != 0 || string(payload) != "4hi" {
		t.Fatalf("small echo: rsv=%x %q", got.Header.Rsv, payload)
	}
}

// Uncompressed keeps a large message's frame plain under per-message
// deflate (Node's compress: false), sent alone, in a batch, or with others.
func TestUncompressedSendsStayPlainOverWebSocket(t *testing.T) {
	ts := startDeflateEcho(t)
	c := dialDeflate(t, ts.wsURL("EIO=4&transport=websocket"))
	c.read() // open
	s := ts.h.session(t, 0)
	big := strings.Repeat("compressible ", 100)
	expect := func(name string, compressed bool) {
		t.Helper()
		f, payload := c.read()
		if got := f.Header.Rsv&0x4 != 0; got != compressed || string(payload) != "4"+big {
			t.Fatalf("%s: compressed %v (want %v), payload %.20q…", name, got, compressed, payload)
		}
	}
	if err := s.Send(Uncompressed, NewTextMessage(big)); err != nil {
		t.Fatal(err)
	}
	expect("Send Uncompressed", false)
	if err := s.Send(0, NewTextMessage(big)); err != nil {
		t.Fatal(err)
	}
	expect("Send", true)
	for _, opts := range []SendOptions{Uncompressed, 0} {
		b := ts.NewBatch()
		// Two packets: the batch joins their frames into one shared buffer.
		if err := b.Send(s, opts, NewTextMessage(big), NewTextMessage(big)); err != nil {
			t.Fatal(err)
		}
		b.Flush()
		expect("batch", opts == 0)
		expect("batch", opts == 0)
	}
}

// Packets queued while a session upgrades follow it to the WebSocket
// compressed unless every one of them was sent Uncompressed.
func TestUncompressedPacketsQueuedDuringTheUpgrade(t *testing.T) {
	for _, c := range []struct {
		name       string
		opts       []SendOptions
		compressed bool
	}{
		{"all uncompressed", []SendOptions{Uncompressed, Uncompressed}, false},
		{"mixed", []SendOptions{Uncompressed, 0}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := startDeflateEcho(t)
			sid := ts.openPolling(t)
			s := ts.h.session(t, 0)
			up := dialDeflate(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
			up.text("2probe")
			if _, p := up.read(); string(p) != "3probe" {
				t.Fatalf("probe answer %q", p)
			}
			big := strings.Repeat("compressible ", 100)
			for _, o := range c.opts {
				if err := s.Send(o, NewTextMessage(big)); err != nil {
					t.Fatal(err)
				}
			}
			up.text("5")
			for range c.opts {
				f, payload := up.read()
				if got := f.Header.Rsv&0x4 != 0; got != c.compressed || string(payload) != "4"+big {
					t.Fatalf("compressed %v, want %v (payload %.20q…)", got, c.compressed, payload)
				}
			}
		})
	}
}

func TestDecompressionBombIsRefused(t *testing.T) {
	opts := fixtureOptions()
	opts.MaxHTTPBufferSize = 10_000
	opts.PerMessageDeflate = &PerMessageDeflate{}
	ts := startEcho(t, opts)
	d := ws.Dialer{Extensions: []httphead.Option{(wsflate.Parameters{}).Option()}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, _, err := d.Dial(ctx, ts.wsURL("EIO=4&transport=websocket"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bomb := compress(t, append([]byte("4"), make([]byte, 5_000_000)...)) // a few KB → 5 MB
	f := ws.NewTextFrame(bomb)
	f.Header.Rsv = ws.Rsv(true, false, false)
	_ = ws.WriteFrame(conn, ws.MaskFrame(f))
	if r := ts.h.waitReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

func TestWithoutTheOptionNoExtensionIsNegotiated(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	d := ws.Dialer{Extensions: []httphead.Option{(wsflate.Parameters{}).Option()}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, hs, err := d.Dial(ctx, ts.wsURL("EIO=4&transport=websocket"))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if len(hs.Extensions) != 0 {
		t.Fatalf("extensions %v", hs.Extensions)
	}
}
