package engineio

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Over TLS the hijacked connection is a *tls.Conn: the WebSocket runs in
// goroutine mode (no epoll), with the same behaviour.
func TestTLSWebSocketAndPolling(t *testing.T) {
	h := newEcho()
	srv := NewServer(h, fixtureOptions())
	hs := httptest.NewTLSServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := ws.Dialer{TLSConfig: &tls.Config{InsecureSkipVerify: true}}
	conn, br, _, err := d.Dial(ctx, "wss"+strings.TrimPrefix(hs.URL, "https")+"/engine.io/?EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(io.LimitReader(br, int64(br.Buffered())), conn)
	}
	rw := struct {
		io.Reader
		io.Writer
	}{r, conn}
	if open, _, err := wsutil.ReadServerData(rw); err != nil || !strings.HasPrefix(string(open), "0{") {
		t.Fatalf("open %q %v", open, err)
	}
	if err := wsutil.WriteClientText(conn, []byte("4secure")); err != nil {
		t.Fatal(err)
	}
	if msg, _, err := wsutil.ReadServerData(rw); err != nil || string(msg) != "4secure" {
		t.Fatalf("echo %q %v", msg, err)
	}
	h.mu.Lock()
	s := h.opened[0]
	h.mu.Unlock()
	if !s.Request().TLS {
		t.Fatal("Request().TLS is false over TLS")
	}

	client := hs.Client()
	res, err := client.Get(hs.URL + "/engine.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "0{") {
		t.Fatalf("polling over TLS: %d %q", res.StatusCode, body)
	}
}
