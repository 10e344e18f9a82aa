package engineio

import (
	"errors"
	"net/http"
	"sync"
	"testing"
)

// Options.OnConnectionError hears of every refused request (Node's
// io.engine.on("connection_error")), with the request and the error the
// client was answered with — how an operator finds out why clients fail
// (a stale sid after a restart without sticky sessions, an origin refused,
// an old client).
func TestOnConnectionErrorReportsEveryRefusedRequest(t *testing.T) {
	type report struct {
		path string
		err  *RequestError
	}
	var mu sync.Mutex
	var got []report
	opts := fixtureOptions()
	opts.AllowRequest = func(r *http.Request) error {
		if r.Header.Get("Origin") == "https://evil.example" {
			return errors.New("origin not allowed")
		}
		return nil
	}
	opts.OnConnectionError = func(r *http.Request, err *RequestError) {
		mu.Lock()
		got = append(got, report{r.URL.RawQuery, err})
		mu.Unlock()
	}
	ts := startEcho(t, opts)
	cases := []struct {
		query, method string
		header        http.Header
		want          *RequestError
	}{
		{"EIO=4&transport=polling&sid=stale", "GET", nil, ErrUnknownSID},
		{"EIO=4&transport=carrier-pigeon", "GET", nil, ErrUnknownTransport},
		{"EIO=3&transport=polling", "GET", nil, ErrUnsupportedProtocol},
		{"EIO=4&transport=polling", "PUT", nil, ErrBadHandshakeMethod},
		{"EIO=4&transport=polling", "GET", http.Header{"Origin": {"https://evil.example"}}, ErrForbidden},
	}
	for _, c := range cases {
		req, err := http.NewRequest(c.method, ts.url(c.query), nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c.header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	do(t, "GET", ts.url("EIO=4&transport=polling"), "") // a good handshake: no report
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(cases) {
		t.Fatalf("%d reports, want %d: %+v", len(got), len(cases), got)
	}
	for i, c := range cases {
		if got[i].path != c.query || !errors.Is(got[i].err, c.want) {
			t.Errorf("report %d: %q %v, want %q %v", i, got[i].path, got[i].err, c.query, c.want)
		}
	}
	if got[4].err.Message != "origin not allowed" {
		t.Errorf("the AllowRequest refusal reported as %q", got[4].err.Message)
	}
}
