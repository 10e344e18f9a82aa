package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"switchboard/chat"
	"switchboard/chat/web"
	assets "switchboard/web"
)

// stubUsers and stubSessions are just enough store for Authenticate.
type stubUsers struct {
	chat.UserService // unused methods panic
	users            map[int64]*chat.User
	sessions         map[string]*chat.Session // by id
	err              error
}

func (s stubUsers) FindUserBySessionID(ctx context.Context, id string) (*chat.User, error) {
	if s.err != nil {
		return nil, s.err
	}
	if sess, ok := s.sessions[id]; ok {
		return s.FindUserByID(ctx, sess.UserID)
	}
	return nil, chat.Errorf(chat.ENOTFOUND, "Session not found.")
}

func (s stubUsers) FindUserByID(_ context.Context, id int64) (*chat.User, error) {
	if u, ok := s.users[id]; ok {
		return u, nil
	}
	return nil, chat.Errorf(chat.ENOTFOUND, "User not found.")
}

type stubSessions struct {
	chat.SessionService // Authenticate needs none of it
}

func mustServer(t *testing.T, cfg web.Config, users chat.UserService, sessions chat.SessionService) *web.Server {
	t.Helper()
	cfg.BcryptCost = 4
	s, err := web.NewServer(cfg, users, sessions)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuthenticateDistinguishesLoggedOutFromFailures(t *testing.T) {
	token := strings.Repeat("t", 43)
	sum := sha256.Sum256([]byte(token))
	alice := map[int64]*chat.User{1: {ID: 1, Username: "alice"}}
	users := stubUsers{users: alice}
	live := stubUsers{users: alice, sessions: map[string]*chat.Session{hex.EncodeToString(sum[:]): {UserID: 1}}}

	s := mustServer(t, web.Config{}, users, stubSessions{})
	req := httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4", nil)
	if _, err := s.Authenticate(req); chat.ErrorCode(err) != chat.EUNAUTHORIZED {
		t.Errorf("no cookie: %v, want EUNAUTHORIZED", err)
	}
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: "short"})
	if _, err := s.Authenticate(req); chat.ErrorCode(err) != chat.EUNAUTHORIZED {
		t.Errorf("malformed cookie: %v, want EUNAUTHORIZED", err)
	}

	req = httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4", nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: token})
	if _, err := s.Authenticate(req); chat.ErrorCode(err) != chat.EUNAUTHORIZED {
		t.Errorf("unknown session: %v, want EUNAUTHORIZED", err)
	}

	u, err := mustServer(t, web.Config{}, live, stubSessions{}).Authenticate(req)
	if err != nil || u.Username != "alice" {
		t.Errorf("live session: %+v, %v", u, err)
	}

	broken := mustServer(t, web.Config{}, stubUsers{err: errors.New("disk I/O error")}, stubSessions{})
	if _, err := broken.Authenticate(req); chat.ErrorCode(err) != chat.EINTERNAL {
		t.Errorf("store failure: %v, want EINTERNAL so it is not mistaken for a logout", err)
	}
}

func TestCheckOrigin(t *testing.T) {
	s := mustServer(t, web.Config{AllowedOrigins: []string{"https://Partner.example", " http://localhost:5173 "}}, stubUsers{}, stubSessions{})
	cases := []struct {
		host, origin string
		ok           bool
	}{
		{"chat.example", "", true},
		{"chat.example", "https://chat.example", true},
		{"chat.example:3000", "http://chat.example:3000", true},
		{"localhost:3000", "http://LOCALHOST:3000", true},
		{"chat.example", "https://partner.example", true},
		{"chat.example", "http://localhost:5173", true},
		{"chat.example", "https://evil.example", false},
		{"chat.example", "https://chat.example.evil.io", false},
		{"chat.example:3000", "http://chat.example:4000", false},
		{"chat.example", "http://localhost:5174", false},
		{"chat.example", "null", false},
		{"chat.example", "::garbage", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "http://"+c.host+"/socket.io/", nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if got := s.CheckOrigin(r); got != c.ok {
			t.Errorf("Host %s Origin %q: CheckOrigin = %v, want %v", c.host, c.origin, got, c.ok)
		}
	}
	if got := s.AllowedOrigins(); strings.Join(got, " ") != "https://partner.example http://localhost:5173" {
		t.Errorf("AllowedOrigins = %q", got)
	}

	anyOrigin := mustServer(t, web.Config{AllowedOrigins: []string{"*"}}, stubUsers{}, stubSessions{})
	r := httptest.NewRequest(http.MethodGet, "http://chat.example/", nil)
	r.Header.Set("Origin", "https://anything.example")
	if !anyOrigin.CheckOrigin(r) {
		t.Error(`"*" should allow any origin`)
	}
}

func TestNewServerRejectsBadConfig(t *testing.T) {
	for _, cfg := range []web.Config{
		{BcryptCost: 3},
		{BcryptCost: 32},
		{BcryptCost: 4, AllowedOrigins: []string{"example.com"}},
		{BcryptCost: 4, AllowedOrigins: []string{"https://example.com/path"}},
		{BcryptCost: 4, AllowedOrigins: []string{"ftp://example.com"}},
		{BcryptCost: 4, CSRFKey: []byte("too short")},
	} {
		if _, err := web.NewServer(cfg, stubUsers{}, stubSessions{}); err == nil {
			t.Errorf("NewServer(%+v) accepted", cfg)
		}
	}
	s, err := web.NewServer(web.Config{}, stubUsers{}, stubSessions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Config(); c.BcryptCost != 12 || c.SessionTTL != 14*24*time.Hour {
		t.Errorf("defaults: %+v", c)
	}
}

func TestFCCOriginAllowed(t *testing.T) {
	allowed := []string{
		"https://www.freecodecamp.org", "https://freecodecamp.org", "https://FreeCodeCamp.org",
		"https://learn.freecodecamp.dev", "https://freecodecamp.dev",
		"http://localhost", "http://localhost:3000", "https://localhost:8443",
	}
	refused := []string{
		"", "null", "http://www.freecodecamp.org", "https://freecodecamp.org.evil.io",
		"https://evilfreecodecamp.org", "https://evil.io/freecodecamp.org", "https://localhost.evil.io",
		"http://127.0.0.1:3000", "https://user@freecodecamp.org", "ws://localhost",
	}
	for _, o := range allowed {
		if !web.FCCOriginAllowed(o) {
			t.Errorf("%q refused", o)
		}
	}
	for _, o := range refused {
		if web.FCCOriginAllowed(o) {
			t.Errorf("%q allowed", o)
		}
	}
}

func TestErrorStatusTable(t *testing.T) {
	cases := map[string]int{
		chat.ECONFLICT: 409, chat.EFORBIDDEN: 403, chat.EINTERNAL: 500, chat.EINVALID: 400,
		chat.ENOTFOUND: 404, chat.ERATELIMIT: 429, chat.EUNAUTHORIZED: 401, "unknown": 500,
	}
	for code, want := range cases {
		if got := web.ErrorStatus(chat.Errorf(code, "x")); got != want {
			t.Errorf("%s → %d, want %d", code, got, want)
		}
	}
	if web.ErrorStatus(errors.New("plain")) != 500 {
		t.Error("plain errors should be 500")
	}
}

// The freeCodeCamp checker greps client.js with these expressions (its
// backreferences written out, as Go's regexp has none).
func TestClientMatchesFreeCodeCampChecks(t *testing.T) {
	src, err := fs.ReadFile(assets.Static(), "client.js")
	if err != nil {
		t.Fatal(err)
	}
	js := string(src)
	checks := map[string]string{
		"connects as socket":             `(?i)socket.*=.*io`,
		"listens for user count":         `(?i)socket.on.*('|")user count('|")`,
		"user event updates #num-users":  `(?i)socket.on.*('user'|"user")[\s\S]*num-users`,
		"user event appends a li":        `(?i)socket.on.*('user'|"user")[\s\S]*messages.*li`,
		"chat message appends a li":      `(?is)socket.on.*('|")chat message('|")[\s\S]*messages.*li`,
		"emits chat message":             `socket\.emit\('chat message', messageToSend`,
		"listens for history":            `socket\.on\('chat history'`,
		"handles refusals from the ack":  `res && res\.error`,
		"listens for error message":      `socket\.on\('error message'`,
		"announces joins":                `has joined the chat\.`,
		"announces departures":           `has left the chat\.`,
		"shows the count in the wording": `' users online'`,
	}
	for name, re := range checks {
		if !regexp.MustCompile(re).MatchString(js) {
			t.Errorf("client.js: %s: no match for %s", name, re)
		}
	}
	for _, line := range strings.Split(js, "\n") {
		if strings.Contains(line, "socket.on(") && !regexp.MustCompile(`socket\.on\('[^']+', `).MatchString(line) {
			t.Errorf("listener registration not on one line: %q", line)
		}
	}
	for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(js, banned) {
			t.Errorf("client.js uses %s; user text must go through textContent", banned)
		}
	}
}

func TestEveryPageRenders(t *testing.T) {
	users := stubUsers{users: map[int64]*chat.User{}}
	s := mustServer(t, web.Config{}, users, stubSessions{})
	h := s.Handler()
	for path, status := range map[string]int{"/": 200, "/missing": 404, "/healthz": 200, "/public/style.css": 200} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != status {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, status)
		}
	}
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestHealthzAnswersWhatHealthReports(t *testing.T) {
	s := mustServer(t, web.Config{}, stubUsers{users: map[int64]*chat.User{}}, stubSessions{})
	var healthErr error
	s.Health = func(ctx context.Context) error { return healthErr }
	h := s.Handler()
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec
	}
	if rec := get(); rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Errorf("healthy: %d %q, want 200 ok", rec.Code, rec.Body.String())
	}
	healthErr = errors.New("sqlite: ping /secret/path/chat.db: disk I/O error")
	rec := get()
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("unhealthy: status %d, want 503", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("the public endpoint shows the internal error: %q", rec.Body.String())
	}
}

// A GitHubConfig printed or logged by mistake (%v, %+v, %#v, slog, nested
// in another struct) does not show the client secret.
func TestGitHubConfigNeverShowsItsSecret(t *testing.T) {
	g := web.GitHubConfig{ClientID: "the-id", ClientSecret: "the-very-secret", RedirectURL: "https://chat.example/auth/github/callback"}
	outer := struct {
		Addr   string
		GitHub web.GitHubConfig
	}{":3000", g}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out = append(out, fmt.Sprintf(verb, g), fmt.Sprintf(verb, outer), fmt.Sprintf(verb, &outer))
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "github", g, "cfg", outer)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "github", g, "cfg", outer)
	out = append(out, buf.String())
	for _, s := range out {
		if strings.Contains(s, "the-very-secret") {
			t.Errorf("secret shown: %s", s)
		}
		if !strings.Contains(s, "the-id") {
			t.Errorf("the id, which is not secret, is missing: %s", s)
		}
	}
}
