package interop

import "testing"

// The chat page (web/static/client.js) in Chromium while it is away from
// the server: what it tells its user about the people online.

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
	c.noConsoleErrors()
}
