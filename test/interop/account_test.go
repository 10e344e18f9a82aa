package interop

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// account is a user of the chat program driving its HTTP pages as a browser
// without JavaScript would: a cookie jar, the forms of / and /chat with
// their CSRF tokens.
type account struct {
	Username, Password string

	base string
	http *http.Client
}

// Names of the program's cookies and form fields (chat/web).
const (
	sessionCookie = "sb_session"
	csrfField     = "csrf_token"
)

// accountTimeout bounds each request of an account. Registering and logging
// in cost a bcrypt hash at the program's production cost (12: about 0.3 s
// of a core, seconds with SWITCHBOARD_PROGRAM_RACE=1), and the program
// hashes on GOMAXPROCS slots at a time: the last of register's 21 parallel
// registrations waits for ten hashes before its own, which on a busy
// machine took more than waitTimeout.
const accountTimeout = 60 * time.Second

func newAccount(t *testing.T, p *program, username string) *account {
	jar, _ := cookiejar.New(nil)
	return &account{
		Username: username,
		Password: "password of " + username,
		base:     p.URL,
		http: &http.Client{
			Jar:           jar,
			Transport:     ownTransport(t),
			Timeout:       accountTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// ownTransport returns an HTTP transport for one client making one request
// at a time. Clients making requests concurrently on a shared transport may
// leave a connection that never carries a request, which holds up the
// program's graceful shutdown for 5 s (net/http waits that long for the
// first request of a new connection).
func ownTransport(t *testing.T) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// register creates the accounts through the form on / (in parallel: each
// costs a bcrypt hash), each logged in afterwards.
func register(t *testing.T, p *program, usernames ...string) []*account {
	t.Helper()
	accounts := make([]*account, len(usernames))
	errs := make([]error, len(usernames))
	var wg sync.WaitGroup
	for i, name := range usernames {
		accounts[i] = newAccount(t, p, name)
		wg.Go(func() { errs[i] = accounts[i].register() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return accounts
}

var csrfRE = regexp.MustCompile(`<form[^>]*action="([^"]+)"[^>]*>\s*<input type="hidden" name="` + csrfField + `" value="([^"]+)">`)

// formToken returns the CSRF token of the form posting to action on the
// page at path.
func (a *account) formToken(path, action string) (string, error) {
	body, err := a.get(path)
	if err != nil {
		return "", err
	}
	for _, m := range csrfRE.FindAllStringSubmatch(body, -1) {
		if m[1] == action {
			return m[2], nil
		}
	}
	return "", fmt.Errorf("GET %s: no form posting to %s with a CSRF token", path, action)
}

func (a *account) get(path string) (string, error) {
	res, err := a.http.Get(a.base + path)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return string(body), nil
}

// post submits a form of the page at page to action and checks that the
// answer redirects to wantLocation.
func (a *account) post(page, action string, form url.Values, wantLocation string) error {
	token, err := a.formToken(page, action)
	if err != nil {
		return err
	}
	form.Set(csrfField, token)
	res, err := a.http.PostForm(a.base+action, form)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != wantLocation {
		return fmt.Errorf("POST %s as %s: %s to %q, want 303 to %q: %.500s", action, a.Username, res.Status, res.Header.Get("Location"), wantLocation, body)
	}
	return nil
}

func (a *account) register() error {
	return a.post("/", "/register", url.Values{"username": {a.Username}, "password": {a.Password}}, "/chat")
}

// login logs in through the form on /, in a browser of its own: another
// session of the same user.
func (a *account) login(t *testing.T, p *program) *account {
	t.Helper()
	b := newAccount(t, p, a.Username)
	b.Password = a.Password
	if err := b.post("/", "/login", url.Values{"username": {a.Username}, "password": {a.Password}}, "/chat"); err != nil {
		t.Fatal(err)
	}
	return b
}

// loginAgain logs in as other from a's browser, which is logged in already
// — with the CSRF token of its chat page's forms, as a script on that page
// could. It returns a, now with other's session.
func (a *account) loginAgain(t *testing.T, other *account) {
	t.Helper()
	token, err := a.formToken("/chat", "/logout") // one token for every form of the page
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"username": {other.Username}, "password": {other.Password}, csrfField: {token}}
	res, err := a.http.PostForm(a.base+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/chat" {
		t.Fatalf("POST /login as %s from %s's browser: %s to %q", other.Username, a.Username, res.Status, res.Header.Get("Location"))
	}
}

// logout submits the "Log out" form of /chat.
func (a *account) logout(t *testing.T) {
	t.Helper()
	if err := a.post("/chat", "/logout", url.Values{}, "/?logged_out"); err != nil {
		t.Fatal(err)
	}
}

// session returns the value of the account's session cookie.
func (a *account) session(t *testing.T) string {
	t.Helper()
	u, _ := url.Parse(a.base)
	for _, c := range a.http.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	t.Fatalf("%s has no session cookie", a.Username)
	return ""
}

// cookie is the Cookie header a client of this account sends.
func (a *account) cookie(t *testing.T) string {
	t.Helper()
	return sessionCookie + "=" + a.session(t)
}

var onlineRE = regexp.MustCompile(`id="num-users"[^>]*>(\d+) users online<`)

// online returns the number of users online as /chat shows it (rendered by
// the server from its presence registry).
func (a *account) online(t *testing.T) int {
	t.Helper()
	body, err := a.get("/chat")
	if err != nil {
		t.Fatal(err)
	}
	m := onlineRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("GET /chat: no #num-users in %.300s", strings.TrimSpace(body))
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
