package interop

import (
	"os"
	"path/filepath"
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
// "1 users online" and "NAME has left the chat.". Screenshots of the chat
// page (desktop width, and phone width 390 px) go to test/artifacts/.
func TestChatInChromium(t *testing.T) {
	t.Parallel()
	requireChromium(t)
	p := startProgram(t)
	b := startNode(t, "chat-browser.mjs", p.URL)
	b.timeout = 30 * time.Second // Chromium starts slowly on a busy machine
	b.grace = 10 * time.Second
	do := func(cmd map[string]any, report string) *report {
		t.Helper()
		b.send(t, cmd)
		return b.want(t, report, cmd["c"].(string))
	}
	for _, user := range []string{"alice", "bob"} {
		if r := do(map[string]any{"op": "open", "c": user, "width": 1280, "height": 800}, "opened"); r.N != 200 {
			t.Fatalf("GET / in Chromium: %s", r)
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

	b.none(t, 0, "a console error", func(r *report) bool {
		return r.T == "console" && strings.HasPrefix(r.Text, "error")
	})
}
