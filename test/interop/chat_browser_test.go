package interop

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// artifactsDir is where tests leave files for people to look at
// (screenshots): test/artifacts, ignored by git.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The chat in Chromium, as people use it: two users, each in a browser
// context of their own, register through the form on / and land on /chat;
// both pages show "2 users online"; messages typed in #m and submitted
// appear on both as "NAME: message"; markup in a message is shown as text
// (no element, no script); when one user's tab closes the other page shows
// "1 users online" and "NAME has left the chat."; a second tab of a user
// is not announced, and logging out in one tab disconnects the other, which
// says so and links to the login. The pages carry the content security
// policy, break none of it (no console error), and tell assistive
// technologies what their parts are.
// Screenshots of the chat page (desktop width, and phone width 390 px) go
// to test/artifacts/. With --fcc-testing, a page of another origin (the
// freeCodeCamp checker) reads the sources.
func TestChatInChromium(t *testing.T) {
	t.Parallel()
	requireChromium(t)
	p := startProgram(t, "--fcc-testing")
	b := startNode(t, "chat-browser.mjs", p.URL)
	b.timeout = 60 * time.Second // Chromium starts slowly on a busy machine; the page waits up to 45 s itself
	b.grace = 10 * time.Second
	do := func(cmd map[string]any, report string) *report {
		t.Helper()
		b.send(t, cmd)
		return b.want(t, report, cmd["c"].(string))
	}
	for _, user := range []string{"alice", "bob"} {
		r := do(map[string]any{"op": "open", "c": user, "width": 1280, "height": 800}, "opened")
		if r.N != 200 {
			t.Fatalf("GET / in Chromium: %s", r)
		}
		if want := `{"csp":"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"}`; string(r.Data) != want {
			t.Errorf("GET / in Chromium: %s, want the content security policy %s", r.Data, want)
		}
	}
	waitText := func(c, selector, text string) {
		t.Helper()
		do(map[string]any{"op": "waitText", "c": c, "selector": selector, "text": text}, "shown")
	}
	waitItem := func(c, text string) {
		t.Helper()
		do(map[string]any{"op": "waitItem", "c": c, "text": text}, "shown")
	}

	// alice first, so that bob's arrival is announced on her page
	for _, user := range []string{"alice", "bob"} {
		do(map[string]any{"op": "register", "c": user, "username": user, "password": "password of " + user}, "registered")
		waitText(user, "#connection", "Connected")
	}
	for _, user := range []string{"alice", "bob"} {
		waitText(user, "#num-users", "2 users online")
	}
	waitItem("alice", "bob has joined the chat.")

	messages := []struct{ from, text string }{
		{"alice", "Hello Bob! ✓"},
		{"bob", "Hi Alice 😀 — how are you?"},
		{"alice", `<img src=x onerror="window.__xss=1">`},
		{"bob", "<b>not bold</b> & <script>window.__xss=2</script>"},
	}
	for _, m := range messages {
		do(map[string]any{"op": "send", "c": m.from, "text": m.text}, "sent")
		for _, user := range []string{"alice", "bob"} {
			waitItem(user, m.from+": "+m.text)
		}
	}
	for _, user := range []string{"alice", "bob"} {
		r := do(map[string]any{"op": "eval", "c": user, "expr": `({
			elements: document.querySelectorAll("#messages img, #messages b, #messages script").length,
			xss: typeof window.__xss,
			input: document.getElementById("m").value,
		})`}, "eval")
		if r.Text != `{"elements":0,"xss":"undefined","input":""}` {
			t.Errorf("%s's page after the messages with markup: %s, want no element, window.__xss undefined, #m emptied", user, r.Text)
		}
	}

	// What assistive technologies are told: the list is a log (new items
	// are read out), the count and the connection status are live, errors
	// are alerts, the input has a label.
	if r := do(map[string]any{"op": "eval", "c": "alice", "expr": `({
		messages: document.getElementById("messages").getAttribute("role"),
		count: document.getElementById("num-users").getAttribute("aria-live"),
		status: document.getElementById("connection").getAttribute("role"),
		error: document.getElementById("chat-error").getAttribute("role"),
		label: [...document.getElementById("m").labels].map((l) => l.textContent).join(),
	})`}, "eval"); r.Text != `{"messages":"log","count":"polite","status":"status","error":"alert","label":"Message"}` {
		t.Errorf("roles and labels of alice's chat page: %s", r.Text)
	}

	dir := artifactsDir(t)
	shots := []struct {
		user, name    string
		width, height int
	}{
		{"alice", "chat-alice-desktop.png", 1280, 800},
		{"bob", "chat-bob-desktop.png", 1280, 800},
		{"bob", "chat-bob-phone.png", 390, 844},
	}
	for _, s := range shots {
		do(map[string]any{"op": "viewport", "c": s.user, "width": s.width, "height": s.height}, "viewport")
		path := filepath.Join(dir, s.name)
		do(map[string]any{"op": "screenshot", "c": s.user, "path": path}, "screenshot")
		if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", path, err)
		}
		t.Logf("screenshot of %s's chat page at %dx%d: %s", s.user, s.width, s.height, path)
	}

	do(map[string]any{"op": "close", "c": "bob"}, "closed")
	waitText("alice", "#num-users", "1 users online")
	waitItem("alice", "bob has left the chat.")
	path := filepath.Join(dir, "chat-alice-after-bob-left.png")
	do(map[string]any{"op": "screenshot", "c": "alice", "path": path}, "screenshot")
	t.Logf("screenshot of alice's chat page after bob left: %s", path)

	// A second tab of alice changes nothing on her first (no
	// announcement); logging out in the first disconnects the second, which
	// says so.
	if r := do(map[string]any{"op": "tab", "c": "alice-2", "of": "alice", "path": "/chat"}, "opened"); r.N != 200 {
		t.Fatalf("GET /chat in alice's second tab: %s", r)
	}
	waitText("alice-2", "#connection", "Connected")
	waitText("alice-2", "#num-users", "1 users online")
	for _, m := range messages {
		waitItem("alice-2", m.from+": "+m.text) // the history
	}
	do(map[string]any{"op": "send", "c": "alice-2", "text": "from my second tab"}, "sent")
	for _, page := range []string{"alice", "alice-2"} {
		waitItem(page, "alice: from my second tab")
	}
	if r := do(map[string]any{"op": "eval", "c": "alice", "expr": `[...document.querySelectorAll("#messages li.announcement")].map((li) => li.textContent)`}, "eval"); r.Text != `["alice has joined the chat.","bob has joined the chat.","bob has left the chat."]` {
		// Her own arrival (kept below the history), bob's arrival and departure,
		// and nothing for her second tab.
		t.Errorf("announcements on alice's first tab: %s, want her arrival, then bob's arrival and departure", r.Text)
	}
	do(map[string]any{"op": "click", "c": "alice", "selector": `form[action="/logout"] button[type="submit"]`, "url": "**/?logged_out"}, "clicked")
	waitText("alice", ".notice", "You have been logged out. See you soon!")
	waitText("alice-2", "#connection", "Your session has ended (you logged out, or it expired). Log in again")
	path = filepath.Join(dir, "chat-alice-second-tab-after-logout.png")
	do(map[string]any{"op": "screenshot", "c": "alice-2", "path": path}, "screenshot")
	t.Logf("screenshot of alice's second tab after she logged out in the first: %s", path)

	b.none(t, 0, "a console error", func(r *report) bool {
		return r.T == "console" && strings.HasPrefix(r.Text, "error")
	})

	// With --fcc-testing, the freeCodeCamp checker — a page of another
	// origin, here http://localhost:port — reads the server's source and
	// the client script with credentials: Chromium accepts the CORS answers.
	// (The page is served from loopback too: Chromium refuses a page of a
	// public address access to loopback, whatever the server answers.)
	checker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>checker</title>")
	}))
	t.Cleanup(checker.Close)
	checkerURL := "http://localhost:" + checker.URL[strings.LastIndex(checker.URL, ":")+1:] + "/"
	do(map[string]any{"op": "open", "c": "checker", "url": checkerURL}, "opened")
	for path, want := range map[string]string{
		"/_api/server.js":   `io.Emit("user count", currentUsers)`,
		"/public/client.js": `socket.on('user count'`,
	} {
		r := do(map[string]any{"op": "eval", "c": "checker", "expr": `fetch(` + strconv.Quote(p.URL+path) + `, {credentials: "include"}).then(
			async (r) => ({status: r.status, found: (await r.text()).includes(` + strconv.Quote(want) + `)}),
			(err) => ({error: String(err)}))`}, "eval")
		if r.Text != `{"status":200,"found":true}` {
			t.Errorf("the checker page at %s reading %s: %s", checkerURL, path, r.Text)
		}
	}
	// a page of any other origin (the same server as http://127.0.0.1) is
	// refused the source
	do(map[string]any{"op": "open", "c": "stranger", "url": checker.URL + "/"}, "opened")
	r := do(map[string]any{"op": "eval", "c": "stranger", "expr": `fetch(` + strconv.Quote(p.URL+"/_api/server.js") + `, {credentials: "include"}).then(
		(r) => ({status: r.status}), (err) => ({error: String(err)}))`}, "eval")
	if r.Text != `{"error":"TypeError: Failed to fetch"}` {
		t.Errorf("a page at %s reading /_api/server.js: %s, want a CORS refusal", checker.URL, r.Text)
	}
}
