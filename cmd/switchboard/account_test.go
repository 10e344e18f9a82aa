package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"switchboard/chat"
	"switchboard/chat/web"
	"switchboard/internal/testclient"
)

func TestHomePageCarriesTheContractForms(t *testing.T) {
	m := MustRunMain(t)
	r := newBrowser(t, m).get("/")
	wantStatus(t, r, http.StatusOK)
	for _, re := range []string{
		`<form[^>]*action="/register"`,
		`<form[^>]*action="/login"`,
		`<input[^>]*name="username"`,
		`<input[^>]*name="password"[^>]*type="password"`,
	} {
		if !regexp.MustCompile(re).MatchString(r.Body) {
			t.Errorf("home page does not match %s", re)
		}
	}
	if strings.Contains(r.Body, "/auth/github") {
		t.Error("GitHub login offered although not configured")
	}
	if got := r.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") {
		t.Errorf("CSP = %q", got)
	}
}

func TestRegisterLoginProfileLogout(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)

	wantRedirect(t, b.register("alice_01", "correct horse"), "/chat")

	chatPage := b.get("/chat")
	wantStatus(t, chatPage, http.StatusOK)
	for _, re := range []string{
		`id="num-users"[^>]*>0 users online<`,
		`<ul id="messages"`,
		`<form[^>]*>\s*<label[^>]*for="m"[^>]*>[^<]*</label>\s*<input id="m"`,
		`<script src="/socket.io/socket.io.js"></script>`,
		`<script src="/public/client.js"></script>`,
	} {
		if !regexp.MustCompile(re).MatchString(chatPage.Body) {
			t.Errorf("chat page does not match %s", re)
		}
	}

	profile := b.get("/profile")
	wantStatus(t, profile, http.StatusOK)
	wantBody(t, profile, `<dd id="username">alice_01</dd>`, "Member since", `<dd id="login-count">1</dd>`, `href="/chat"`)

	// GET /logout only asks; POST /logout does it.
	confirm := b.get("/logout")
	wantStatus(t, confirm, http.StatusOK)
	wantBody(t, confirm, `action="/logout"`)
	if _, err := m.Web.Authenticate(requestWithCookie(b.cookie(web.SessionCookie))); err != nil {
		t.Fatalf("still logged in after GET /logout expected: %v", err)
	}
	oldSession := b.cookie(web.SessionCookie)
	wantRedirect(t, b.submit("/chat", "/logout", nil), "/?logged_out")
	if b.cookie(web.SessionCookie) != nil {
		t.Error("session cookie kept after logout")
	}
	wantBody(t, b.get("/?logged_out"), "You have been logged out")
	// The session is gone from the store: the old cookie no longer works.
	if _, err := m.Web.Authenticate(requestWithCookie(oldSession)); chat.ErrorCode(err) != chat.EUNAUTHORIZED {
		t.Errorf("old session still valid after logout: %v", err)
	}
	if _, err := m.Sessions.FindSessionByID(context.Background(), sessionKey(oldSession.Value)); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Errorf("session row not deleted: %v", err)
	}
	wantRedirect(t, b.get("/chat"), "/")

	// Log in again, with the username in another case.
	wantRedirect(t, b.login("ALICE_01", "correct horse"), "/chat")
	wantBody(t, b.get("/profile"), `<dd id="login-count">2</dd>`)
}

func requestWithCookie(c *http.Cookie) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://example.test/socket.io/?EIO=4", nil)
	if c != nil {
		r.AddCookie(c)
	}
	return r
}

func TestLoggedOutVisitorsAreSentHome(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	for _, path := range []string{"/chat", "/profile", "/logout"} {
		wantRedirect(t, b.get(path), "/")
	}
	// A forged or stale cookie is no better.
	u, _ := url.Parse(b.base)
	b.http.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookie, Value: strings.Repeat("A", 43)}})
	wantRedirect(t, b.get("/chat"), "/")
}

func TestSessionCookieFlags(t *testing.T) {
	for _, behindTLS := range []bool{false, true} {
		m := MustRunMain(t, func(m *Main) { m.Config.BehindTLS = behindTLS })
		b := newBrowser(t, m)
		r := b.register("cookiemonster", "om nom nom nom")
		var session *http.Cookie
		for _, c := range r.Cookies() {
			if c.Name == web.SessionCookie {
				session = c
			}
		}
		if session == nil {
			t.Fatal("no session cookie set at registration")
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.MaxAge <= 0 {
			t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, an expiry", session)
		}
		if session.Secure != behindTLS {
			t.Errorf("behind TLS %v: Secure = %v", behindTLS, session.Secure)
		}
		if len(session.Value) != 43 {
			t.Errorf("session token %q: want 32 random bytes in base64url", session.Value)
		}
		// The store holds the token's hash, not the token.
		ctx := context.Background()
		if _, err := m.Sessions.FindSessionByID(ctx, session.Value); chat.ErrorCode(err) != chat.ENOTFOUND {
			t.Errorf("raw token usable as a session id: %v", err)
		}
		sess, err := m.Sessions.FindSessionByID(ctx, sessionKey(session.Value))
		if err != nil {
			t.Fatal(err)
		}
		if ttl := sess.ExpiresAt.Sub(sess.CreatedAt); ttl != web.DefaultSessionTTL {
			t.Errorf("session lasts %v, want %v", ttl, web.DefaultSessionTTL)
		}
	}
}

func TestExpiredSessionLogsOut(t *testing.T) {
	clock := newFakeClock()
	m := MustRunMain(t, func(m *Main) { m.Now = clock.Now })
	b := newBrowser(t, m)
	wantRedirect(t, b.register("shortlived", "password123"), "/chat")
	wantStatus(t, b.get("/chat"), http.StatusOK)
	clock.Advance(web.DefaultSessionTTL + 1)
	wantRedirect(t, b.get("/chat"), "/")
}

func TestRegisterRejectsBadInputAndStoresNothing(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	cases := []struct {
		name, username, password, message string
	}{
		{"empty username", "", "password123", "3 to 32 characters"},
		{"short username", "ab", "password123", "3 to 32 characters"},
		{"long username", strings.Repeat("x", 33), "password123", "3 to 32 characters"},
		{"unicode username", "名前です", "password123", "may only contain"},
		{"accented username", "élodie", "password123", "may only contain"},
		{"space in username", "bob smith", "password123", "may only contain"},
		{"script username", "<script>alert(1)</script>", "password123", "may only contain"},
		{"SQL injection username", "x'); DROP TABLE users;--", "password123", "may only contain"},
		{"empty password", "validname", "", "at least 8 characters"},
		{"short password", "validname", "1234567", "at least 8 characters"},
		{"long password", "validname", strings.Repeat("p", 73), "at most 72 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := b.register(c.username, c.password)
			wantStatus(t, r, http.StatusBadRequest)
			wantBody(t, r, c.message, `role="alert"`)
			if strings.Contains(r.Body, "<script>alert(1)") {
				t.Error("user input echoed without escaping")
			}
			if _, err := m.Users.FindUserByUsername(context.Background(), strings.TrimSpace(c.username)); chat.ErrorCode(err) != chat.ENOTFOUND {
				t.Errorf("user %q stored: %v", c.username, err)
			}
			if b.cookie(web.SessionCookie) != nil {
				t.Error("logged in after a refused registration")
			}
		})
	}
	// The refused injection left the table alone.
	wantRedirect(t, b.register("survivor", "password123"), "/chat")
}

func TestDuplicateUsernamesDifferingOnlyInCase(t *testing.T) {
	m := MustRunMain(t)
	wantRedirect(t, newBrowser(t, m).register("Alice", "first password"), "/chat")
	for _, name := range []string{"Alice", "alice", "ALICE", " aLiCe "} {
		b := newBrowser(t, m)
		r := b.register(name, "second password")
		wantStatus(t, r, http.StatusConflict)
		wantBody(t, r, "already taken")
		if b.cookie(web.SessionCookie) != nil {
			t.Errorf("%q: logged in after a refused registration", name)
		}
	}
	// The original account and password are untouched.
	b := newBrowser(t, m)
	wantStatus(t, b.login("alice", "second password"), http.StatusUnauthorized)
	wantRedirect(t, b.login("alice", "first password"), "/chat")
	u, err := m.Users.FindUserByUsername(context.Background(), "ALICE")
	if err != nil || u.Username != "Alice" {
		t.Errorf("stored user %+v, %v", u, err)
	}
}

func TestLoginFailuresAreClear(t *testing.T) {
	m := MustRunMain(t)
	wantRedirect(t, newBrowser(t, m).register("carol", "carol's password"), "/chat")
	b := newBrowser(t, m)
	cases := []struct{ username, password string }{
		{"carol", "wrong password"},
		{"nobody", "carol's password"},
		{"' OR '1'='1", "' OR '1'='1"},
		{"carol'--", "anything"},
	}
	for _, c := range cases {
		r := b.login(c.username, c.password)
		wantStatus(t, r, http.StatusUnauthorized)
		wantBody(t, r, "Wrong username or password.")
		if b.cookie(web.SessionCookie) != nil {
			t.Fatalf("logged in with %q / %q", c.username, c.password)
		}
	}
	r := b.login("", "")
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, "Enter your username and password.")
}

func TestLoginRateLimitPerIP(t *testing.T) {
	clock := newFakeClock()
	m := MustRunMain(t, func(m *Main) { m.Now = clock.Now })
	wantRedirect(t, newBrowser(t, m).register("dave", "dave's password"), "/chat")

	b := newBrowser(t, m)
	for i := 0; i < 5; i++ {
		wantStatus(t, b.login("user"+string(rune('a'+i)), "guess"), http.StatusUnauthorized)
	}
	r := b.login("dave", "dave's password") // right password, but this IP is blocked
	wantStatus(t, r, http.StatusTooManyRequests)
	wantBody(t, r, "Too many failed login attempts")
	if r.Header.Get("Retry-After") != "12" {
		t.Errorf("Retry-After = %q, want 12 (one attempt per 12 s refills)", r.Header.Get("Retry-After"))
	}
	if b.cookie(web.SessionCookie) != nil {
		t.Fatal("logged in while rate limited")
	}
	clock.Advance(12 * time.Second)
	wantRedirect(t, b.login("dave", "dave's password"), "/chat")
}

func TestLoginRateLimitPerUsername(t *testing.T) {
	m := MustRunMain(t, func(m *Main) { m.Config.TrustProxy = 1 })
	wantRedirect(t, newBrowser(t, m).register("erin", "erin's password"), "/chat")

	// An attacker spreading guesses over many addresses is still stopped.
	for i := 0; i < 5; i++ {
		b := newBrowser(t, m)
		b.headers.Set("X-Forwarded-For", "203.0.113."+string(rune('1'+i)))
		wantStatus(t, b.login("erin", "guess"), http.StatusUnauthorized)
	}
	b := newBrowser(t, m)
	b.headers.Set("X-Forwarded-For", "198.51.100.7")
	wantStatus(t, b.login("ERIN", "erin's password"), http.StatusTooManyRequests)
	// Other users from that address are not affected.
	wantStatus(t, b.login("someone-else", "guess"), http.StatusUnauthorized)
}

func TestRegistrationRateLimitPerIP(t *testing.T) {
	clock := newFakeClock()
	m := MustRunMain(t, func(m *Main) {
		m.Now = clock.Now
		m.Config.TrustProxy = 1
	})
	from := func(ip string) *browser {
		b := newBrowser(t, m)
		b.headers.Set("X-Forwarded-For", ip)
		return b
	}
	for i := range web.RegistrationsPerHour { // a classroom behind one address
		wantRedirect(t, from("203.0.113.9").register(fmt.Sprintf("student%02d", i), "a fine password"), "/chat")
	}
	b := from("203.0.113.9")
	r := b.register("one-too-many", "a fine password")
	wantStatus(t, r, http.StatusTooManyRequests)
	wantBody(t, r, "Too many new accounts from your network. Wait 2 minutes")
	if got := r.Header.Get("Retry-After"); got != "120" {
		t.Errorf("Retry-After = %q, want 120", got)
	}
	if _, err := m.Users.FindUserByUsername(context.Background(), "one-too-many"); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Fatalf("the refused account exists (err %v)", err)
	}
	// Others are not affected; logging in is not limited by it.
	wantRedirect(t, from("198.51.100.7").register("elsewhere", "a fine password"), "/chat")
	wantRedirect(t, from("203.0.113.9").login("student00", "a fine password"), "/chat")
	// Invalid forms and taken names cost nothing and are not counted.
	wantStatus(t, from("203.0.113.9").register("student00", "a fine password"), http.StatusConflict)
	clock.Advance(2 * time.Minute)
	wantRedirect(t, from("203.0.113.9").register("one-too-many", "a fine password"), "/chat")
}

func TestNotFoundPageIsFriendly(t *testing.T) {
	m := MustRunMain(t)
	r := newBrowser(t, m).get("/no/such/page")
	wantStatus(t, r, http.StatusNotFound)
	wantBody(t, r, "Page not found", `href="/"`, "/no/such/page")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestStaticAssets(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	for path, ctype := range map[string]string{
		"/public/client.js":   "text/javascript",
		"/public/style.css":   "text/css",
		"/public/favicon.svg": "image/svg+xml",
	} {
		r := b.get(path)
		wantStatus(t, r, http.StatusOK)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), ctype) {
			t.Errorf("%s: Content-Type %q", path, r.Header.Get("Content-Type"))
		}
		etag := r.Header.Get("ETag")
		req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
		req.Header.Set("If-None-Match", etag)
		if again := b.do(req); again.StatusCode != http.StatusNotModified {
			t.Errorf("%s: revalidation with ETag gave %d", path, again.StatusCode)
		}
	}
	for _, path := range []string{"/public/../go.mod", "/public/..%2fgo.mod", "/public/%2e%2e/main.go"} {
		if r := b.get(path); r.StatusCode == http.StatusOK {
			t.Errorf("%s served a file", path)
		}
	}
	wantStatus(t, b.get("/public/nope.js"), http.StatusNotFound)
}

func TestExpiredSessionsAreSweptFromTheDatabase(t *testing.T) {
	clock := newFakeClock()
	m := MustRunMain(t, func(m *Main) {
		m.Now = clock.Now
		m.SessionSweepInterval = 5 * time.Millisecond
	})
	b := newBrowser(t, m)
	wantRedirect(t, b.register("sweepme", "password123"), "/chat")
	key := sessionKey(b.cookie(web.SessionCookie).Value)
	ctx := context.Background()

	// Let the sweeper run with the clock past the expiry, then look with
	// the clock turned back: a swept session stays gone.
	deadline := time.Now().Add(10 * time.Second)
	for {
		clock.Advance(web.DefaultSessionTTL)
		time.Sleep(20 * time.Millisecond)
		clock.Advance(-web.DefaultSessionTTL)
		if _, err := m.Sessions.FindSessionByID(ctx, key); chat.ErrorCode(err) == chat.ENOTFOUND {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("expired session never swept")
		}
	}
}

func TestFormURLsRedirectHomeOnGET(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	wantRedirect(t, b.get("/register"), "/")
	wantRedirect(t, b.get("/login"), "/")
}

func TestStoreFailuresShowAGenericErrorPage(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	wantRedirect(t, b.register("unlucky", "password123"), "/chat")
	m.DB.Close() // the disk went away

	r := b.get("/chat")
	wantStatus(t, r, http.StatusInternalServerError)
	wantBody(t, r, "Something went wrong", "Internal error.")
	if strings.Contains(r.Body, "sqlite") || strings.Contains(r.Body, "database is closed") {
		t.Error("internal error details leaked to the page")
	}
	r = b.login("unlucky", "password123")
	wantStatus(t, r, http.StatusInternalServerError)
}

func TestFormsOpenedBeforeARestartStillPost(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "switchboard.db")
	first := MustRunMain(t, func(m *Main) { m.Config.DBPath = dbPath })
	b := newBrowser(t, first)
	token := b.csrf("/") // the page is open in the browser...
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// ...while the server restarts (the CSRF key is kept in the database).
	second := MustRunMain(t, func(m *Main) { m.Config.DBPath = dbPath })
	b.base = second.URL()
	form := url.Values{"username": {"frank"}, "password": {"frank's password"}, "csrf_token": {token}}
	wantRedirect(t, b.post("/register", form), "/chat")
}

func TestLoginRefusesPasswordsLongerThanBcryptReads(t *testing.T) {
	m := MustRunMain(t)
	password := strings.Repeat("p", chat.PasswordMaxBytes) // the longest allowed
	wantRedirect(t, newBrowser(t, m).register("frank", password), "/chat")
	// bcrypt reads only the first 72 bytes: two different longer passwords
	// would both match the hash.
	for _, extra := range []string{"x", "a different tail"} {
		b := newBrowser(t, m)
		wantStatus(t, b.login("frank", password+extra), http.StatusUnauthorized)
		if b.cookie(web.SessionCookie) != nil {
			t.Fatalf("logged in with the password plus %q", extra)
		}
	}
	wantRedirect(t, newBrowser(t, m).login("frank", password), "/chat")
}

func TestConcurrentLoginGuessesAreLimitedToo(t *testing.T) {
	m := MustRunMain(t, func(m *Main) {
		m.Config.TrustProxy = 1
		m.Config.BcryptCost = 8 // a comparison takes a while, as in production
	})
	wantRedirect(t, newBrowser(t, m).register("gina", "gina's password"), "/chat")

	// Guesses sent all at once (from many addresses) are limited as if sent
	// one after another: at most LoginFailuresPerMinute are tried.
	const n = 40
	reqs := make([]*http.Request, n)
	clients := make([]*http.Client, n)
	for i := range reqs {
		b := newBrowser(t, m)
		form := url.Values{"username": {"gina"}, "password": {fmt.Sprintf("guess %d", i)}, "csrf_token": {b.csrf("/")}}
		req, err := http.NewRequest(http.MethodPost, b.base+"/login", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		reqs[i], clients[i] = req, b.http
	}
	statuses := make(chan int, n)
	start := make(chan struct{})
	for i := range reqs {
		go func() {
			<-start
			resp, err := clients[i].Do(reqs[i])
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	close(start)
	tried := 0
	for range n {
		switch st := <-statuses; st {
		case http.StatusUnauthorized:
			tried++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("status %d", st)
		}
	}
	if tried > web.LoginFailuresPerMinute {
		t.Errorf("%d of %d concurrent guesses were tried, want at most %d", tried, n, web.LoginFailuresPerMinute)
	}
}

func TestUnsupportedMethodsAreRefusedWith405(t *testing.T) {
	m := MustRunMain(t, func(m *Main) { m.Config.FCCTesting = true })
	b := newBrowser(t, m)
	routes := map[string]string{ // path: the methods it answers
		"/":                     "GET, HEAD",
		"/register":             "GET, HEAD, POST",
		"/login":                "GET, HEAD, POST",
		"/logout":               "GET, HEAD, POST",
		"/profile":              "GET, HEAD",
		"/chat":                 "GET, HEAD",
		"/auth/github":          "GET, HEAD",
		"/auth/github/callback": "GET, HEAD",
		"/public/client.js":     "GET, HEAD",
		"/healthz":              "GET, HEAD",
		"/_api/server.js":       "GET, HEAD",
	}
	for path, allow := range routes {
		for _, method := range []string{"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "POST"} {
			if strings.Contains(allow, method) {
				continue
			}
			req, err := http.NewRequest(method, b.base+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := b.do(req)
			if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != allow {
				t.Errorf("%s %s: status %d, Allow %q; want 405, Allow %q", method, path, r.StatusCode, r.Header.Get("Allow"), allow)
			}
			if r.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s %s: no security headers", method, path)
			}
		}
	}
	// Paths that exist for no method are still not found.
	req, _ := http.NewRequest(http.MethodPut, b.base+"/no/such/page", nil)
	wantStatus(t, b.do(req), http.StatusNotFound)
}

// A rate-limited login is logged with the account under attack when the
// typed username names one — but a username that names no account is not
// written to the log: people type their password into the username field,
// and the log must not keep it.
func TestRateLimitedLoginLogsOnlyExistingUsernames(t *testing.T) {
	logs := &lockedWriter{}
	m := MustRunMain(t, func(m *Main) {
		m.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	wantRedirect(t, newBrowser(t, m).register("frank", "frank's password"), "/chat")

	const typedPassword = "Tr0ub4dor&3-typed-as-username"
	for _, username := range []string{"frank", typedPassword} {
		b := newBrowser(t, m)
		for {
			r := b.login(username, "guess")
			if r.StatusCode == http.StatusTooManyRequests {
				break
			}
			wantStatus(t, r, http.StatusUnauthorized)
		}
	}
	got := logs.String()
	if !strings.Contains(got, `msg="login rate limited"`) || !strings.Contains(got, "user=frank") {
		t.Errorf("the rate-limited login of an existing account is not logged with its name:\n%s", got)
	}
	if strings.Contains(got, typedPassword) {
		t.Errorf("the log keeps a username that names no account (perhaps a password):\n%s", got)
	}
}

// --max-tabs reaches the sockets: with 1, a user's second tab is refused
// with the reason, and another user still gets in.
func TestMaxTabsLimitsEachUsersSockets(t *testing.T) {
	m := MustRunMain(t, func(m *Main) { m.Config.MaxTabs = 1 })
	gina, hank := newBrowser(t, m), newBrowser(t, m)
	wantRedirect(t, gina.register("gina", "gina's password"), "/chat")
	wantRedirect(t, hank.register("hank", "hank's password"), "/chat")
	openChatSocket(t, m, gina)

	h := http.Header{}
	h.Set("Cookie", web.SessionCookie+"="+gina.cookie(web.SessionCookie).Value)
	c, err := testclient.DialHeader(t, testclient.WSURL(m.URL())+"/socket.io/?EIO=4&transport=websocket", h)
	if err != nil {
		t.Fatal(err)
	}
	c.ReadText()
	c.Text("40")
	if msg := c.ReadSkippingPongs(); !strings.HasPrefix(msg, `44{"message":"Too many chat tabs open (1 at most)`) {
		t.Fatalf("gina's second tab got %q", msg)
	}
	openChatSocket(t, m, hank)
}
