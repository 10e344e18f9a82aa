package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"switchboard/chat/realtime"
)

func fccGet(b *browser, method, path, origin string, extra ...string) *response {
	b.tb.Helper()
	req, _ := http.NewRequest(method, b.base+path, nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	return b.do(req)
}

func wantCORS(t *testing.T, r *response, origin string) {
	t.Helper()
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("%s %s from %s: Access-Control-Allow-Origin = %q", r.Request.Method, r.Request.URL.Path, origin, got)
	}
	if got := r.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
		t.Errorf("%s from %s: Access-Control-Allow-Credentials = %q", r.Request.URL.Path, origin, got)
	}
	if !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("%s: no Vary: Origin", r.Request.URL.Path)
	}
}

func TestFCCTestingServesSourceWithCORSForFreeCodeCampOrigins(t *testing.T) {
	source := "io.on('connection', socket => { /* the Go handlers */ });\n"
	m := MustRunMain(t, func(m *Main) {
		m.Config.FCCTesting = true
		m.Config.ServerSource = []byte(source)
	})
	b := newBrowser(t, m)
	for _, origin := range []string{
		"https://www.freecodecamp.org",
		"https://freecodecamp.org",
		"https://learn.freecodecamp.dev",
		"http://localhost:8000",
		"http://localhost",
		"https://localhost:3000",
	} {
		r := fccGet(b, http.MethodGet, "/_api/server.js", origin)
		wantStatus(t, r, http.StatusOK)
		wantCORS(t, r, origin)
		if r.Body != source {
			t.Errorf("body = %q, want the configured source", r.Body)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type %q: jQuery would run JavaScript types as a script", ct)
		}

		pre := fccGet(b, http.MethodOptions, "/_api/server.js", origin,
			"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-requested-with")
		wantStatus(t, pre, http.StatusNoContent)
		wantCORS(t, pre, origin)
		if got := pre.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "GET") {
			t.Errorf("preflight Allow-Methods = %q", got)
		}
		if got := pre.Header.Get("Access-Control-Allow-Headers"); got != "x-requested-with" {
			t.Errorf("preflight Allow-Headers = %q", got)
		}

		// The checker also reads the client from /public/.
		js := fccGet(b, http.MethodGet, "/public/client.js", origin)
		wantStatus(t, js, http.StatusOK)
		wantCORS(t, js, origin)
	}
	// Without an Origin (curl): served, no CORS headers needed.
	r := fccGet(b, http.MethodGet, "/_api/server.js", "")
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, fccGet(b, http.MethodGet, "/_api/package.json", "https://www.freecodecamp.org"), http.StatusNotFound)
}

func TestFCCTestingRefusesForeignOrigins(t *testing.T) {
	m := MustRunMain(t, func(m *Main) { m.Config.FCCTesting = true })
	b := newBrowser(t, m)
	for _, origin := range []string{
		"https://evil.example",
		"http://www.freecodecamp.org",      // not https
		"https://freecodecamp.org.evil.io", // suffix trick
		"https://evilfreecodecamp.org",
		"https://localhost.evil.io",
		"null",
	} {
		for _, method := range []string{http.MethodGet, http.MethodOptions} {
			r := fccGet(b, method, "/_api/server.js", origin, "Access-Control-Request-Method", "GET")
			wantStatus(t, r, http.StatusForbidden)
			if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s %s: CORS headers granted to a foreign origin", method, origin)
			}
		}
		js := fccGet(b, http.MethodGet, "/public/client.js", origin)
		if js.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("/public/client.js: CORS granted to %s", origin)
		}
	}
}

// The freeCodeCamp checker's patterns for steps 17–22 (Socket.IO chat room)
// that apply to Go code; the Node-specific ones (require(...), package.json
// dependencies) cannot match a Go server.
var fccServerPatterns = []string{
	`(?i)currentUsers`,
	`(?i)io.on.*('|")connection('|").*socket`,
	`(?i)io.emit.*('|")user count('|").*currentUsers`,
	`(?i)socket.on.*('|")disconnect('|")`,
	`(?is)io.emit.*('|")user('|").*name.*currentUsers.*connected`,
	`(?is)socket.on.*('|")chat message('|").*io.emit.*('|")chat message('|").*name.*message`,
}

var fccClientPatterns = []string{
	`(?i)socket.*=.*io`,
	`(?i)socket.on.*('|")user count('|")`,
	`(?is)socket.on.*('|")user('|").*num-users`,
	`(?is)socket.on.*('|")user('|").*messages.*li`,
	`(?is)socket.on.*('|")chat message('|").*messages.*li`,
}

func TestFCCCheckerPatternsMatchTheRealSources(t *testing.T) {
	m := MustRunMain(t, func(m *Main) { m.Config.FCCTesting = true })
	b := newBrowser(t, m)
	server := fccGet(b, http.MethodGet, "/_api/server.js", "https://www.freecodecamp.org")
	wantStatus(t, server, http.StatusOK)
	wantCORS(t, server, "https://www.freecodecamp.org")
	if server.Body != string(realtime.Source) || !strings.Contains(server.Body, "package realtime") {
		t.Fatalf("/_api/server.js is not the compiled handlers source:\n%.300s", server.Body)
	}
	client := fccGet(b, http.MethodGet, "/public/client.js", "https://www.freecodecamp.org")
	wantStatus(t, client, http.StatusOK)
	for _, p := range fccServerPatterns {
		if !regexp.MustCompile(p).MatchString(server.Body) {
			t.Errorf("server.js does not match %s", p)
		}
	}
	for _, p := range fccClientPatterns {
		if !regexp.MustCompile(p).MatchString(client.Body) {
			t.Errorf("client.js does not match %s", p)
		}
	}
}

func TestFCCTestingIsOffByDefault(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	r := fccGet(b, http.MethodGet, "/_api/server.js", "https://www.freecodecamp.org")
	wantStatus(t, r, http.StatusNotFound)
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS headers without --fcc-testing")
	}
	if js := fccGet(b, http.MethodGet, "/public/client.js", "https://www.freecodecamp.org"); js.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS on /public without --fcc-testing")
	}
}
