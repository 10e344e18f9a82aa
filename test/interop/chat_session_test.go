package interop

import (
	"testing"
	"time"
)

// The chat program's lifecycle and its users' sessions, with the Node
// client: a restart, logging out.

// Restarting the program (SIGTERM, then the same address and database):
// clients see a disconnection and reconnect by themselves; presence starts
// from zero and rises as they come back (`user count` 1, then 2); the
// history survives and messages flow again.
func TestChatSurvivesARestart(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	users := register(t, p, "alice", "bob")
	alice, bob := users[0], users[1]
	n := startNode(t, "client.mjs")
	a, _ := join(t, n, "alice", p, alice, 1)
	n.want(t, "upgrade", "alice")
	b := openSock(t, n, "bob", p, bob, map[string]any{"reconnectionDelay": 400, "reconnectionDelayMax": 400})
	b.connected(t)
	b.wantCount(t, 2)
	b.wantUser(t, bob, 2, true)
	b.wantHistory(t)
	n.want(t, "upgrade", "bob")
	a.wantCount(t, 2)
	a.wantUser(t, bob, 2, true)
	a.send(t, "before the restart").accepted(t, "alice's message")
	a.wantMessage(t, alice, "before the restart")
	b.wantMessage(t, alice, "before the restart")

	p.stop(t)
	for _, s := range []*sock{a, b} {
		// Events before the disconnection may only say that the others
		// are leaving (the server disconnects the sockets one by one).
		for {
			r := n.waitFor(t, "the disconnection of "+s.c, func(r *report) bool {
				return r.C == s.c && (r.T == "disconnect" || r.T == "event")
			})
			if r.T == "disconnect" {
				if r.Active == nil || !*r.Active {
					t.Errorf("%s: %s, want an active socket that reconnects", s.c, r)
				}
				t.Logf("%s: disconnect reason %q", s.c, r.Reason)
				break
			}
			t.Logf("%s during the shutdown: %s", s.c, r)
			if r.Event != "user count" && r.Event != "user" {
				t.Errorf("%s during the shutdown: %s", s.c, r)
			}
		}
	}
	n.want(t, "reconnect_error", "alice") // nothing listens
	p.start(t)

	// Each socket gets, in some order, `user count` 1 and `user` (if it
	// was back first), its history, `user count` 2 and `user` with 2.
	sawOne := false
	for _, s := range []*sock{a, b} {
		n.want(t, "reconnect", s.c)
		s.connected(t)
		var counts []int
		history, announced := false, false
		for len(counts) == 0 || counts[len(counts)-1] != 2 || !history || !announced {
			r := s.next(t)
			switch r.Event {
			case "user count":
				counts = append(counts, countOf(t, r))
			case "chat history":
				history = true
				var h []chatMsg
				decodeJSON(t, r.Args[0], &h)
				if len(h) != 1 || h[0].Message != "before the restart" || h[0].Username != "alice" {
					t.Errorf("%s: history after the restart %v, want the message sent before", s.c, texts(h))
				}
			case "user":
				var u userEvt
				decodeExact(t, r.Args[0], &u, "username", "name", "currentUsers", "connected")
				if !u.Connected || u.CurrentUsers < 1 || u.CurrentUsers > 2 {
					t.Errorf("%s: %s after the restart", s.c, r)
				}
				announced = announced || u.CurrentUsers == 2
			default:
				t.Fatalf("%s: unexpected %s after the restart", s.c, r)
			}
		}
		t.Logf("%s: `user count` after the restart: %v", s.c, counts)
		if counts[0] == 1 {
			sawOne = true
		}
		for i, c := range counts {
			if c < 1 || c > 2 || (i > 0 && c < counts[i-1]) {
				t.Errorf("%s: `user count` after the restart %v, want 1 then 2", s.c, counts)
			}
		}
	}
	if !sawOne {
		t.Error("nobody saw `user count` 1 after the restart: presence did not start from zero")
	}
	for _, s := range []*sock{a, b} {
		s.quiet(t, 300*time.Millisecond)
	}
	if got := alice.online(t); got != 2 {
		t.Errorf("/chat shows %d users online, want 2", got)
	}
	b.send(t, "after the restart").accepted(t, "bob's message")
	a.wantMessage(t, bob, "after the restart")
	b.wantMessage(t, bob, "after the restart")
}

// Logging out (POST /logout with the CSRF token) disconnects the sockets of
// that session — both tabs — with "io server disconnect" (no
// reconnection), and only them: the user's socket of another session (another
// browser) stays, so nobody sees the user leave until that session logs
// out too. The old cookie no longer opens a socket.
func TestChatLogoutDisconnectsTheSockets(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	users := register(t, p, "alice", "bob")
	alice, bob := users[0], users[1]
	aliceElsewhere := alice.login(t, p)
	n := startNode(t, "client.mjs")
	a1, _ := join(t, n, "alice", p, alice, 1)
	b, _ := join(t, n, "bob", p, bob, 2)
	a1.wantCount(t, 2)
	a1.wantUser(t, bob, 2, true)
	a2 := openSock(t, n, "alice-tab2", p, alice, map[string]any{"transports": []string{"polling"}})
	a2.connected(t)
	a2.wantCount(t, 2)
	a2.wantHistory(t)
	elsewhere := openSock(t, n, "alice-elsewhere", p, aliceElsewhere, nil)
	elsewhere.connected(t)
	elsewhere.wantCount(t, 2)
	elsewhere.wantHistory(t)

	alice.logout(t)
	for _, s := range []*sock{a1, a2} {
		d := n.want(t, "disconnect", s.c)
		if d.Reason != "io server disconnect" || d.Active == nil || *d.Active {
			t.Errorf("%s: %s, want \"io server disconnect\" and no reconnection", s.c, d)
		}
	}
	n.none(t, 500*time.Millisecond, "a reconnection of alice or a disconnection of her other session", func(r *report) bool {
		return (r.C == a1.c || r.C == a2.c) && (r.T == "reconnect_attempt" || r.T == "connect") ||
			r.C == elsewhere.c && r.T == "disconnect"
	})
	b.quiet(t, 0)         // alice is still online elsewhere
	elsewhere.quiet(t, 0) // and nothing changed for her there
	if got := bob.online(t); got != 2 {
		t.Errorf("/chat shows %d users online, want 2", got)
	}
	elsewhere.send(t, "still here").accepted(t, "alice's message from her other session")
	b.wantMessage(t, alice, "still here")
	elsewhere.wantMessage(t, alice, "still here")

	n.send(t, map[string]any{"op": "reconnect", "c": a1.c}) // same cookie
	if e := n.want(t, "connect_error", a1.c); e.Message != "unauthorized" {
		t.Errorf("reconnecting with the logged-out cookie: %s, want connect_error \"unauthorized\"", e)
	}

	aliceElsewhere.logout(t)
	if d := n.want(t, "disconnect", elsewhere.c); d.Reason != "io server disconnect" {
		t.Errorf("%s: %s, want \"io server disconnect\"", elsewhere.c, d)
	}
	b.wantCount(t, 1)
	b.wantUser(t, alice, 1, false)
	b.quiet(t, 300*time.Millisecond)
	if got := bob.online(t); got != 1 {
		t.Errorf("/chat shows %d users online, want 1", got)
	}
}

// Logging in from a browser that is logged in already ends its previous
// session (the cookie changes, the old session is deleted) and must, as
// logging out does, disconnect the sockets opened with it: else they go on
// chatting as the previous user, whom everyone still sees online.
//
// Fails: chat/web's startSession deletes the previous session without
// calling OnSessionEnd (only POST /logout does), so the realtime server
// never hears of it.
func TestChatLoginAgainDisconnectsTheOldSessionsSockets(t *testing.T) {
	t.Parallel()
	p := startProgram(t)
	users := register(t, p, "alice", "bob")
	alice, bob := users[0], users[1]
	n := startNode(t, "client.mjs")
	a, _ := join(t, n, "alice", p, alice, 1)
	b, _ := join(t, n, "bob", p, bob, 2)
	a.wantCount(t, 2)
	a.wantUser(t, bob, 2, true)
	oldCookie := alice.cookie(t)

	alice.loginAgain(t, bob) // alice's browser is bob's now
	n.connect(t, "old-session", p.URL, clientOpts{Opts: map[string]any{"extraHeaders": map[string]any{"Cookie": oldCookie}, "reconnection": false}})
	if e := n.want(t, "connect_error", "old-session"); e.Message != "unauthorized" {
		t.Fatalf("the previous session still opens sockets: %s", e)
	}

	time.Sleep(time.Second) // logging out disconnects within milliseconds
	if tr := n.transport(t, a.c); tr.Connected {
		t.Errorf("alice's socket is still connected a second after her session ended")
		if ack := a.send(t, "still chatting as alice"); ack.OK {
			b.wantMessage(t, alice, "still chatting as alice")
			t.Errorf("the socket of the ended session still posts as alice")
		}
		if got := bob.online(t); got != 2 {
			t.Errorf("/chat shows %d users online", got)
		} else {
			t.Errorf("/chat still counts alice online (2 users)")
		}
		return
	}
	if d := n.want(t, "disconnect", a.c); d.Reason != "io server disconnect" {
		t.Errorf("alice's socket of the ended session: %s, want disconnect \"io server disconnect\"", d)
	}
	b.wantCount(t, 1)
	b.wantUser(t, alice, 1, false)
}
