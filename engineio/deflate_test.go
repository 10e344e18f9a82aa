package engineio

import (
	"bytes"
	"compress/flate"
	"context"
	"io"
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

func TestPerMessageDeflateCompressesLargeMessagesBothWays(t *testing.T) {
	opts := fixtureOptions()
	opts.PingInterval = 10 * time.Second
	opts.PerMessageDeflate = &PerMessageDeflate{Threshold: 100}
	ts := startEcho(t, opts)
	d := ws.Dialer{Extensions: []httphead.Option{(wsflate.Parameters{}).Option()}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, hs, err := d.Dial(ctx, ts.wsURL("EIO=4&transport=websocket"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if len(hs.Extensions) != 1 || !strings.Contains(string(hs.Extensions[0].Name), "permessage-deflate") {
		t.Fatalf("extensions %v", hs.Extensions)
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(io.LimitReader(br, int64(br.Buffered())), conn)
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	read := func() (ws.Frame, []byte) {
		f, err := testclient.ReadFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		if f.Header.Rsv&0x4 != 0 { // RSV1
			return f, decompress(t, f.Payload)
		}
		return f, f.Payload
	}
	if _, open := read(); !bytes.HasPrefix(open, []byte("0{")) {
		t.Fatalf("open %q", open)
	}
	big := "4" + strings.Repeat("compressible ", 100)
	// A compressed message from the client…
	f := ws.NewTextFrame(compress(t, []byte(big)))
	f.Header.Rsv = ws.Rsv(true, false, false)
	if err := ws.WriteFrame(conn, ws.MaskFrame(f)); err != nil {
		t.Fatal(err)
	}
	// …comes back compressed (over the threshold)…
	got, payload := read()
	if got.Header.Rsv&0x4 == 0 || string(payload) != big || len(got.Payload) >= len(big) {
		t.Fatalf("echo: rsv=%x %d bytes on the wire for %d", got.Header.Rsv, len(got.Payload), len(big))
	}
	// …and a small one comes back plain.
	if err := ws.WriteFrame(conn, ws.MaskFrame(ws.NewTextFrame([]byte("4hi")))); err != nil {
		t.Fatal(err)
	}
	got, payload = read()
	if got.Header.Rsv != 0 || string(payload) != "4hi" {
		t.Fatalf("small echo: rsv=%x %q", got.Header.Rsv, payload)
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
