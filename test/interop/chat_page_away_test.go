package interop

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// The chat page (web/static/client.js) in Chromium while it is away from
// the server: what it tells its user about the people online and about the
// messages it could not get back.

// countJS reads #num-users: its text, and whether assistive technologies
// are told of it (a polite live region, not hidden).
const countJS = `(() => {
	const n = document.getElementById("num-users");
	const hidden = n.hidden || n.getAttribute("aria-hidden") === "true" || getComputedStyle(n).display === "none";
	return {text: n.textContent.trim(), live: n.getAttribute("aria-live"), shown: !hidden};
})()`

// The texts of #num-users while the page does not know the count.
const (
	countReconnecting = `{"text":"Users online: unknown (reconnecting…)","live":"polite","shown":true}`
	countDisconnected = `{"text":"Users online: unknown (disconnected)","live":"polite","shown":true}`
)

// While the page is away from the server it does not know how many users
// are online: #num-users says so (a live region, read out) instead of
// showing the last count, and the live count comes back with the
// connection — after a lost network and after a server restart. Once the
// page has stopped trying (the session ended), the count stays unknown.
func TestChatPageCountIsUnknownWhileAwayInChromium(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	accounts := register(t, p, "alice", "bob")
	alice, bob := accounts[0], accounts[1]
	c := startChrome(t, p)
	c.openChat(p, alice, 900, 700)
	c.openChat(p, bob, 900, 700)
	c.waitText("alice", "#num-users", "2 users online")

	c.offline("alice", true)
	c.waitState("alice", "reconnecting")
	if got := c.eval("alice", countJS); got != countReconnecting {
		t.Errorf("alice's #num-users while her network is away: %s, want %s", got, countReconnecting)
	}
	c.offline("alice", false)
	c.waitState("alice", "connected")
	c.waitText("alice", "#num-users", "2 users online")

	p.stop(t)
	for _, page := range []string{"alice", "bob"} {
		c.waitState(page, "reconnecting")
		if got := c.eval(page, countJS); got != countReconnecting {
			t.Errorf("%s's #num-users while the server restarts: %s, want %s", page, got, countReconnecting)
		}
	}
	p.start(t)
	for _, page := range []string{"alice", "bob"} {
		c.waitState(page, "connected")
		c.waitText(page, "#num-users", "2 users online")
	}

	bob.logout(t) // in another tab of his
	c.waitState("bob", "offline")
	if got := c.eval("bob", countJS); got != countDisconnected {
		t.Errorf("bob's #num-users once his session ended: %s, want %s", got, countDisconnected)
	}
	c.waitText("alice", "#num-users", "1 users online")
	c.noConsoleErrors(consoleAfterServerClose) // the restart, the logout
}

// heardLeave waits for socket c of node n to hear that a left (`user`,
// connected false), consuming the event.
func heardLeave(t *testing.T, n *node, c string, a *account) {
	t.Helper()
	n.waitFor(t, c+" hearing "+a.Username+" leave", func(r *report) bool {
		if r.T != "event" || r.C != c || r.Event != "user" || len(r.Args) != 1 {
			return false
		}
		var u userEvt
		return json.Unmarshal(r.Args[0], &u) == nil && u.Username == a.Username && !u.Connected
	})
}

// missedMarker is the item that stands where messages are missing: more
// were posted while the page was away than the history it got back holds.
const missedMarker = "Some messages were missed while you were away. Show them"

// When more messages were posted while the page was away than the
// history of its next connection holds (none of it reaches back to the
// last message shown), an item says so where the messages are missing, and
// its button shows them. A history that reaches back to what the page
// shows adds no such item.
func TestChatPageMarksMessagesMissedBeyondTheHistoryInChromium(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	accounts := register(t, p, "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
		"ivan", "judy", "mallory", "niaj", "olivia")
	alice, bob, senders, later := accounts[0], accounts[1], accounts[2:8], accounts[8:]
	c := startChrome(t, p)
	c.openChat(p, alice, 900, 700)
	n := startNode(t, "client.mjs")
	b := openSock(t, n, "bob", p, bob, nil)
	b.connected(t)
	b.send(t, "before").accepted(t, "bob's message")
	c.waitItem("alice", "bob: before")

	// 60 messages while alice is away, 10 from each of six users (within
	// the rate limit's burst); the history holds the last 50.
	c.offline("alice", true)
	c.waitState("alice", "reconnecting")
	heardLeave(t, n, "bob", alice) // the server counted her out: her return is announced
	postTen := func(senders []*account) (posted []string) {
		for _, a := range senders {
			n.connect(t, a.Username, p.URL, clientOpts{Opts: chatOpts(t, a, nil), Quiet: true})
			s := &sock{n: n, c: a.Username, a: a}
			s.connected(t)
			for i := 1; i <= 10; i++ {
				text := fmt.Sprintf("%s says %d", a.Username, i)
				s.send(t, text).accepted(t, "a message of "+a.Username)
				posted = append(posted, a.Username+": "+text)
			}
		}
		return posted
	}
	posted := postTen(senders)
	c.offline("alice", false)
	c.waitState("alice", "connected")
	c.waitItem("alice", posted[len(posted)-1])
	want := append([]string{"alice has joined the chat.", "bob has joined the chat.", "bob: before", missedMarker}, posted[10:]...)
	want = append(want, "alice has joined the chat.")
	if got := c.eval("alice", itemsJS); got != jsonStrings(t, want) {
		t.Errorf("alice's list after 60 messages were posted while she was away:\n got %s\nwant %s (the marker where 10 are missing)", got, jsonStrings(t, want))
	}

	// Away again, for one message: the history reaches back, no marker.
	c.offline("alice", true)
	c.waitState("alice", "reconnecting")
	heardLeave(t, n, "bob", alice) // the server counted her out: her return is announced
	b.send(t, "while away").accepted(t, "bob's message")
	c.offline("alice", false)
	c.waitState("alice", "connected")
	c.waitItem("alice", "bob: while away")
	if got, want := c.eval("alice", `[...document.querySelectorAll("#messages li")].slice(-4).map((li) => li.textContent)`), jsonStrings(t, []string{posted[len(posted)-1], "alice has joined the chat.", "bob: while away", "alice has joined the chat."}); got != want {
		t.Errorf("the end of alice's list after she missed one message:\n got %s\nwant %s (no marker)", got, want)
	}
	markersJS := `[...document.querySelectorAll("#messages li")].filter((li) => li.textContent === ` + strconv.Quote(missedMarker) + `).length`
	if got := c.eval("alice", markersJS); got != "1" {
		t.Errorf("markers on alice's page: %s, want 1", got)
	}

	// Away while exactly as many messages are posted as the history holds:
	// all of it is new to her, yet nothing is missing, and no marker says
	// otherwise.
	c.offline("alice", true)
	c.waitState("alice", "reconnecting")
	heardLeave(t, n, "bob", alice) // the server counted her out: her return is announced
	fifty := postTen(later)
	c.offline("alice", false)
	c.waitState("alice", "connected")
	c.waitItem("alice", fifty[len(fifty)-1])
	want = append([]string{"bob: while away", "alice has joined the chat."}, fifty...)
	want = append(want, "alice has joined the chat.")
	if got := c.eval("alice", `[...document.querySelectorAll("#messages li")].slice(-53).map((li) => li.textContent)`); got != jsonStrings(t, want) {
		t.Errorf("the end of alice's list after she missed exactly 50 messages:\n got %s\nwant %s (no marker)", got, jsonStrings(t, want))
	}
	if got := c.eval("alice", markersJS); got != "1" {
		t.Errorf("markers on alice's page after exactly 50 missed: %s, want still 1", got)
	}

	// "Show them" fills the gap: the 10 messages missing appear where the
	// marker was, which goes.
	c.do(map[string]any{"op": "click", "c": "alice", "selector": "#messages li.missed button"}, "clicked")
	c.waitFor("alice", markersJS+" === 0")
	want = append([]string{"alice has joined the chat.", "bob has joined the chat.", "bob: before"}, posted...)
	if got := c.eval("alice", `[...document.querySelectorAll("#messages li")].slice(0, 63).map((li) => li.textContent)`); got != jsonStrings(t, want) {
		t.Errorf("the start of alice's list once the gap is filled:\n got %s\nwant %s", got, jsonStrings(t, want))
	}
	c.noConsoleErrors()
}

// jsonStrings is the JSON array of the strings, as eval reports it.
func jsonStrings(t *testing.T, s []string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Messages whose confirmation is lost with the connection all come back to
// the input box, in the order they were sent and before what the user had
// started typing meanwhile: none is dropped. Once the page is back, those
// the server did post after all leave the box again (each is then in the
// list once, or in the box, never both nor neither) and the draft stays.
func TestChatPageGivesBackEveryUnconfirmedMessageInChromium(t *testing.T) {
	t.Parallel()
	// A frozen server is noticed by the page after 1–2 s, time enough to
	// send two messages and start a third meanwhile.
	p := startProgram(t, "--ping-interval", "1s", "--ping-timeout", "1s")
	accounts := register(t, p, "alice")
	c := startChrome(t, p)
	c.openChat(p, accounts[0], 900, 700)

	var resume sync.Once
	cont := func() { resume.Do(func() { p.signal(t, syscall.SIGCONT) }) }
	p.signal(t, syscall.SIGSTOP)
	t.Cleanup(cont)
	c.send("alice", "first lost")
	c.send("alice", "second lost")
	c.eval("alice", `document.getElementById("m").value = "a draft"`)
	c.waitState("alice", "reconnecting")
	const back = `{"input":"first lost second lost a draft","error":"The connection dropped before the server confirmed your last 2 messages; they are back in the box."}`
	if got := c.eval("alice", boxJS); got != back {
		t.Errorf("alice's box once the connection dropped before two messages were confirmed:\n got %s\nwant %s", got, back)
	}

	cont()
	c.waitState("alice", "connected")
	// The server may have read the messages before it noticed alice had
	// gone (then it posted them and her page shows them).
	c.waitFor("alice", `(() => {
		const box = document.getElementById("m").value;
		const once = (text) => [...document.querySelectorAll("#messages li")].filter((li) => li.textContent === "alice: " + text).length + (box.includes(text) ? 1 : 0) === 1;
		return once("first lost") && once("second lost") && box.endsWith("a draft");
	})()`)
	c.noConsoleErrors(consoleAfterSessionGone) // a poll of the session timed out while frozen, if the page was not upgraded yet
}
