package socketio_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	eioparser "switchboard/engineio/parser"
	sioparser "switchboard/socketio/parser"
)

// client plays the browser's part in the examples: the smallest Socket.IO
// client, over HTTP long-polling, built on the two parser packages. It reads
// the server's packets one at a time, in order, which makes the examples
// deterministic. Applications use the official socket.io-client; the
// comments in the examples give its equivalent calls.
type client struct {
	http    *http.Client
	url     string // the session's polling URL
	header  http.Header
	dec     sioparser.Decoder
	pending []received
	nextID  int64
}

// received is a packet from the server, printed as
//
//	connect /admin
//	connect_error / {"message":"unauthorized"}
//	event ["chat message","hi"]            (namespace "/")
//	event /admin ["question",1] (ack id 0) (the server waits for c.ack)
//	ack ["ok"]
//	disconnect /
//
// with binary attachments shown in place as <Buffer de ad>.
type received struct{ *sioparser.Packet }

// dial performs the Engine.IO handshake at endpoint, the server's URL and
// path ("http://127.0.0.1:1234/socket.io/", perhaps with a query), with
// extra request headers (cookies, Origin), as io(url, {transports:
// ["polling"]}) does.
func dial(endpoint string, header http.Header) *client {
	c := &client{http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}, header: header}
	if strings.Contains(endpoint, "?") {
		endpoint += "&"
	} else {
		endpoint += "?"
	}
	status, body := c.do(http.MethodGet, endpoint+"EIO=4&transport=polling", nil)
	var open struct {
		SID string `json:"sid"`
	}
	err := eioparser.DecodePayload(body, func(p eioparser.Packet) error {
		return json.Unmarshal(p.Data, &open)
	})
	if status != http.StatusOK || err != nil {
		panic(fmt.Sprintf("handshake: %d %q %v", status, body, err))
	}
	c.url = endpoint + "EIO=4&transport=polling&sid=" + open.SID
	return c
}

// connect joins namespace nsp with an auth payload (JSON, or "" for none)
// and returns the server's answer: "connect nsp" or "connect_error …".
func (c *client) connect(nsp, auth string) received {
	p := &sioparser.Packet{Type: sioparser.Connect, Namespace: nsp}
	if auth != "" {
		p.Data = []byte(auth)
	}
	c.send(p)
	return c.read()
}

// emitWithAck sends an event that asks for an acknowledgement, which
// arrives later as an "ack" packet: socket.emitWithAck(event, ...args). A
// []byte, also inside a map[string]any, is sent as binary, as a Buffer is.
func (c *client) emitWithAck(nsp, event string, args ...any) {
	p := c.event(nsp, sioparser.Event, append([]any{event}, args...))
	p.ID, p.HasID = c.nextID, true
	c.nextID++
	c.send(p)
}

// ack answers the server's event with ack id id: the callback of
// socket.on(event, (...args, callback) => callback(...)).
func (c *client) ack(nsp string, id int64, args ...any) {
	p := c.event(nsp, sioparser.Ack, args)
	p.ID, p.HasID = id, true
	c.send(p)
}

// close closes the connection: socket.disconnect() on the last namespace.
func (c *client) close() {
	c.do(http.MethodPost, c.url, []byte("1"))
	c.http.CloseIdleConnections()
}

// read returns the next packet from the server, polling for more when it
// has none.
func (c *client) read() received {
	for len(c.pending) == 0 {
		status, body := c.do(http.MethodGet, c.url, nil)
		if status != http.StatusOK {
			panic(fmt.Sprintf("poll: %d %q", status, body))
		}
		err := eioparser.DecodePayload(body, func(p eioparser.Packet) error {
			switch {
			case p.Type == eioparser.Ping:
				c.do(http.MethodPost, c.url, []byte("3"))
			case p.Type == eioparser.Close:
				panic("the server closed the connection")
			case p.Type != eioparser.Message:
			case p.Binary:
				sp, err := c.dec.DecodeBinary(p.Data)
				if sp != nil {
					c.pending = append(c.pending, received{sp})
				}
				return err
			default:
				sp, err := c.dec.DecodeText(p.Data)
				if sp != nil {
					c.pending = append(c.pending, received{sp})
				}
				return err
			}
			return nil
		})
		if err != nil {
			panic(err)
		}
	}
	r := c.pending[0]
	c.pending = c.pending[1:]
	return r
}

func (c *client) event(nsp string, t sioparser.Type, args []any) *sioparser.Packet {
	var atts [][]byte
	for i, a := range args {
		args[i] = placeholders(a, &atts)
	}
	data, err := json.Marshal(args)
	if err != nil {
		panic(err)
	}
	switch {
	case len(atts) > 0 && t == sioparser.Event:
		t = sioparser.BinaryEvent
	case len(atts) > 0 && t == sioparser.Ack:
		t = sioparser.BinaryAck
	}
	return &sioparser.Packet{Type: t, Namespace: nsp, Data: data, Attachments: atts}
}

// placeholders replaces each []byte in v by a placeholder naming it.
func placeholders(v any, atts *[][]byte) any {
	switch x := v.(type) {
	case []byte:
		*atts = append(*atts, x)
		return map[string]any{"_placeholder": true, "num": len(*atts) - 1}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = placeholders(e, atts)
		}
		return out
	}
	return v
}

func (c *client) send(p *sioparser.Packet) {
	packets := []eioparser.Packet{{Type: eioparser.Message, Data: p.AppendText(nil)}}
	for _, a := range p.Attachments {
		packets = append(packets, eioparser.Packet{Type: eioparser.Message, Data: a, Binary: true})
	}
	if status, body := c.do(http.MethodPost, c.url, eioparser.AppendPayload(nil, packets)); status != http.StatusOK {
		panic(fmt.Sprintf("send: %d %q", status, body))
	}
}

func (c *client) do(method, url string, body []byte) (int, []byte) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	res, err := c.http.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		panic(err)
	}
	return res.StatusCode, b
}

func (r received) String() string {
	p := r.Packet
	nsp := ""
	if p.Namespace != "/" {
		nsp = p.Namespace + " "
	}
	switch p.Type {
	case sioparser.Connect:
		return "connect " + p.Namespace
	case sioparser.ConnectError:
		return "connect_error " + p.Namespace + " " + string(p.Data)
	case sioparser.Disconnect:
		return "disconnect " + p.Namespace
	}
	data := string(p.Data)
	for i, a := range p.Attachments {
		data = strings.Replace(data, fmt.Sprintf(`{"_placeholder":true,"num":%d}`, i), fmt.Sprintf("<Buffer % x>", a), 1)
	}
	if p.Type == sioparser.Ack || p.Type == sioparser.BinaryAck {
		return "ack " + nsp + data
	}
	if p.HasID {
		return fmt.Sprintf("event %s%s (ack id %d)", nsp, data, p.ID)
	}
	return "event " + nsp + data
}
