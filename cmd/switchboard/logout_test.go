package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/chat/web"
	"switchboard/internal/testclient"
)

// openChatSocket connects a raw Socket.IO client with the browser's session
// cookie and joins "/", returning it once its connection handler has run
// (the user is counted online): after its "chat history".
func openChatSocket(t *testing.T, m *Main, b *browser) *testclient.Conn {
	t.Helper()
	return openChatSocketAt(t, m.URL(), b)
}

// openChatSocketAt is openChatSocket for a server at base.
func openChatSocketAt(t *testing.T, base string, b *browser) *testclient.Conn {
	t.Helper()
	h := http.Header{}
	h.Set("Cookie", web.SessionCookie+"="+b.cookie(web.SessionCookie).Value)
	c, err := testclient.DialHeader(t, testclient.WSURL(base)+"/socket.io/?EIO=4&transport=websocket", h)
	if err != nil {
		t.Fatal(err)
	}
	c.ReadText()
	c.Text("40")
	if msg := c.ReadSkippingPongs(); !strings.HasPrefix(msg, `40{"sid":`) {
		t.Fatalf("CONNECT reply %q", msg)
	}
	for !strings.HasPrefix(c.ReadSkippingPongs(), `42["chat history"`) {
	}
	return c
}

func TestLogoutDisconnectsTheSessionsSockets(t *testing.T) {
	m := MustRunMain(t)
	alice := newBrowser(t, m)
	wantRedirect(t, alice.register("alice", "correct horse"), "/chat")
	bob := newBrowser(t, m)
	wantRedirect(t, bob.register("bob", "correct horse"), "/chat")

	aliceTab := openChatSocket(t, m, alice)
	bobTab := openChatSocket(t, m, bob)

	wantRedirect(t, alice.submit("/chat", "/logout", nil), "/?logged_out")
	for { // alice's socket is told to go away (DISCONNECT), then closed
		if msg := aliceTab.ReadSkippingPongs(); msg == "41" {
			break
		}
	}
	aliceTab.ExpectClosed()
	for { // and bob sees her leave
		if msg := bobTab.ReadSkippingPongs(); strings.Contains(msg, `"username":"alice"`) && strings.Contains(msg, `"connected":false`) {
			break
		}
	}
	if n := m.Presence.Count(); n != 1 {
		t.Fatalf("presence %d after alice's logout", n)
	}
}

func TestAnExpiredSessionsSocketsAreDisconnectedBySweeping(t *testing.T) {
	clock := newFakeClock()
	m := MustRunMain(t, func(m *Main) {
		m.Now = clock.Now
		m.SessionSweepInterval = 20 * time.Millisecond
	})
	alice := newBrowser(t, m)
	wantRedirect(t, alice.register("alice", "correct horse"), "/chat")
	tab := openChatSocket(t, m, alice)
	clock.Advance(web.DefaultSessionTTL + time.Second)
	for { // the sweeper deletes the session and its socket is told to go
		if msg := tab.ReadSkippingPongs(); msg == "41" {
			break
		}
	}
	tab.ExpectClosed()
}
