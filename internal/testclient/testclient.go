// Package testclient is a raw Engine.IO/Socket.IO wire client for tests:
// WebSocket frames and polling requests exactly as written, and every frame
// the server sends, in order (frames that arrive together are not lost).
package testclient

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Conn is a client WebSocket connection.
type Conn struct {
	t  testing.TB
	nc net.Conn
	r  io.Reader
}

// Dial opens a WebSocket to url (ws://…) and fails the test on error. The
// connection is closed at the end of the test.
func Dial(t testing.TB, url string) *Conn {
	t.Helper()
	c, err := DialHeader(t, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return c
}

// DialHeader opens a WebSocket to url with extra request headers (cookies,
// Origin); it returns the handshake error instead of failing the test.
func DialHeader(t testing.TB, url string, header http.Header) (*Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := ws.Dialer{}
	if header != nil {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	nc, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &Conn{t: t, nc: nc, r: nc}
	if br != nil { // frames that arrived with the 101 response
		c.r = io.MultiReader(limited(br), nc)
	}
	return c, nil
}

func limited(br *bufio.Reader) io.Reader { return io.LimitReader(br, int64(br.Buffered())) }

type rw struct {
	io.Reader
	io.Writer
}

// Read returns the next data message (control frames are handled).
func (c *Conn) Read() (msg string, binary bool) {
	c.t.Helper()
	b, op, err := wsutil.ReadServerData(rw{c.r, c.nc})
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return string(b), op == ws.OpBinary
}

// TryRead reads the next data message within d, returning an error instead
// of failing the test (for use from other goroutines).
func (c *Conn) TryRead(d time.Duration) (string, bool, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	defer c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, op, err := wsutil.ReadServerData(rw{c.r, c.nc})
	return string(b), op == ws.OpBinary, err
}

// ReadText returns the next text message, failing on a binary one.
func (c *Conn) ReadText() string {
	c.t.Helper()
	msg, bin := c.Read()
	if bin {
		c.t.Fatalf("got a binary message %q, want text", msg)
	}
	return msg
}

// ReadSkippingPings returns the next text message that is not an Engine.IO ping.
func (c *Conn) ReadSkippingPings() string {
	c.t.Helper()
	for {
		if msg := c.ReadText(); msg != "2" {
			return msg
		}
	}
}

// ReadSkippingPongs returns the next text message that is not a ping,
// answering pings with pongs so the session stays alive.
func (c *Conn) ReadSkippingPongs() string {
	c.t.Helper()
	for {
		msg := c.ReadText()
		if msg != "2" {
			return msg
		}
		c.Text("3")
	}
}

// Text sends a text message.
func (c *Conn) Text(s string) {
	c.t.Helper()
	if err := wsutil.WriteClientText(c.nc, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// TryText sends a text message within d, returning an error instead of
// failing the test (a server that stopped reading makes it time out).
func (c *Conn) TryText(s string, d time.Duration) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(d))
	defer c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return wsutil.WriteClientText(c.nc, []byte(s))
}

// Binary sends a binary message.
func (c *Conn) Binary(b []byte) {
	c.t.Helper()
	if err := wsutil.WriteClientBinary(c.nc, b); err != nil {
		c.t.Fatal(err)
	}
}

// Frame writes a raw frame (masked by the caller if needed).
func (c *Conn) Frame(f ws.Frame) {
	c.t.Helper()
	if err := ws.WriteFrame(c.nc, f); err != nil {
		c.t.Fatal(err)
	}
}

// ExpectClosed reads until the server closes the connection; it fails if
// that takes longer than the connection deadline.
func (c *Conn) ExpectClosed() {
	c.t.Helper()
	for {
		_, _, err := wsutil.ReadServerData(rw{c.r, c.nc})
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				c.t.Fatal("connection not closed")
			}
			return
		}
	}
}

// Close closes the TCP connection abruptly.
func (c *Conn) Close() { c.nc.Close() }

// Do performs an HTTP request and returns status, body and headers; header
// holds name/value pairs.
func Do(t testing.TB, method, url, body string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

// WSURL turns an http:// base URL into ws://.
func WSURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") }

// ReadFrame reads one whole WebSocket frame from r (unmasked if masked),
// refusing a declared payload over 16 MiB: ws.ReadFrame would trust the
// declared length.
func ReadFrame(r io.Reader) (ws.Frame, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return ws.Frame{}, err
	}
	if h.Length > 16<<20 {
		return ws.Frame{}, fmt.Errorf("testclient: frame of %d bytes", h.Length)
	}
	f := ws.Frame{Header: h, Payload: make([]byte, h.Length)}
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return ws.Frame{}, err
	}
	if h.Masked {
		ws.Cipher(f.Payload, h.Mask, 0)
	}
	return f, nil
}
