package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// testServer is the smallest server that honours the bench contract over WebSocket: the
// Engine.IO open packet, "40" → "40{"sid":…}", and every 42["chat message","text"] broadcast as
// 42["chat message",{"username":"bench","message":"text"}] to every connection.
type testServer struct {
	mu      sync.Mutex
	conns   map[*serverConn]bool
	next    int
	cookies map[string]int // Cookie headers of the handshakes seen
}

type serverConn struct {
	nc  net.Conn
	wmu sync.Mutex
}

func startTestServer(tb testing.TB) (addr string) {
	tb.Helper()
	addr, _ = startTestServerHandle(tb)
	return addr
}

func startTestServerHandle(tb testing.TB) (addr string, s *testServer) {
	tb.Helper()
	s = &testServer{conns: map[*serverConn]bool{}, cookies: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serveWS))
	tb.Cleanup(func() {
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		srv.Close()
	})
	return srv.Listener.Addr().String(), s
}

// dropAll closes every connection from the server's side.
func (s *testServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.nc.Close()
	}
}

func (s *testServer) serveWS(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/socket.io/" || r.URL.Query().Get("transport") != "websocket" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	s.cookies[r.Header.Get("Cookie")]++
	s.mu.Unlock()
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + wsGUID))
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
	if brw.Flush() != nil {
		nc.Close()
		return
	}
	c := &serverConn{nc: nc}
	s.mu.Lock()
	s.next++
	sid := strconv.Itoa(s.next)
	s.conns[c] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		nc.Close()
	}()
	c.write(serverFrame(`0{"sid":"` + sid + `","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	for {
		p, err := readClientFrame(brw.Reader)
		if err != nil {
			return
		}
		switch {
		case string(p) == "40":
			c.write(serverFrame(`40{"sid":"s` + sid + `"}`))
		case bytes.HasPrefix(p, chatPrefix) && bytes.HasSuffix(p, []byte("]")):
			text := p[len(chatPrefix) : len(p)-1]
			frame := serverFrame(`42["chat message",{"username":"bench","message":` + string(text) + `}]`)
			s.mu.Lock()
			all := make([]*serverConn, 0, len(s.conns))
			for c := range s.conns {
				all = append(all, c)
			}
			s.mu.Unlock()
			for _, c := range all {
				c.write(frame)
			}
		}
	}
}

func (c *serverConn) write(frame []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.Write(frame)
}

func serverFrame(text string) []byte {
	b := []byte{0x81}
	switch n := len(text); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, text...)
}

// readClientFrame reads one masked, unfragmented frame.
func readClientFrame(br *bufio.Reader) ([]byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(br, h[:2]); err != nil {
		return nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(br, h[:2]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(h[:2]))
	case 127:
		if _, err := io.ReadFull(br, h[:8]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(h[:8])
	}
	if n > maxMessage {
		return nil, errTooLarge
	}
	var key [4]byte
	if _, err := io.ReadFull(br, key[:]); err != nil {
		return nil, err
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return nil, err
	}
	maskBytes(p, key)
	if h[0]&0x0f == opClose {
		return nil, io.EOF
	}
	return p, nil
}
