package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchboard/chat/sqlite"
)

// The chat page (web/static/client.js) in Chromium, as its users live
// through it: a conversation faster than they read, a network that goes
// away and a server that restarts, a session that ends, names and messages
// written to fool the eye.

// chrome drives js/chat-browser.mjs on a program; each page is named by the
// user (or tab) it belongs to.
type chrome struct {
	t *testing.T
	b *node
}

func startChrome(t *testing.T, p *program) *chrome {
	t.Helper()
	requireChromium(t)
	b := startNode(t, "chat-browser.mjs", p.URL)
	b.timeout = 60 * time.Second // Chromium starts slowly on a busy machine; the page waits up to 45 s itself
	b.grace = 10 * time.Second
	return &chrome{t: t, b: b}
}

func (c *chrome) do(cmd map[string]any, report string) *report {
	c.t.Helper()
	c.b.send(c.t, cmd)
	return c.b.want(c.t, report, cmd["c"].(string))
}

// open opens a page in a browser context of its own; extra adds fields to
// the command (url, cookie).
func (c *chrome) open(page string, width, height int, extra map[string]any) *report {
	c.t.Helper()
	r := c.do(merge(map[string]any{"op": "open", "c": page, "width": width, "height": height}, extra), "opened")
	if r.N != 200 {
		c.t.Fatalf("opening %s's page: %s", page, r)
	}
	return r
}

// openChat opens /chat as the account (its session cookie) and waits until
// the page is connected.
func (c *chrome) openChat(p *program, a *account, width, height int) {
	c.t.Helper()
	c.open(a.Username, width, height, map[string]any{"url": p.URL + "/chat", "cookie": a.cookie(c.t)})
	c.waitState(a.Username, "connected")
}

// register signs a user up through the form of / (the page lands on /chat)
// and waits until the chat is connected.
func (c *chrome) register(page string) {
	c.t.Helper()
	c.do(map[string]any{"op": "register", "c": page, "username": page, "password": "password of " + page}, "registered")
	c.waitState(page, "connected")
}

func (c *chrome) send(page, text string) {
	c.t.Helper()
	c.do(map[string]any{"op": "send", "c": page, "text": text}, "sent")
}

func (c *chrome) waitText(page, selector, text string) {
	c.t.Helper()
	c.do(map[string]any{"op": "waitText", "c": page, "selector": selector, "text": text}, "shown")
}

func (c *chrome) waitItem(page, text string) {
	c.t.Helper()
	c.do(map[string]any{"op": "waitItem", "c": page, "text": text}, "shown")
}

// waitFor waits until the JavaScript expression is truthy in the page.
func (c *chrome) waitFor(page, expr string) {
	c.t.Helper()
	c.do(map[string]any{"op": "waitFor", "c": page, "expr": expr}, "shown")
}

// waitState waits for the connection status (#connection's data-state):
// connecting, connected, reconnecting or offline.
func (c *chrome) waitState(page, state string) {
	c.t.Helper()
	c.waitFor(page, `document.getElementById("connection").dataset.state === `+strconv.Quote(state))
}

// eval returns the expression's value in the page, as JSON.
func (c *chrome) eval(page, expr string) string {
	c.t.Helper()
	return c.do(map[string]any{"op": "eval", "c": page, "expr": expr}, "eval").Text
}

func (c *chrome) offline(page string, offline bool) {
	c.t.Helper()
	c.do(map[string]any{"op": "offline", "c": page, "offline": offline}, "offline")
}

// blockSockets makes the Engine.IO requests of the page's browser context
// (its tabs too) fail as if the server could not be reached, or lets them
// through again.
func (c *chrome) blockSockets(page string, block bool) {
	c.t.Helper()
	c.do(map[string]any{"op": "blockSockets", "c": page, "block": block}, "blocked")
}

// noConsoleErrors fails the test if a page logged an error (a content
// security policy violation among them). A request that failed because the
// test had taken the network away is not one: the page reconnects as the
// browser says the network is back, which can be a moment before requests
// go through again. Tests that break connections on the server's side
// name what that may log too (see the consoleAfter… texts).
func (c *chrome) noConsoleErrors(allowed ...string) {
	c.t.Helper()
	c.b.none(c.t, 0, "a console error", func(r *report) bool {
		return r.T == "console" && strings.HasPrefix(r.Text, "error") &&
			r.Text != "error: Failed to load resource: net::ERR_INTERNET_DISCONNECTED" &&
			!slices.Contains(allowed, r.Text)
	})
}

// What Chromium logs, as errors, when the server ends a connection under a
// page's feet, as some tests make it do.
const (
	// The client library wrote a packet (a pong, an event) on a WebSocket
	// the server was closing: Chromium drops it and logs this.
	consoleAfterServerClose = "error: WebSocket is already in CLOSING or CLOSED state."
	// A request of a long-polling session the server had closed meanwhile
	// (a frozen server, resumed, times the session out): 400, "Session ID
	// unknown", and the page connects anew.
	consoleAfterSessionGone = "error: Failed to load resource: the server responded with a status of 400 (Bad Request)"
)

// JavaScript read in the chat pages.
const (
	itemsJS        = `[...document.querySelectorAll("#messages li")].map((li) => li.textContent)`
	messagesJS     = `[...document.querySelectorAll("#messages li.message")].map((li) => li.textContent)`
	listAtBottomJS = `(() => { const l = document.getElementById("messages"); return l.scrollHeight - l.scrollTop - l.clientHeight < 2; })()`
	boxJS          = `({input: document.getElementById("m").value, error: document.getElementById("chat-error").hidden ? "" : document.getElementById("chat-error").textContent})`
)

// withinAPixel reports whether two positions (JSON numbers) are at most a
// pixel apart.
func withinAPixel(t *testing.T, a, b string) bool {
	t.Helper()
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("positions %q, %q", a, b)
	}
	return math.Abs(x-y) <= 1
}

// jumpShowsJS: the new-messages button is shown, with text.
func jumpShowsJS(text string) string {
	return `(() => { const b = document.getElementById("new-messages"); return !b.hidden && b.textContent === ` + strconv.Quote(text) + `; })()`
}

func lastItemIsJS(text string) string {
	return `(() => { const li = document.querySelector("#messages li:last-child"); return li !== null && li.textContent === ` + strconv.Quote(text) + `; })()`
}

// A reader at the end of the list keeps seeing the newest message however
// fast they come; one who scrolled up to read is left there, with a button
// that counts the messages below and jumps to them; sending a message
// brings its author back to the end. A hidden page counts others' messages
// in its title. The page keeps the last 200 items of a long conversation,
// not all of them.
func TestChatPageFollowsTheConversationInChromium(t *testing.T) {
	t.Parallel()
	// Nobody leaves here: the heartbeat need not notice lost clients within
	// half a second, and on a busy machine 23 clients and Chromium can be
	// starved that long.
	p := startProgram(t, "--ping-interval", "5s", "--ping-timeout", "5s")
	c := startChrome(t, p)
	c.open("alice", 900, 420, nil) // room for a few messages only
	c.open("bob", 900, 700, nil)
	c.register("alice")
	c.register("bob")
	c.waitText("alice", "#num-users", "2 users online")

	for i := 1; i <= 8; i++ { // as fast as bob can type them, within the rate limit's burst
		c.send("bob", fmt.Sprintf("burst %d", i))
	}
	c.waitFor("alice", lastItemIsJS("bob: burst 8")+" && "+listAtBottomJS)

	if got := c.eval("alice", `(() => {
		const l = document.getElementById("messages");
		l.scrollTo({top: 0, behavior: "instant"});
		return l.scrollTop === 0 && l.scrollHeight > l.clientHeight;
	})()`); got != "true" {
		t.Fatalf("alice scrolling to the top of a list longer than its box: %s", got)
	}
	c.send("bob", "while alice reads older messages")
	c.waitItem("alice", "bob: while alice reads older messages")
	if got := c.eval("alice", `document.getElementById("messages").scrollTop`); got != "0" {
		t.Errorf("alice's list moved to %s while she was reading at the top, want 0", got)
	}
	// A button over the end of her list counts what arrived below, and
	// takes her there.
	c.waitFor("alice", jumpShowsJS("1 new message ↓"))
	time.Sleep(1200 * time.Millisecond) // bob's rate limit refills after his burst
	c.send("bob", "and another")
	c.waitFor("alice", lastItemIsJS("bob: and another")+" && "+jumpShowsJS("2 new messages ↓"))
	shot := filepath.Join(artifactsDir(t), "chat-alice-new-messages.png")
	c.do(map[string]any{"op": "screenshot", "c": "alice", "path": shot}, "screenshot")
	t.Logf("screenshot of alice's page scrolled up with new messages below: %s", shot)
	c.do(map[string]any{"op": "click", "c": "alice", "selector": "#new-messages"}, "clicked")
	c.waitFor("alice", listAtBottomJS+` && document.getElementById("new-messages").hidden`)
	c.send("bob", "seen at once")
	c.waitFor("alice", lastItemIsJS("bob: seen at once")+" && "+listAtBottomJS+` && document.getElementById("new-messages").hidden`)

	// While her page is hidden (another tab in front), its title counts
	// the messages others post; her own do not count.
	c.eval("alice", `(() => {
		Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
		document.dispatchEvent(new Event("visibilitychange"));
	})()`)
	c.send("bob", "while alice is away 1")
	c.send("bob", "while alice is away 2")
	c.send("alice", "typed while away")
	c.waitFor("alice", lastItemIsJS("alice: typed while away")+` && document.title === "(2) Chat — Switchboard"`)
	c.eval("alice", `(() => {
		delete document.visibilityState;
		document.dispatchEvent(new Event("visibilitychange"));
	})()`)
	c.waitFor("alice", `document.title === "Chat — Switchboard"`)

	c.send("alice", "my reply")
	c.waitFor("alice", lastItemIsJS("alice: my reply")+" && "+listAtBottomJS)
	c.noConsoleErrors()

	// 210 more messages, from 21 users (each within the rate limit's burst).
	var names []string
	for i := 1; i <= 21; i++ {
		names = append(names, fmt.Sprintf("sender%02d", i))
	}
	n := startNode(t, "client.mjs")
	var socks []*sock
	for _, a := range register(t, p, names...) {
		// Quiet: 21 sockets would report each of the 4,410 events they
		// receive, which on a busy machine delayed the Node process long
		// enough for its sockets to time out their pings.
		n.connect(t, a.Username, p.URL, clientOpts{Opts: chatOpts(t, a, nil), Quiet: true})
		socks = append(socks, &sock{n: n, c: a.Username, a: a})
	}
	seqs := map[*sock][]int{}
	for _, s := range socks {
		s.connected(t)
		for i := 1; i <= 10; i++ {
			seqs[s] = append(seqs[s], s.emit(t, fmt.Sprintf("%s says %d", s.c, i)))
		}
	}
	for _, s := range socks {
		for _, seq := range seqs[s] {
			ackOf(t, n.ackOf(t, s.c, seq)).accepted(t, "a message of "+s.c)
		}
	}
	c.send("bob", "the end")
	c.waitItem("alice", "bob: the end")
	if got := c.eval("alice", `(() => {
		const items = [...document.querySelectorAll("#messages li")];
		return {count: items.length, last: items[items.length - 1].textContent};
	})()`); got != `{"count":200,"last":"bob: the end"}` {
		t.Errorf("alice's list after 240 items: %s, want the last 200", got)
	}
	c.noConsoleErrors()
}

// A page that cannot reach the chat server on its first try says so — not
// that a connection was lost — and keeps trying; once connected, the error
// of a message that could not be sent meanwhile goes, the text stays in the
// box. A connection lost later says so, and the page reconnects as soon as
// the browser says the network is back.
func TestChatPageSaysWhenItCannotReachTheServerYetInChromium(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	c := startChrome(t, p)
	c.open("alice", 900, 700, nil)
	c.register("alice")
	c.blockSockets("alice", true)
	if r := c.do(map[string]any{"op": "tab", "c": "alice-2", "of": "alice", "path": "/chat"}, "opened"); r.N != 200 {
		t.Fatalf("GET /chat in alice's second tab: %s", r)
	}
	c.waitState("alice-2", "reconnecting")
	if got, want := c.eval("alice-2", `[document.getElementById("connection").textContent, document.getElementById("num-users").textContent]`),
		`["Cannot reach the chat server — still trying…","Users online: unknown (connecting…)"]`; got != want {
		t.Errorf("the page before its first connection: %s, want %s", got, want)
	}
	c.send("alice-2", "too early")
	if got := c.eval("alice-2", boxJS); got != `{"input":"too early","error":"Not connected — your message was not sent."}` {
		t.Errorf("input and error after sending before the first connection: %s", got)
	}
	c.blockSockets("alice", false)
	c.waitState("alice-2", "connected")
	if got := c.eval("alice-2", boxJS); got != `{"input":"too early","error":""}` {
		t.Errorf("input and error once connected: %s, want the text kept and the error gone", got)
	}
	c.offline("alice", true)
	c.waitState("alice-2", "reconnecting")
	if got := c.eval("alice-2", `document.getElementById("connection").textContent`); got != `"Connection lost — reconnecting…"` {
		t.Errorf("the page once its connection was lost: %s", got)
	}
	// When the browser says the network is back, the page tries at once,
	// not at the end of the client's back-off.
	c.offline("alice", false)
	c.b.waitFor(t, "alice-2 reconnecting as the network came back", func(r *report) bool {
		return r.T == "console" && r.C == "alice-2" && r.Text == "info: Network back: reconnecting now."
	})
	c.waitState("alice-2", "connected")
}

// When the network goes away the page says so, keeps what the user typed
// and does not send it; when it comes back the page shows the messages it
// missed, once, after those it had, and the right number of users online.
// A message whose confirmation is lost with the connection comes back to
// the input box, unless the server did post it. After a server restart
// nothing is shown twice.
func TestChatPageAcrossReconnectionsInChromium(t *testing.T) {
	t.Parallel()
	// A slower heartbeat than the other tests': a frozen server is noticed
	// by the page after 1–2 s, time enough to send a message meanwhile.
	p := startProgram(t, "--ping-interval", "1s", "--ping-timeout", "1s")
	c := startChrome(t, p)
	c.open("alice", 900, 700, nil)
	c.open("bob", 900, 700, nil)
	c.register("alice")
	c.register("bob")
	c.waitItem("alice", "bob has joined the chat.")
	c.send("bob", "before 1")
	c.send("bob", "before 2")
	c.waitItem("alice", "bob: before 2")

	c.offline("alice", true)
	c.waitState("alice", "reconnecting")
	c.waitText("bob", "#num-users", "1 users online")
	c.send("alice", "typed while offline")
	if got := c.eval("alice", boxJS); got != `{"input":"typed while offline","error":"Not connected — your message was not sent."}` {
		t.Errorf("alice's input and error after sending while offline: %s", got)
	}
	c.send("bob", "while away 1")
	c.send("bob", "while away 2")
	c.waitItem("bob", "bob: while away 2")

	c.offline("alice", false)
	c.waitState("alice", "connected")
	c.waitItem("alice", "bob: while away 2")
	c.waitText("alice", "#num-users", "2 users online")
	c.waitText("bob", "#num-users", "2 users online")
	if got, want := c.eval("alice", itemsJS), `["alice has joined the chat.","bob has joined the chat.","bob: before 1","bob: before 2","bob: while away 1","bob: while away 2","alice has joined the chat."]`; got != want {
		t.Errorf("alice's list after her network came back:\n got %s\nwant %s (what she had, what she missed, her return)", got, want)
	}

	// The server freezes just as alice sends: her page gives up on the
	// connection before the message is confirmed.
	c.eval("alice", `document.getElementById("m").value = ""`)
	var resume sync.Once
	cont := func() { resume.Do(func() { p.signal(t, syscall.SIGCONT) }) }
	p.signal(t, syscall.SIGSTOP)
	t.Cleanup(cont)
	c.send("alice", "lost in transit")
	c.waitState("alice", "reconnecting")
	if got := c.eval("alice", `document.getElementById("m").value`); got != `"lost in transit"` {
		t.Errorf("alice's input once the connection dropped before her message was confirmed: %s, want the message back", got)
	}
	cont()
	c.waitState("alice", "connected")
	// The server may have read the message before it noticed alice had
	// gone (then it posted it, and her page shows it): in the list once, or
	// in the box, never both nor neither.
	c.waitFor("alice", `(() => {
		const inBox = document.getElementById("m").value === "lost in transit";
		const shown = [...document.querySelectorAll("#messages li")].filter((li) => li.textContent === "alice: lost in transit").length;
		return shown + (inBox ? 1 : 0) === 1;
	})()`)
	c.waitState("bob", "connected")

	p.stop(t)
	c.waitState("alice", "reconnecting")
	p.start(t)
	for _, page := range []string{"alice", "bob"} {
		c.waitState(page, "connected")
	}
	c.send("bob", "after the restart")
	for _, page := range []string{"alice", "bob"} {
		c.waitItem(page, "bob: after the restart")
		c.waitText(page, "#num-users", "2 users online")
	}
	alice, bob := c.eval("alice", messagesJS), c.eval("bob", messagesJS)
	want := `["bob: before 1","bob: before 2","bob: while away 1","bob: while away 2",` + `"bob: after the restart"]`
	wantPosted := strings.Replace(want, `"bob: while away 2",`, `"bob: while away 2","alice: lost in transit",`, 1)
	if alice != want && alice != wantPosted || bob != alice {
		t.Errorf("messages after the restart:\nalice %s\n  bob %s\n want %s (or with alice's lost message after \"while away 2\")", alice, bob, want)
	}
}

// Logging out elsewhere or a session expiring ends the chat page's
// connection: the page says why, offers the way back to the login, and does
// not keep trying — also when it learns it only on reconnecting.
func TestChatPageWhenTheSessionEndsInChromium(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	accounts := register(t, p, "alice", "bob")
	alice, bob := accounts[0], accounts[1]
	c := startChrome(t, p)
	c.openChat(p, alice, 900, 700)
	c.openChat(p, bob, 900, 700)
	// The box is read-only, not disabled: what it holds can still be
	// selected and copied.
	const ended = `{"text":"Your session has ended (you logged out, or it expired). Log in again","link":"/","readOnly":true,"focusable":true,"send":true}`
	statusJS := `(() => {
		const s = document.getElementById("connection"), a = s.querySelector("a"), m = document.getElementById("m");
		m.focus();
		return {text: s.textContent, link: a && a.getAttribute("href"), readOnly: m.readOnly,
			focusable: document.activeElement === m, send: document.querySelector("#send button").disabled};
	})()`

	alice.logout(t) // in another tab of hers
	c.waitState("alice", "offline")
	if got := c.eval("alice", statusJS); got != ended {
		t.Errorf("alice's chat page after she logged out elsewhere: %s, want %s", got, ended)
	}

	// bob's session ends while his page is offline: it learns it on
	// reconnecting (connect_error "unauthorized").
	c.offline("bob", true)
	c.waitState("bob", "reconnecting")
	bob.logout(t)
	c.offline("bob", false)
	c.waitState("bob", "offline")
	if got := c.eval("bob", statusJS); got != ended {
		t.Errorf("bob's chat page on reconnecting after his session ended: %s, want %s", got, ended)
	}
	c.do(map[string]any{"op": "click", "c": "bob", "selector": "#connection a", "url": p.URL + "/"}, "clicked")
	c.waitFor("bob", `document.querySelector('form[action="/login"] input[name="username"]') !== null`)
}

// A display name (from GitHub) or a message with right-to-left text or
// direction controls shows inside its own bidi isolate: it cannot reorder
// the rest of the line and make someone appear to say something else. A
// very long word wraps instead of widening the page. Addresses become
// links, and a message naming the reader stands out.
func TestChatPageKeepsNamesAndMessagesApartInChromium(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	accounts := register(t, p, "alice", "mallory")
	alice, mallory := accounts[0], accounts[1]
	const name = "Eve \u202E" // ends with RIGHT-TO-LEFT OVERRIDE
	linkGitHubName(t, p, mallory.Username, name)

	c := startChrome(t, p)
	c.openChat(p, alice, 900, 700)
	n := startNode(t, "client.mjs")
	m := openSock(t, n, "mallory", p, mallory, nil)
	m.connected(t)
	// The name is followed by the username, which is not the name here.
	const shown = name + " @mallory"
	c.waitItem("alice", shown+" has joined the chat.")
	m.send(t, "says hello").accepted(t, "mallory's message")
	c.waitItem("alice", shown+": says hello")
	long := strings.Repeat("W", 400)
	m.send(t, long).accepted(t, "mallory's long word")
	c.waitItem("alice", shown+": "+long)

	// The characters of each item, left to right as drawn: the name, then
	// ": says hello" and " has joined the chat." in reading order.
	got := c.eval("alice", `(() => {
		const charX = (li, i) => {
			const w = document.createTreeWalker(li, NodeFilter.SHOW_TEXT);
			for (let n = w.nextNode(); n; n = w.nextNode()) {
				if (i < n.length) {
					const r = document.createRange();
					r.setStart(n, i);
					r.setEnd(n, i + 1);
					const b = r.getBoundingClientRect();
					return b.left + b.width / 2;
				}
				i -= n.length;
			}
			return NaN;
		};
		const item = (text) => [...document.querySelectorAll("#messages li")].find((li) => li.textContent === text);
		const leftToRight = (li, ...at) => at.every((i, k) => k === 0 || charX(li, at[k - 1]) < charX(li, i));
		const name = `+strconv.Quote(shown)+`, l = document.getElementById("messages");
		return {
			message: leftToRight(item(name + ": says hello"), 0, name.length, name.length + 2, name.length + 11),
			announcement: leftToRight(item(name + " has joined the chat."), 0, name.length + 1, name.length + 20),
			wraps: l.scrollWidth <= l.clientWidth && document.documentElement.scrollWidth <= window.innerWidth,
		};
	})()`)
	if got != `{"message":true,"announcement":true,"wraps":true}` {
		t.Errorf("alice's page with mallory's name %q: %s, want the name, then the rest in reading order, and no horizontal overflow", name, got)
	}

	// Web addresses become links — http and https only, without the
	// punctuation that ends the sentence — and the text stays the text.
	const withLinks = `docs: https://socket.io/docs/v4/. (see https://en.wikipedia.org/wiki/WebSocket_(protocol)) ` +
		`javascript:alert(1) https://example.com/a?b=1&c=<script>x</script> data:text/html,hi http:// HTTP://EXAMPLE.org`
	m.send(t, withLinks).accepted(t, "mallory's links")
	c.waitItem("alice", shown+": "+withLinks)
	got = c.eval("alice", `[...document.querySelectorAll("#messages li:last-child a")].map((a) => [a.textContent, a.href, a.target, a.rel].join(" | "))`)
	want := []string{
		"https://socket.io/docs/v4/ | https://socket.io/docs/v4/ | _blank | noopener noreferrer nofollow ugc",
		"https://en.wikipedia.org/wiki/WebSocket_(protocol) | https://en.wikipedia.org/wiki/WebSocket_(protocol) | _blank | noopener noreferrer nofollow ugc",
		"https://example.com/a?b=1&c= | https://example.com/a?b=1&c= | _blank | noopener noreferrer nofollow ugc",
		"HTTP://EXAMPLE.org | http://example.org/ | _blank | noopener noreferrer nofollow ugc",
	}
	var links []string
	if err := json.Unmarshal([]byte(got), &links); err != nil || !slices.Equal(links, want) {
		t.Errorf("links in %q:\n got %s\nwant %q", withLinks, got, want)
	}
	if got := c.eval("alice", `document.querySelectorAll("#messages script, #messages li:last-child .text *:not(a)").length`); got != "0" {
		t.Errorf("%s elements other than links in the message", got)
	}

	// A message that names alice as @alice stands out on her page; an
	// address that merely contains her name does not.
	for _, c2 := range []struct {
		text    string
		mention bool
	}{
		{"hey @Alice, look", true},
		{"write to bob@alice.example", false},
		{"@alicexyz is someone else", false},
	} {
		m.send(t, c2.text).accepted(t, "mallory's message")
		c.waitItem("alice", shown+": "+c2.text)
		if got := c.eval("alice", `document.querySelector("#messages li:last-child").classList.contains("mention")`); got != strconv.FormatBool(c2.mention) {
			t.Errorf("%q marked as mentioning alice: %s, want %v", c2.text, got, c2.mention)
		}
	}
	c.noConsoleErrors()
}

// A display name is free text: a GitHub user may call themselves "alice".
// The page then shows their unique username after it, so alice's readers
// can tell her from the impostor; a name that is the username (accounts
// with a password) shows alone.
func TestChatPageTellsApartUsersWhoShareADisplayNameInChromium(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	accounts := register(t, p, "alice", "mallory")
	alice, mallory := accounts[0], accounts[1]
	linkGitHubName(t, p, mallory.Username, "alice")

	c := startChrome(t, p)
	c.openChat(p, alice, 900, 700)
	c.send("alice", "hi, it's me")
	c.waitItem("alice", "alice: hi, it's me")
	n := startNode(t, "client.mjs")
	m := openSock(t, n, "mallory", p, mallory, nil)
	m.connected(t)
	c.waitItem("alice", "alice @mallory has joined the chat.")
	m.send(t, "no, I am alice").accepted(t, "mallory's message")
	c.waitItem("alice", "alice @mallory: no, I am alice")
	c.noConsoleErrors()
}

// linkGitHubName gives the user the display name a GitHub login would,
// writing to the program's database as its GitHub callback does.
func linkGitHubName(t *testing.T, p *program, username, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	db := sqlite.NewDB(p.DB)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users := sqlite.NewUserService(db)
	u, err := users.FindUserByUsername(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	if err := users.LinkGitHub(ctx, u.ID, 4242, name); err != nil {
		t.Fatal(err)
	}
}

// onlineListJS reads the who-is-online list: its items, and whether it is
// open (the toggle's aria-expanded and the panel's visibility agree).
const onlineListJS = `(() => {
	const open = document.getElementById("who").getAttribute("aria-expanded") === "true";
	if (open === document.getElementById("online-users").hidden) return "toggle and panel disagree";
	const note = document.getElementById("online-note");
	return {open, users: [...document.querySelectorAll("#online-list li")].map((li) => li.textContent), note: note.hidden ? "" : note.textContent};
})()`

// "N users online" opens the list of who is online; it follows the
// arrivals and departures while open, closes with Escape or a click
// elsewhere, and says so while the connection is away.
func TestChatPageListsWhoIsOnlineInChromium(t *testing.T) {
	t.Parallel()
	p := startProgram(t, "--ping-interval", "5s", "--ping-timeout", "5s")
	accounts := register(t, p, "alice", "bob", "Carol")
	alice, bob, carol := accounts[0], accounts[1], accounts[2]
	c := startChrome(t, p)
	c.openChat(p, alice, 900, 700)
	n := startNode(t, "client.mjs")
	openSock(t, n, "bob", p, bob, nil).connected(t)
	c.waitText("alice", "#num-users", "2 users online")

	wantList := func(want string) {
		t.Helper()
		c.waitFor("alice", onlineListJS+` !== null && JSON.stringify(`+onlineListJS+`) === `+strconv.Quote(want))
	}
	c.do(map[string]any{"op": "click", "c": "alice", "selector": "#who"}, "clicked")
	wantList(`{"open":true,"users":["alice (you)","bob"],"note":""}`)
	openSock(t, n, "Carol", p, carol, nil).connected(t)
	wantList(`{"open":true,"users":["alice (you)","bob","Carol"],"note":""}`)
	shot := filepath.Join(artifactsDir(t), "chat-alice-who-is-online.png")
	c.do(map[string]any{"op": "screenshot", "c": "alice", "path": shot}, "screenshot")
	t.Logf("screenshot of alice's list of who is online: %s", shot)
	n.send(t, map[string]any{"op": "disconnect", "c": "bob"})
	wantList(`{"open":true,"users":["alice (you)","Carol"],"note":""}`)

	c.eval("alice", `document.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape"}))`)
	wantList(`{"open":false,"users":["alice (you)","Carol"],"note":""}`)
	c.do(map[string]any{"op": "click", "c": "alice", "selector": "#who"}, "clicked")
	wantList(`{"open":true,"users":["alice (you)","Carol"],"note":""}`)
	c.do(map[string]any{"op": "click", "c": "alice", "selector": "#messages"}, "clicked")
	wantList(`{"open":false,"users":["alice (you)","Carol"],"note":""}`)

	// On a phone the list stays on the screen.
	c.do(map[string]any{"op": "viewport", "c": "alice", "width": 390, "height": 844}, "viewport")
	c.do(map[string]any{"op": "click", "c": "alice", "selector": "#who"}, "clicked")
	wantList(`{"open":true,"users":["alice (you)","Carol"],"note":""}`)
	if got := c.eval("alice", `(() => {
		const r = document.getElementById("online-users").getBoundingClientRect();
		return r.left >= 0 && r.right <= window.innerWidth && document.documentElement.scrollWidth <= window.innerWidth;
	})()`); got != "true" {
		t.Errorf("the list on a 390 px wide screen: inside it %s, want true", got)
	}
	shot = filepath.Join(artifactsDir(t), "chat-alice-who-is-online-phone.png")
	c.do(map[string]any{"op": "screenshot", "c": "alice", "path": shot}, "screenshot")
	c.do(map[string]any{"op": "click", "c": "alice", "selector": "#who"}, "clicked")
	c.do(map[string]any{"op": "viewport", "c": "alice", "width": 900, "height": 700}, "viewport")

	// A page that loads behind another tab does not count the history it
	// is sent as unread, only what comes after.
	c.send("alice", "before carol's tab")
	c.waitItem("alice", "alice: before carol's tab")
	c.open("Carol-behind", 900, 700, map[string]any{"url": p.URL + "/chat", "cookie": carol.cookie(t), "hidden": true})
	c.waitState("Carol-behind", "connected")
	c.waitFor("Carol-behind", lastItemIsJS("alice: before carol's tab")+` && document.visibilityState === "hidden"`)
	if got := c.eval("Carol-behind", `document.title`); got != `"Chat — Switchboard"` {
		t.Errorf("the title of a page loaded behind another tab, after its history: %s", got)
	}
	c.send("alice", "to carol while her tab is behind")
	c.waitFor("Carol-behind", lastItemIsJS("alice: to carol while her tab is behind")+` && document.title === "(1) Chat — Switchboard"`)

	// Open while the connection is away, the list says so, and comes back
	// with the connection.
	c.do(map[string]any{"op": "click", "c": "alice", "selector": "#who"}, "clicked")
	wantList(`{"open":true,"users":["alice (you)","Carol"],"note":""}`)
	c.offline("alice", true)
	c.waitState("alice", "reconnecting")
	wantList(`{"open":true,"users":[],"note":"Not connected: the list comes back with the connection."}`)
	c.offline("alice", false)
	c.waitState("alice", "connected")
	wantList(`{"open":true,"users":["alice (you)","Carol"],"note":""}`)
	c.noConsoleErrors()
}

// A reader at the start of the list loads the messages before the oldest
// one shown, 50 at a time, until there are none: the button shows only at
// the start and while there are more, and what they were reading stays
// where it was.
func TestChatPageLoadsEarlierMessagesInChromium(t *testing.T) {
	t.Parallel()
	p := startProgram(t, "--ping-interval", "5s", "--ping-timeout", "5s")
	var names []string
	for i := 1; i <= 12; i++ {
		names = append(names, fmt.Sprintf("writer%02d", i))
	}
	accounts := register(t, p, append([]string{"alice"}, names...)...)
	n := startNode(t, "client.mjs")
	i := 0
	for _, a := range accounts[1:] { // 120 messages, 10 from each writer (within the rate limit's burst)
		s := openSock(t, n, a.Username, p, a, nil)
		s.connected(t)
		var seqs []int
		for range 10 {
			i++
			seqs = append(seqs, s.emit(t, fmt.Sprintf("message %03d", i)))
		}
		for _, seq := range seqs {
			ackOf(t, n.ackOf(t, s.c, seq)).accepted(t, "a message of "+s.c)
		}
	}
	c := startChrome(t, p)
	c.openChat(p, accounts[0], 900, 700)
	const messagesJS = `[...document.querySelectorAll("#messages li.message")].map((li) => li.textContent)`
	const firstLastJS = `(() => { const m = ` + messagesJS + `; return m.length + " " + m[0] + " … " + m[m.length - 1]; })()`
	const earlierShownJS = `!document.getElementById("earlier").hidden`
	c.waitFor("alice", firstLastJS+` === "50 writer08: message 071 … writer12: message 120"`)
	c.waitFor("alice", `!(`+earlierShownJS+`)`) // at the end of the list

	// Going back: the button appears at the start, and loads 50 more above
	// what she was reading, which stays in place.
	c.eval("alice", `document.getElementById("messages").scrollTo({top: 0, behavior: "instant"})`)
	c.waitFor("alice", earlierShownJS)
	shot := filepath.Join(artifactsDir(t), "chat-alice-earlier-messages.png")
	c.do(map[string]any{"op": "screenshot", "c": "alice", "path": shot}, "screenshot")
	t.Logf("screenshot of alice's page at the start of the list, with earlier messages to load: %s", shot)
	const topOfJS = `(() => { const li = [...document.querySelectorAll("#messages li.message")].find((li) => li.textContent.endsWith("message 071")); return Math.round(li.getBoundingClientRect().top); })()`
	top := c.eval("alice", topOfJS)
	c.do(map[string]any{"op": "click", "c": "alice", "selector": "#earlier"}, "clicked")
	c.waitFor("alice", firstLastJS+` === "100 writer03: message 021 … writer12: message 120"`)
	// It stays in place (scrollTop is whole pixels, its position need not
	// be: one pixel of rounding is allowed).
	if got := c.eval("alice", topOfJS); !withinAPixel(t, got, top) {
		t.Errorf("the message alice was reading moved from %s to %s px", top, got)
	}
	c.waitFor("alice", `!(`+earlierShownJS+`)`) // no longer at the start

	c.eval("alice", `document.getElementById("messages").scrollTo({top: 0, behavior: "instant"})`)
	c.waitFor("alice", earlierShownJS)
	c.do(map[string]any{"op": "click", "c": "alice", "selector": "#earlier"}, "clicked")
	c.waitFor("alice", firstLastJS+` === "120 writer01: message 001 … writer12: message 120"`)
	c.eval("alice", `document.getElementById("messages").scrollTo({top: 0, behavior: "instant"})`)
	time.Sleep(200 * time.Millisecond)
	if c.eval("alice", earlierShownJS) != "false" {
		t.Error("the button shows with no earlier message left")
	}
	c.noConsoleErrors()
}

// While bob writes, alice's page says so under her list, until his message
// arrives or, when he stops, a few seconds later; his own page does not.
func TestChatPageShowsWhoIsTypingInChromium(t *testing.T) {
	t.Parallel()
	p := startProgram(t, "--ping-interval", "5s", "--ping-timeout", "5s")
	accounts := register(t, p, "alice", "bob")
	c := startChrome(t, p)
	c.openChat(p, accounts[0], 900, 700)
	c.openChat(p, accounts[1], 900, 700)
	c.waitText("alice", "#num-users", "2 users online")
	const typingJS = `(() => { const l = document.getElementById("typing"); return l.hidden ? "" : l.textContent; })()`

	c.do(map[string]any{"op": "fill", "c": "bob", "text": "hello al"}, "filled")
	c.waitFor("alice", typingJS+` === "bob is typing…"`)
	shot := filepath.Join(artifactsDir(t), "chat-alice-bob-is-typing.png")
	c.do(map[string]any{"op": "screenshot", "c": "alice", "path": shot}, "screenshot")
	t.Logf("screenshot of alice's page while bob types: %s", shot)
	if got := c.eval("bob", typingJS); got != `""` {
		t.Errorf("bob's own page says %s", got)
	}
	c.send("bob", "hello alice")
	c.waitFor("alice", lastItemIsJS("bob: hello alice")+` && `+typingJS+` === ""`)

	c.do(map[string]any{"op": "fill", "c": "bob", "text": "and then I stopped"}, "filled")
	c.waitFor("alice", typingJS+` === "bob is typing…"`)
	start := time.Now()
	c.waitFor("alice", typingJS+` === ""`)
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("the notice went after %v, want about 3.5 s", d)
	}
	c.noConsoleErrors()
}
