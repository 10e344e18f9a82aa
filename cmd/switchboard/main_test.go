package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"switchboard/internal/testprog"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		testprog.Remove()
		os.Exit(code)
	}))
}

// MustRunMain starts the real program on 127.0.0.1:0 with a database in a
// temporary directory and cheap bcrypt, after letting configure adjust the
// configuration. It is closed when the test ends.
func MustRunMain(tb testing.TB, configure ...func(*Main)) *Main {
	tb.Helper()
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DBPath = filepath.Join(tb.TempDir(), "switchboard.db")
	m.Config.BcryptCost = bcrypt.MinCost
	for _, f := range configure {
		f(m)
	}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Error(err)
		}
	})
	return m
}

// fakeClock is a clock for Main.Now that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// browser is an HTTP client with its own cookie jar that does not follow
// redirects, so tests see every 303.
type browser struct {
	tb      testing.TB
	base    string
	http    *http.Client
	headers http.Header // added to every request
}

func newBrowser(tb testing.TB, m *Main) *browser {
	tb.Helper()
	return newBrowserAt(tb, m.URL())
}

// newBrowserAt is newBrowser for a server at base ("http://host:port").
func newBrowserAt(tb testing.TB, base string) *browser {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	b := &browser{
		tb:   tb,
		base: base,
		http: &http.Client{
			Jar:           jar,
			Timeout:       10 * time.Second,
			Transport:     &http.Transport{},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		headers: http.Header{},
	}
	tb.Cleanup(b.http.CloseIdleConnections)
	return b
}

// response is a finished response with its body read.
type response struct {
	*http.Response
	Body string
}

func (b *browser) do(req *http.Request) *response {
	b.tb.Helper()
	for k, v := range b.headers {
		req.Header[k] = v
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.tb.Fatal(err)
	}
	return &response{Response: resp, Body: string(body)}
}

func (b *browser) get(path string) *response {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.tb.Fatal(err)
	}
	return b.do(req)
}

// post sends a form as is (no CSRF token added).
func (b *browser) post(path string, form url.Values) *response {
	b.tb.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf loads page and returns the CSRF token of its forms.
func (b *browser) csrf(page string) string {
	b.tb.Helper()
	r := b.get(page)
	match := csrfRE.FindStringSubmatch(r.Body)
	if match == nil {
		b.tb.Fatalf("no CSRF token on %s (status %d)", page, r.StatusCode)
	}
	return match[1]
}

// submit posts a form the way a browser does after loading page: with the
// page's CSRF token.
func (b *browser) submit(page, action string, form url.Values) *response {
	b.tb.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", b.csrf(page))
	return b.post(action, form)
}

func (b *browser) register(username, password string) *response {
	b.tb.Helper()
	return b.submit("/", "/register", url.Values{"username": {username}, "password": {password}})
}

func (b *browser) login(username, password string) *response {
	b.tb.Helper()
	return b.submit("/", "/login", url.Values{"username": {username}, "password": {password}})
}

// cookie returns the browser's cookie with the given name, or nil.
func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.base)
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func wantStatus(tb testing.TB, r *response, status int) {
	tb.Helper()
	if r.StatusCode != status {
		body := r.Body
		if len(body) > 2000 {
			body = body[:2000] + "…"
		}
		tb.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, body)
	}
}

func wantRedirect(tb testing.TB, r *response, location string) {
	tb.Helper()
	wantStatus(tb, r, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != location {
		tb.Fatalf("%s %s: redirect to %q, want %q", r.Request.Method, r.Request.URL.Path, got, location)
	}
}

func wantBody(tb testing.TB, r *response, substrings ...string) {
	tb.Helper()
	for _, s := range substrings {
		if !strings.Contains(r.Body, s) {
			tb.Errorf("%s %s: body lacks %q", r.Request.Method, r.Request.URL.Path, s)
		}
	}
}

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
