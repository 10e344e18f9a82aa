package web_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/chat"
	"switchboard/chat/web"
)

// deadlineServer serves a web.Server whose requests must arrive within
// timeout, with realtime mounted at /socket.io/.
func deadlineServer(t *testing.T, timeout time.Duration, realtime http.Handler) *httptest.Server {
	t.Helper()
	s := mustServer(t, web.Config{RequestTimeout: timeout}, stubUsers{users: map[int64]*chat.User{}}, stubSessions{})
	s.Realtime = realtime
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// rawPost sends a form POST's head and the first part of its body, then
// returns the answer the server gives without the rest.
func rawPost(t *testing.T, ts *httptest.Server, path string, length int, part string) (*http.Response, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	start := time.Now()
	_, err = io.WriteString(conn, "POST "+path+" HTTP/1.1\r\nHost: "+ts.Listener.Addr().String()+
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "+strconv.Itoa(length)+"\r\n\r\n"+part)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // the test's own bound
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a %s that stops half-way: %v", path, err)
	}
	elapsed := time.Since(start)
	body, _ := io.ReadAll(resp.Body) // ends: the server closes the connection
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("connection still open after the answer (read: %v)", err)
	}
	return resp, elapsed
}

func TestAFormThatNeverFinishesArrivingIsAnswered408(t *testing.T) {
	ts := deadlineServer(t, 300*time.Millisecond, nil)
	for _, path := range []string{"/login", "/register", "/logout"} {
		resp, elapsed := rawPost(t, ts, path, 100, "username=trickle&pass")
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("%s: status %d, want 408", path, resp.StatusCode)
		}
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), "took too long to arrive") {
			t.Errorf("%s: the page does not say why: %q", path, body)
		}
		if elapsed < 250*time.Millisecond || elapsed > 5*time.Second {
			t.Errorf("%s: answered after %v; want about the 300ms timeout", path, elapsed)
		}
	}
}

func TestAFormTooLargeIsAnswered413(t *testing.T) {
	ts := deadlineServer(t, 5*time.Second, nil)
	big := "username=" + strings.Repeat("a", 70<<10)
	resp, _ := rawPost(t, ts, "/login", len(big), big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "larger than 64 KB") {
		t.Errorf("the page does not say why: %q", body)
	}
}

// Long-polling requests under /socket.io/ wait longer than any page request
// may take; the page's deadline must not follow them, not even on a
// connection that served a page first.
func TestSocketIORequestsAreNotBoundByThePageDeadline(t *testing.T) {
	const timeout = 200 * time.Millisecond
	ts := deadlineServer(t, timeout, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select { // a long poll
		case <-time.After(4 * timeout):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "polled")
	}))
	client := ts.Client()
	var reused []bool
	get := func(path string) string {
		t.Helper()
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = append(reused, info.Reused) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, ts.URL+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: reading the answer: %v", path, err)
		}
		return string(body)
	}
	get("/")
	for range 2 {
		if got := get("/socket.io/?EIO=4&transport=polling"); got != "polled" {
			t.Fatalf("long poll answered %q, want %q", got, "polled")
		}
	}
	if len(reused) != 3 || !reused[1] || !reused[2] {
		t.Errorf("connections reused %v; the test needs the page's connection to carry the polls", reused)
	}
}
