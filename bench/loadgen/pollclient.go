package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// client is one Socket.IO connection of the load generator, over WebSocket
// (wsClient) or HTTP long-polling (pollClient). readMessage returns Engine.IO
// packets as text ("0{…}", "2", "42[…]").
type client interface {
	readMessage() ([]byte, error)
	writeText(p []byte) error
	setDeadline(t time.Time)
	close() error
}

// pollClient speaks Engine.IO long-polling: a GET waits for packets, a POST
// carries ours (one at a time, as the protocol requires). It holds two
// keep-alive TCP connections: one for the polls, one for the posts.
type pollClient struct {
	hc     *http.Client
	base   string // http://addr/socket.io/?EIO=4&transport=polling&sid=…
	cookie string // Cookie header, if any

	ctx    context.Context
	cancel context.CancelFunc

	pending [][]byte // packets of the last poll not yet returned

	postMu   sync.Mutex
	deadline time.Time
}

// dialPolling opens a polling session on addr: it returns the client with
// the open packet as its first message.
func dialPolling(ctx context.Context, d *net.Dialer, addr, path, cookie string) (*pollClient, error) {
	tr := &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConnsPerHost: 2,
		MaxConnsPerHost:     2,
		DisableCompression:  true,
	}
	c := &pollClient{hc: &http.Client{Transport: tr}, cookie: cookie}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if dl, ok := ctx.Deadline(); ok {
		c.deadline = dl
	}
	body, err := c.do(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		c.close()
		return nil, err
	}
	open := body
	if !bytes.HasPrefix(open, eioOpenPrefix) {
		c.close()
		return nil, fmt.Errorf("loadgen: expected Engine.IO open packet, got %.40q", open)
	}
	i := bytes.Index(open, []byte(`"sid":"`))
	if i < 0 || len(open) < i+7+20 {
		c.close()
		return nil, fmt.Errorf("loadgen: no sid in %.60q", open)
	}
	sid := string(open[i+7 : i+7+20])
	c.base = "http://" + addr + path + "&sid=" + sid
	c.pending = [][]byte{open}
	return c, nil
}

func (c *pollClient) do(ctx context.Context, method, url string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if c.cookie != "" {
		req.Header.Set("Cookie", c.cookie)
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxMessage))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadgen: %s: status %s: %.60s", method, res.Status, b)
	}
	return b, nil
}

func (c *pollClient) reqCtx() (context.Context, context.CancelFunc) {
	if dl := c.deadline; !dl.IsZero() {
		return context.WithDeadline(c.ctx, dl)
	}
	return context.WithCancel(c.ctx)
}

// readMessage returns the next packet, polling when none is pending.
func (c *pollClient) readMessage() ([]byte, error) {
	for len(c.pending) == 0 {
		ctx, cancel := c.reqCtx()
		body, err := c.do(ctx, http.MethodGet, c.base, nil)
		cancel()
		if err != nil {
			return nil, err
		}
		for _, p := range bytes.Split(body, []byte{0x1e}) {
			switch {
			case len(p) == 0, bytes.Equal(p, []byte("6")): // noop
			case bytes.Equal(p, []byte("1")): // close
				return nil, io.EOF
			default:
				c.pending = append(c.pending, p)
			}
		}
	}
	p := c.pending[0]
	c.pending = c.pending[1:]
	return p, nil
}

// writeText sends one packet in a POST; POSTs never overlap.
func (c *pollClient) writeText(p []byte) error {
	c.postMu.Lock()
	defer c.postMu.Unlock()
	ctx, cancel := c.reqCtx()
	defer cancel()
	body, err := c.do(ctx, http.MethodPost, c.base, p)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(body), "ok") {
		return errors.New("loadgen: POST answered " + string(body))
	}
	return nil
}

func (c *pollClient) setDeadline(t time.Time) { c.deadline = t }

func (c *pollClient) close() error {
	c.cancel()
	c.hc.CloseIdleConnections()
	return nil
}
