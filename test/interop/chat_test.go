package interop

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The chat room end to end: the real program (cmd/switchboard) as a child
// process, users registered through its forms, and the official
// socket.io-client in Node logged in with their session cookies.

// Two users see each other arrive (`user count` and `user`) and each
// other's messages, broadcast to everyone as {username, name, message, at},
// trimmed.
func TestChatTwoUsersSeeEachOtherAndTheirMessages(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	users := register(t, p, "alice", "bob")
	alice, bob := users[0], users[1]
	n := startNode(t, "client.mjs")

	a, history := join(t, n, "alice", p, alice, 1)
	if len(history) != 0 {
		t.Errorf("a new room's history: %v", texts(history))
	}
	b, _ := join(t, n, "bob", p, bob, 2)
	a.wantCount(t, 2)
	a.wantUser(t, bob, 2, true)
	if got := alice.online(t); got != 2 {
		t.Errorf("/chat shows %d users online, want 2", got)
	}

	a.send(t, "hello bob ✓ 😀").accepted(t, "alice's message")
	for _, s := range []*sock{a, b} {
		s.wantMessage(t, alice, "hello bob ✓ 😀")
	}
	b.send(t, "  hi alice\n\t ").accepted(t, "bob's message")
	for _, s := range []*sock{a, b} {
		s.wantMessage(t, bob, "hi alice")
	}
	a.quiet(t, 300*time.Millisecond)
	b.quiet(t, 0)
}

// A second connection (a second tab) of a user changes nothing for the
// others: no `user` event, the same count. It gets the current count and
// the history itself. Closing it changes nothing either; closing the last
// one announces the user's departure.
func TestChatSecondTabOfAUserChangesNothingForOthers(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	users := register(t, p, "alice", "bob")
	alice, bob := users[0], users[1]
	n := startNode(t, "client.mjs")

	a1, _ := join(t, n, "alice", p, alice, 1)
	b, _ := join(t, n, "bob", p, bob, 2)
	a1.wantCount(t, 2)
	a1.wantUser(t, bob, 2, true)
	b.send(t, "before the second tab").accepted(t, "bob's message")
	a1.wantMessage(t, bob, "before the second tab")
	b.wantMessage(t, bob, "before the second tab")

	a2 := openSock(t, n, "alice-tab2", p, alice, nil)
	a2.connected(t)
	a2.wantCount(t, 2)
	if h := a2.wantHistory(t); len(h) != 1 || h[0].Message != "before the second tab" {
		t.Errorf("the second tab's history: %v", texts(h))
	}
	a1.quiet(t, 500*time.Millisecond)
	b.quiet(t, 0)
	if got := bob.online(t); got != 2 {
		t.Errorf("/chat shows %d users online, want 2", got)
	}

	a2.send(t, "from the second tab").accepted(t, "the second tab's message")
	for _, s := range []*sock{a1, a2, b} {
		s.wantMessage(t, alice, "from the second tab")
	}

	n.send(t, map[string]any{"op": "disconnect", "c": a2.c})
	a1.quiet(t, 500*time.Millisecond)
	b.quiet(t, 0)
	if got := bob.online(t); got != 2 {
		t.Errorf("/chat shows %d users online after the second tab closed, want 2", got)
	}

	n.send(t, map[string]any{"op": "disconnect", "c": a1.c})
	b.wantCount(t, 1)
	b.wantUser(t, alice, 1, false)
	b.quiet(t, 300*time.Millisecond)
	if got := bob.online(t); got != 1 {
		t.Errorf("/chat shows %d users online, want 1", got)
	}
}

// Clients that vanish without a word are counted out by the heartbeat
// (--ping-interval 1s --ping-timeout 1s): a killed process (SIGKILL) over
// WebSocket and over polling, and a frozen one (SIGSTOP, its connection
// open but silent). The others get `user count` and `user` {connected:
// false} within 5 s. Once resumed, the frozen client reconnects by itself
// and is announced again.
//
// Not the chat tests' 300 + 200 ms heartbeat: the observer and the live
// clients must outlast a busy CI machine (other packages' tests run
// meanwhile), where 200 ms without CPU timed them out too.
func TestChatLostClientsAreCountedOut(t *testing.T) {
	p := startProgram(t, "--ping-interval", "1s", "--ping-timeout", "1s")
	users := register(t, p, "observer", "killed_ws", "killed_polling", "frozen")
	observer, killedWS, killedPolling, frozen := users[0], users[1], users[2], users[3]

	obs, _ := join(t, startNode(t, "client.mjs"), "observer", p, observer, 1)
	procs := map[*account]*node{}
	for i, u := range users[1:] {
		n := startNode(t, "client.mjs")
		procs[u] = n
		var extra map[string]any
		if u == killedPolling {
			extra = map[string]any{"transports": []string{"polling"}}
		}
		s := openSock(t, n, u.Username, p, u, extra)
		s.connected(t)
		if u != killedPolling {
			n.want(t, "upgrade", s.c) // on WebSocket now
		}
		obs.wantCount(t, i+2)
		obs.wantUser(t, u, i+2, true)
	}
	t.Cleanup(func() { _ = procs[frozen].cmd.Process.Signal(syscall.SIGCONT) }) // never leave a stopped process
	time.Sleep(2500 * time.Millisecond)                                         // a few heartbeats for everyone
	obs.quiet(t, 0)

	online := 4
	for _, u := range []*account{killedWS, killedPolling} {
		start := time.Now()
		procs[u].signal(t, syscall.SIGKILL)
		procs[u].exited(t)
		online--
		obs.wantCount(t, online)
		obs.wantUser(t, u, online, false)
		within(t, "counting out the SIGKILLed "+u.Username, start, 5*time.Second)
	}

	start := time.Now()
	procs[frozen].signal(t, syscall.SIGSTOP)
	obs.wantCount(t, 1)
	obs.wantUser(t, frozen, 1, false)
	within(t, "counting out the SIGSTOPped client", start, 5*time.Second)
	if got := observer.online(t); got != 1 {
		t.Errorf("/chat shows %d users online, want 1", got)
	}
	obs.quiet(t, 500*time.Millisecond)

	procs[frozen].signal(t, syscall.SIGCONT)
	if d := procs[frozen].want(t, "disconnect", frozen.Username); d.Active == nil || !*d.Active {
		t.Errorf("the resumed client: %s, want an active socket that reconnects", d)
	}
	procs[frozen].want(t, "connect", frozen.Username)
	obs.wantCount(t, 2)
	obs.wantUser(t, frozen, 2, true)
	obs.quiet(t, 300*time.Millisecond)
}

// The server refuses handshakes from foreign origins (cross-site WebSocket
// hijacking): a client sending Origin: https://evil.example (or another
// port of the same host, "null", a look-alike host) gets a connect_error
// and is never counted, over polling and WebSocket alike.
// The server's own origin, and an origin given with --allowed-origins,
// work.
func TestChatRefusesForeignOrigins(t *testing.T) {
	t.Parallel()
	p := startProgram(t, "--allowed-origins", "https://friend.example")
	users := register(t, p, "alice", "bob")
	alice, bob := users[0], users[1]
	n := startNode(t, "client.mjs")
	b, _ := join(t, n, "bob", p, bob, 1)

	foreign := []string{
		"https://evil.example",
		"http://127.0.0.1:1",    // the same host on another port
		"null",                  // a sandboxed frame, a file:// page
		p.URL + ".evil.example", // a look-alike
	}
	for i, origin := range foreign {
		for transport, message := range map[string]string{"polling": "xhr poll error", "websocket": "websocket error"} {
			s := openSock(t, n, fmt.Sprintf("evil-%d-%s", i, transport), p, alice, map[string]any{
				"extraHeaders": map[string]any{"Origin": origin},
				"transports":   []string{transport},
				"reconnection": false,
			})
			if e := n.want(t, "connect_error", s.c); e.Message != message {
				t.Errorf("Origin %s over %s: %s, want connect_error %q", origin, transport, e, message)
			}
		}
	}
	n.none(t, 500*time.Millisecond, "a connection from a foreign origin", func(r *report) bool {
		return strings.HasPrefix(r.C, "evil-") && r.T != "connect_error"
	})
	b.quiet(t, 0)
	if got := bob.online(t); got != 1 {
		t.Errorf("/chat shows %d users online after refused handshakes, want 1", got)
	}

	a := openSock(t, n, "same-origin", p, alice, map[string]any{"extraHeaders": map[string]any{"Origin": p.URL}})
	a.connected(t)
	a.wantCount(t, 2)
	a.wantUser(t, alice, 2, true)
	a.wantHistory(t)
	b.wantCount(t, 2)
	b.wantUser(t, alice, 2, true)

	friend := openSock(t, n, "allowed-origin", p, alice, map[string]any{
		"extraHeaders": map[string]any{"Origin": "https://friend.example"},
		"transports":   []string{"websocket"},
	})
	friend.connected(t)
	friend.wantCount(t, 2) // alice's second connection
	friend.wantHistory(t)
	b.quiet(t, 300*time.Millisecond)
}

// A socket without a valid session — no cookie, a forged one, a garbage
// one — gets connect_error "unauthorized" and does not retry; nobody is
// counted or announced.
func TestChatRefusesSocketsWithoutASession(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	bob := register(t, p, "bob")[0]
	n := startNode(t, "client.mjs")
	b, _ := join(t, n, "bob", p, bob, 1)

	cases := []struct {
		name   string
		cookie string
		opts   map[string]any
	}{
		{"no-cookie", "", nil},
		{"no-cookie-websocket", "", map[string]any{"transports": []string{"websocket"}}},
		{"forged", sessionCookie + "=" + strings.Repeat("A", 43), nil},
		{"forged-websocket", sessionCookie + "=" + strings.Repeat("A", 43), map[string]any{"transports": []string{"websocket"}}},
		{"garbage", sessionCookie + "=%00<script>; other=1", nil},
		{"other-cookie", "sb_csrf=" + strings.Repeat("B", 43), nil},
	}
	for _, c := range cases {
		opts := merge(map[string]any{"reconnectionDelay": 100, "reconnectionDelayMax": 100}, c.opts)
		if c.cookie != "" {
			opts["extraHeaders"] = map[string]any{"Cookie": c.cookie}
		}
		n.connect(t, c.name, p.URL, clientOpts{Opts: opts})
		e := n.want(t, "connect_error", c.name)
		if e.Message != "unauthorized" || e.Active == nil || *e.Active {
			t.Errorf("%s: %s, want connect_error \"unauthorized\" and no retry", c.name, e)
		}
	}
	n.none(t, 500*time.Millisecond, "a connection or a retry", func(r *report) bool {
		return r.C != "bob" && (r.T == "connect" || r.T == "reconnect_attempt" || r.T == "event")
	})
	b.quiet(t, 0)
	if got := bob.online(t); got != 1 {
		t.Errorf("/chat shows %d users online, want 1", got)
	}
}

// Messages are validated: empty, white space only, over 1000 characters
// (counted as characters, not bytes or UTF-16 units), control characters
// and non-strings are refused with an ack {error, code: "invalid"}, and nobody sees them; 1000
// characters are accepted. Without an ack callback the refusal comes as an
// `error message` event. A burst of 20 messages gets 20 answers: the first
// ones accepted (and broadcast, in order), the rest refused with code
// "rate_limit" — none dropped silently.
func TestChatMessageValidationAndRateLimit(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	users := register(t, p, "alice", "bob", "carol")
	alice, bob, carol := users[0], users[1], users[2]
	n := startNode(t, "client.mjs")
	a, _ := join(t, n, "alice", p, alice, 1)
	b, _ := join(t, n, "bob", p, bob, 2)
	a.wantCount(t, 2)
	a.wantUser(t, bob, 2, true)

	for _, c := range []struct {
		name string
		args []any
	}{
		{"an empty message", []any{""}},
		{"white space only", []any{" \n\t  \u00a0"}},
		{"1001 characters", []any{strings.Repeat("x", 1001)}},
		{"1001 two-byte characters", []any{strings.Repeat("é", 1001)}},
		{"a NUL character", []any{"hello\x00world"}},
		{"a terminal escape", []any{"\x1b[31mred\x1b[0m"}},
		{"a number", []any{42}},
		{"an object", []any{map[string]any{"message": "hi"}}},
		{"null", []any{nil}},
		{"no argument", nil},
	} {
		r := a.send(t, c.args...)
		r.refused(t, c.name, "invalid")
	}
	// Each refusal cost a rate-limit token (a flood of bad messages is
	// limited too): let some come back (5 a second) before the next four.
	time.Sleep(time.Second)
	// 1000 characters, counted as characters: 1000 bytes, 2000 bytes,
	// 4000 bytes (2000 UTF-16 units); surrounding white space is trimmed
	// before counting; tabs and newlines inside are kept.
	accepted := []struct{ sent, shown string }{
		{strings.Repeat("x", 1000), strings.Repeat("x", 1000)},
		{strings.Repeat("é", 1000), strings.Repeat("é", 1000)},
		{strings.Repeat("😀", 1000), strings.Repeat("😀", 1000)},
		{"  \n" + strings.Repeat("y", 499) + "\n\t" + strings.Repeat("z", 499) + " \n", strings.Repeat("y", 499) + "\n\t" + strings.Repeat("z", 499)},
	}
	for _, m := range accepted {
		a.send(t, m.sent).accepted(t, fmt.Sprintf("%d characters", len([]rune(m.shown))))
	}
	for _, m := range accepted {
		a.wantMessage(t, alice, m.shown)
		b.wantMessage(t, alice, m.shown)
	}
	a.quiet(t, 200*time.Millisecond)
	b.quiet(t, 0)

	n.emit(t, "bob", "chat message", "   ") // no ack callback
	e := b.nextNamed(t, "error message")
	var refusal ack
	decodeExact(t, e.Args[0], &refusal, "error", "code")
	if refusal.Code != "invalid" || refusal.Error == "" {
		t.Errorf("`error message` %s, want {error, code: \"invalid\"}", e)
	}
	a.quiet(t, 200*time.Millisecond)

	// carol's burst: her rate limit is untouched
	c, _ := join(t, n, "carol", p, carol, 3)
	for _, s := range []*sock{a, b} {
		s.wantCount(t, 3)
		s.wantUser(t, carol, 3, true)
	}
	const burst = 20
	seqs := make([]int, burst)
	for i := range seqs {
		seqs[i] = c.emit(t, fmt.Sprintf("burst %d", i))
	}
	var ok []string
	limited := 0
	for i, seq := range seqs {
		r := ackOf(t, n.ackOf(t, c.c, seq))
		switch {
		case r.OK:
			if limited > 0 {
				t.Logf("message %d accepted after a refusal (the bucket refilled)", i)
			}
			ok = append(ok, fmt.Sprintf("burst %d", i))
		case r.Code == "rate_limit" && strings.Contains(r.Error, "too fast"):
			limited++
		default:
			t.Errorf("burst message %d: ack %+v", i, r)
		}
	}
	t.Logf("burst of %d: %d accepted, %d refused with rate_limit", burst, len(ok), limited)
	if len(ok) < 5 || limited < 5 {
		t.Errorf("burst of %d: %d accepted, %d rate-limited; want both (10 a burst, then 5/s)", burst, len(ok), limited)
	}
	for _, s := range []*sock{a, b, c} {
		for _, text := range ok {
			s.wantMessage(t, carol, text)
		}
		s.quiet(t, 200*time.Millisecond)
	}
}

// A client joining after 55 messages gets `chat history` with the last 50,
// oldest first, then {before: message 5}.
func TestChatHistoryOnJoin(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	users := register(t, p, "alice", "bob", "latecomer")
	n := startNode(t, "client.mjs")
	a, _ := join(t, n, "alice", p, users[0], 1)
	b, _ := join(t, n, "bob", p, users[1], 2)
	senders := []*sock{a, b}

	for i := 1; i <= 55; i++ {
		s := senders[i%2]
		text := fmt.Sprintf("message %d", i)
		for {
			r := s.send(t, text)
			if r.OK {
				break
			}
			r.refused(t, text, "rate_limit") // each user may send 5 a second
			time.Sleep(200 * time.Millisecond)
		}
	}

	late := openSock(t, startNode(t, "client.mjs"), "latecomer", p, users[2], nil)
	late.connected(t)
	late.wantCount(t, 3)
	late.wantUser(t, users[2], 3, true)
	history, before := late.wantHistoryBefore(t)
	if got, want := texts(history), numbered("message", 6, 55); !slicesEqual(got, want) {
		t.Fatalf("history of %d messages %v, want %v", len(got), got, want)
	}
	if before == nil || before.Message != "message 5" || before.Username != senders[5%2].a.Username {
		t.Errorf("the history's second argument names %+v as the message before it, want message 5", before)
	}
	for i, m := range history {
		if want := senders[(i+6)%2].a.Username; m.Username != want || m.Name != want {
			t.Errorf("history item %d from %q (%q), want %q", i, m.Username, m.Name, want)
		}
		if i > 0 && m.At.Before(history[i-1].At) {
			t.Errorf("history item %d at %v, before the previous one (%v)", i, m.At, history[i-1].At)
		}
	}
}

// A flood of `chat message` events that are not text is rate-limited like
// any other: chat.Poster charges invalid messages too "so a flood of bad
// messages is limited too". Empty texts are (the control: after the burst
// of 10, "rate_limit"); non-strings are not.
//
// Fails: chat/realtime's handler refuses a non-string before calling
// Poster.Post, so it never takes a token: every one is answered "invalid",
// forever.
func TestChatNonStringMessagesAreRateLimitedToo(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	users := register(t, p, "alice", "bob")
	n := startNode(t, "client.mjs")
	a, _ := join(t, n, "alice", p, users[0], 1)
	b, _ := join(t, n, "bob", p, users[1], 2)

	for _, c := range []struct {
		s   *sock
		arg any
	}{{b, ""}, {a, 42}} {
		seqs := make([]int, 20)
		for i := range seqs {
			seqs[i] = c.s.emit(t, c.arg)
		}
		codes := map[string]int{}
		for _, seq := range seqs {
			r := ackOf(t, n.ackOf(t, c.s.c, seq))
			r.refused(t, fmt.Sprintf("%s's %#v", c.s.c, c.arg), r.Code)
			codes[r.Code]++
		}
		t.Logf("20 times %#v: %v", c.arg, codes)
		if codes["rate_limit"] < 5 {
			t.Errorf("20 times %#v in a burst: %v, want the ones after the first 10 refused with \"rate_limit\"", c.arg, codes)
		}
	}
}
