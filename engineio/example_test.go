package engineio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"switchboard/engineio"
	"switchboard/engineio/parser"
)

// echo is a Handler that sends every message back as it came.
type echo struct{}

func (echo) OnOpen(s *engineio.Session) {}

// OnMessage must not block, and data is valid only during the call: Send
// queues a copy and returns.
func (echo) OnMessage(s *engineio.Session, data []byte, binary bool) {
	_ = s.Send(0, engineio.NewMessage(bytes.Clone(data), binary))
}

func (echo) OnClose(s *engineio.Session, reason engineio.CloseReason, err error) {
	fmt.Println("closed:", reason)
}

// An Engine.IO echo server, driven over HTTP long-polling: the handshake,
// a text and a binary message sent in one POST, the poll that brings them
// back, and the close.
func ExampleNewServer() {
	srv := engineio.NewServer(echo{}, nil)
	defer srv.Close(context.Background())
	ts := httptest.NewServer(srv) // or mux.Handle("/engine.io/", srv)
	defer ts.Close()
	url := ts.URL + "/engine.io/?EIO=4&transport=polling"

	// The handshake: an open packet with the session id.
	var open struct {
		SID string `json:"sid"`
	}
	_ = parser.DecodePayload(request(http.MethodGet, url, nil), func(p parser.Packet) error {
		fmt.Println(p.Type)
		return json.Unmarshal(p.Data, &open)
	})
	url += "&sid=" + open.SID

	body := parser.AppendPayload(nil, []parser.Packet{
		{Type: parser.Message, Data: []byte("hello")},
		{Type: parser.Message, Data: []byte{1, 2, 3}, Binary: true},
	})
	fmt.Printf("POST %q: %s\n", body, request(http.MethodPost, url, body))
	reply := request(http.MethodGet, url, nil)
	fmt.Printf("GET: %q\n", reply)

	request(http.MethodPost, url, []byte("1")) // the client closes
	// Output:
	// open
	// POST "4hello\x1ebAQID": ok
	// GET: "4hello\x1ebAQID"
	// closed: transport close
}

func request(method, url string, body []byte) []byte {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		log.Fatal(res.Status, strings.TrimSpace(string(b)), err)
	}
	return b
}
