package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"switchboard/chat"
	"switchboard/chat/web"
)

// fakeGitHub is a local OAuth provider with GitHub's three endpoints. It
// checks what GitHub checks: client id and secret, redirect URI, the code,
// and PKCE.
type fakeGitHub struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	user     map[string]any // what GET /user answers
	codes    map[string]grant
	tokens   map[string]map[string]any
	denyNext bool // the user clicks "Cancel" at the next authorize
}

type grant struct {
	redirectURI, challenge string
}

const (
	fakeClientID     = "test-client-id"
	fakeClientSecret = "test-client-secret"
)

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{t: t, codes: map[string]grant{}, tokens: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", f.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", f.token)
	mux.HandleFunc("GET /user", f.userInfo)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGitHub) setUser(id int64, login, name string) {
	f.mu.Lock()
	f.user = map[string]any{"id": id, "login": login, "name": name, "type": "User"}
	f.mu.Unlock()
}

func (f *fakeGitHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != fakeClientID || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		http.Error(w, "bad authorize request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Path != "/auth/github/callback" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	f.mu.Lock()
	if f.denyNext {
		f.denyNext = false
		back.Set("error", "access_denied")
	} else {
		code := "code-" + q.Get("state")[:8]
		f.codes[code] = grant{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge")}
		back.Set("code", code)
	}
	f.mu.Unlock()
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (f *fakeGitHub) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code")) // codes are single-use
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("client_id") != fakeClientID || r.PostForm.Get("client_secret") != fakeClientSecret:
		http.Error(w, `{"error":"incorrect_client_credentials"}`, http.StatusUnauthorized)
	case !ok || r.PostForm.Get("redirect_uri") != g.redirectURI:
		http.Error(w, `{"error":"bad_verification_code"}`, http.StatusBadRequest)
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		http.Error(w, `{"error":"invalid_grant","error_description":"PKCE verification failed"}`, http.StatusBadRequest)
	default:
		token := "gho_" + r.PostForm.Get("code")
		f.tokens[token] = f.user
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"access_token": token, "token_type": "bearer", "scope": ""})
	}
}

func (f *fakeGitHub) userInfo(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	user, ok := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	f.mu.Unlock()
	if !ok {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(user)
}

// withGitHub configures Main to use the fake provider.
func withGitHub(f *fakeGitHub) func(*Main) {
	return func(m *Main) {
		m.Config.GitHub = web.GitHubConfig{
			ClientID:     fakeClientID,
			ClientSecret: fakeClientSecret,
			AuthURL:      f.URL + "/login/oauth/authorize",
			TokenURL:     f.URL + "/login/oauth/access_token",
			APIURL:       f.URL,
		}
	}
}

// gitHubLogin walks the browser through the whole flow: /auth/github →
// the provider's authorize page → our callback. It returns the callback's
// response.
func (b *browser) gitHubLogin() *response {
	b.tb.Helper()
	start := b.get("/auth/github")
	if start.StatusCode != http.StatusFound {
		b.tb.Fatalf("/auth/github: status %d", start.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, start.Header.Get("Location"), nil)
	authorize := b.do(req)
	if authorize.StatusCode != http.StatusFound {
		b.tb.Fatalf("authorize: status %d: %s", authorize.StatusCode, authorize.Body)
	}
	req, _ = http.NewRequest(http.MethodGet, authorize.Header.Get("Location"), nil)
	return b.do(req)
}

func TestGitHubLoginCreatesThenReusesTheUser(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.setUser(583231, "octocat", "The Octocat 🐙")
	m := MustRunMain(t, withGitHub(gh))

	b := newBrowser(t, m)
	home := b.get("/")
	wantBody(t, home, `href="/auth/github"`, "Log in with GitHub")

	wantRedirect(t, b.gitHubLogin(), "/chat")
	if b.cookie("sb_oauth_state") != nil {
		t.Error("state cookie kept after the callback")
	}
	profile := b.get("/profile")
	wantStatus(t, profile, http.StatusOK)
	wantBody(t, profile, `<dd id="username">octocat</dd>`, "The Octocat 🐙", "Linked", `<dd id="login-count">1</dd>`)

	u, err := m.Users.FindUserByGitHubID(context.Background(), 583231)
	if err != nil || u.Username != "octocat" || u.Name != "The Octocat 🐙" || u.PasswordHash != nil {
		t.Fatalf("stored user %+v, %v", u, err)
	}

	// A second login, from another browser, finds the same account.
	b2 := newBrowser(t, m)
	wantRedirect(t, b2.gitHubLogin(), "/chat")
	wantBody(t, b2.get("/profile"), `<dd id="username">octocat</dd>`, `<dd id="login-count">2</dd>`)
	// GitHub-only accounts cannot be logged into with a password.
	wantStatus(t, newBrowser(t, m).login("octocat", ""), http.StatusBadRequest)
	wantStatus(t, newBrowser(t, m).login("octocat", "any password"), http.StatusUnauthorized)
}

func TestGitHubLoginPicksAFreeUsername(t *testing.T) {
	gh := newFakeGitHub(t)
	m := MustRunMain(t, withGitHub(gh))
	wantRedirect(t, newBrowser(t, m).register("Mona", "local password"), "/chat")

	gh.setUser(1, "mona", "Mona Lisa")
	b := newBrowser(t, m)
	wantRedirect(t, b.gitHubLogin(), "/chat")
	wantBody(t, b.get("/profile"), `<dd id="username">mona-2</dd>`)

	gh.setUser(2, "a.b", "")
	b = newBrowser(t, m)
	wantRedirect(t, b.gitHubLogin(), "/chat")
	wantBody(t, b.get("/profile"), `<dd id="username">a-b</dd>`)
}

func TestGitHubLinksToTheLoggedInUser(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.setUser(42, "someone-else", "Henry GitHub")
	m := MustRunMain(t, withGitHub(gh))
	b := newBrowser(t, m)
	wantRedirect(t, b.register("henry", "henry's password"), "/chat")
	wantBody(t, b.get("/profile"), `href="/auth/github"`, "Link your GitHub account")

	wantRedirect(t, b.gitHubLogin(), "/profile?linked")
	wantBody(t, b.get("/profile?linked"), "now linked", `<dd id="username">henry</dd>`, "Henry GitHub")

	// Now either way of logging in reaches the same account.
	wantRedirect(t, newBrowser(t, m).login("henry", "henry's password"), "/chat")
	b2 := newBrowser(t, m)
	wantRedirect(t, b2.gitHubLogin(), "/chat")
	wantBody(t, b2.get("/profile"), `<dd id="username">henry</dd>`)

	// That GitHub account cannot be linked to a second user.
	b3 := newBrowser(t, m)
	wantRedirect(t, b3.register("ivan", "ivan's password"), "/chat")
	r := b3.gitHubLogin()
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "already linked to another user")
}

func TestGitHubCallbackChecksState(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.setUser(7, "stateful", "")
	m := MustRunMain(t, withGitHub(gh))

	// A callback nobody started (no state cookie): a CSRF'd login attempt.
	b := newBrowser(t, m)
	r := b.get("/auth/github/callback?code=code-xxxxxxxx&state=forged")
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, "could not be verified")

	// A started flow, but the state in the callback differs.
	b = newBrowser(t, m)
	start := b.get("/auth/github")
	auth, _ := url.Parse(start.Header.Get("Location"))
	r = b.get("/auth/github/callback?code=whatever&state=" + url.QueryEscape(auth.Query().Get("state")+"x"))
	wantStatus(t, r, http.StatusForbidden)
	if b.cookie(web.SessionCookie) != nil {
		t.Error("logged in with a bad state")
	}
	if _, err := m.Users.FindUserByGitHubID(context.Background(), 7); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Errorf("user created with a bad state: %v", err)
	}
}

func TestGitHubRefusalAndFailures(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.setUser(8, "refuser", "")
	m := MustRunMain(t, withGitHub(gh))

	gh.mu.Lock()
	gh.denyNext = true
	gh.mu.Unlock()
	b := newBrowser(t, m)
	r := b.gitHubLogin()
	wantStatus(t, r, http.StatusUnauthorized)
	wantBody(t, r, "GitHub login was cancelled", `action="/login"`)

	// A wrong client secret: the token exchange fails cleanly.
	bad := MustRunMain(t, withGitHub(gh), func(m *Main) { m.Config.GitHub.ClientSecret = "wrong" })
	r = newBrowser(t, bad).gitHubLogin()
	wantStatus(t, r, http.StatusUnauthorized)
	wantBody(t, r, "GitHub did not confirm the login")
}

func TestGitHubRoutesWhenNotConfigured(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	wantStatus(t, b.get("/auth/github"), http.StatusNotFound)
	wantStatus(t, b.get("/auth/github/callback?code=x&state=y"), http.StatusNotFound)
}
