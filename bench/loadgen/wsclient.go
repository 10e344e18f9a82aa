package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// A wsClient is a minimal WebSocket client over a net.Conn: just enough of RFC 6455 for text
// messages, fragmentation, ping/pong and close. It exists so that the load generator costs as
// little CPU and memory per connection as possible; it is not a general-purpose client.
//
// readMessage must be called from one goroutine; writeText is safe for concurrent use.
type wsClient struct {
	nc  net.Conn
	br  *bufio.Reader
	msg []byte // payload of the message being read; owned by the reader

	wmu  sync.Mutex
	wbuf []byte // frame being written; guarded by wmu
}

const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa

	maxMessage = 1 << 20 // the load generator never expects more than this in one message
	wsGUID     = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

var errTooLarge = errors.New("loadgen: message larger than 1 MiB")

// dialWS connects to addr, performs the opening handshake for path and returns the client.
// The whole handshake must finish by ctx's deadline.
func dialWS(ctx context.Context, d *net.Dialer, addr, path, cookie string) (*wsClient, error) {
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	var raw [16]byte
	rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n"
	if cookie != "" {
		req += "Cookie: " + cookie + "\r\n"
	}
	req += "\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, fmt.Errorf("loadgen: handshake: status %s", resp.Status)
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	if resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		nc.Close()
		return nil, errors.New("loadgen: handshake: bad Sec-WebSocket-Accept")
	}
	return &wsClient{nc: nc, br: br}, nil
}

// readMessage returns the payload of the next text or binary message, answering pings and
// skipping pongs on the way. The slice is valid until the next call. A close frame yields io.EOF.
func (c *wsClient) readMessage() ([]byte, error) {
	c.msg = c.msg[:0]
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(c.br, hdr[:2]); err != nil {
			return nil, err
		}
		fin := hdr[0]&0x80 != 0
		op := hdr[0] & 0x0f
		masked := hdr[1]&0x80 != 0
		n := uint64(hdr[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(c.br, hdr[:2]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(hdr[:2]))
		case 127:
			if _, err := io.ReadFull(c.br, hdr[:8]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(hdr[:8])
		}
		var key [4]byte
		if masked { // servers must not mask, but tolerate it
			if _, err := io.ReadFull(c.br, key[:]); err != nil {
				return nil, err
			}
		}
		if n > maxMessage || uint64(len(c.msg))+n > maxMessage {
			return nil, errTooLarge
		}
		start := len(c.msg)
		c.msg = slices.Grow(c.msg, int(n))[:start+int(n)]
		if _, err := io.ReadFull(c.br, c.msg[start:]); err != nil {
			return nil, err
		}
		if masked {
			maskBytes(c.msg[start:], key)
		}
		if op >= opClose { // control frames may sit between fragments
			payload := append([]byte(nil), c.msg[start:]...)
			c.msg = c.msg[:start]
			switch op {
			case opClose:
				c.writeFrame(opClose, nil)
				return nil, io.EOF
			case opPing:
				if err := c.writeFrame(opPong, payload); err != nil {
					return nil, err
				}
			}
			continue
		}
		if fin {
			return c.msg, nil
		}
	}
}

// writeText sends p as one masked text frame.
func (c *wsClient) writeText(p []byte) error { return c.writeFrame(opText, p) }

func (c *wsClient) writeFrame(op byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = appendMaskedFrame(c.wbuf[:0], op, p)
	_, err := c.nc.Write(c.wbuf)
	return err
}

// appendMaskedFrame appends one final client frame (masked, as RFC 6455 requires of clients).
func appendMaskedFrame(b []byte, op byte, p []byte) []byte {
	b = append(b, 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], mrand.Uint32())
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, p...)
	maskBytes(b[start:], key)
	return b
}

func maskBytes(b []byte, key [4]byte) {
	for i := range b {
		b[i] ^= key[i&3]
	}
}

func (c *wsClient) setDeadline(t time.Time) { c.nc.SetDeadline(t) }

func (c *wsClient) close() error { return c.nc.Close() }
