package interop

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Helpers of the chat tests: a socket of the Node client (js/client.mjs)
// logged in as an account, and the chat's events (CONTRACTS.md) decoded
// strictly — an event with a missing or an extra field fails the test.

// sock is socket c of the Node client n, opened with a's session cookie.
type sock struct {
	n *node
	c string
	a *account
}

// chatOpts are the socket.io-client options of a socket of account a: its
// session cookie (extraHeaders works in Node for polling and WebSocket) and
// quick reconnections; extra ones are merged in last.
func chatOpts(t *testing.T, a *account, extra map[string]any) map[string]any {
	t.Helper()
	opts := map[string]any{
		"extraHeaders":         map[string]any{"Cookie": a.cookie(t)},
		"reconnectionDelay":    100,
		"reconnectionDelayMax": 300,
	}
	if h, ok := extra["extraHeaders"].(map[string]any); ok {
		extra = merge(extra, map[string]any{"extraHeaders": merge(opts["extraHeaders"].(map[string]any), h)})
	}
	return merge(opts, extra)
}

// openSock makes n connect socket c to the program as a, without waiting.
func openSock(t *testing.T, n *node, c string, p *program, a *account, extra map[string]any) *sock {
	t.Helper()
	n.connect(t, c, p.URL, clientOpts{Opts: chatOpts(t, a, extra)})
	return &sock{n: n, c: c, a: a}
}

// join connects socket c as a, the first connection of a's user while
// others are online: it checks the join sequence the socket receives
// (`user count` online, `user` for itself, `chat history`) and returns the
// history.
func join(t *testing.T, n *node, c string, p *program, a *account, online int) (*sock, []chatMsg) {
	t.Helper()
	s := openSock(t, n, c, p, a, nil)
	s.connected(t)
	s.wantCount(t, online)
	s.wantUser(t, a, online, true)
	return s, s.wantHistory(t)
}

func (s *sock) connected(t *testing.T) *report {
	t.Helper()
	return s.n.want(t, "connect", s.c)
}

// next returns the socket's next event, whatever its name.
func (s *sock) next(t *testing.T) *report {
	t.Helper()
	return s.n.waitFor(t, "the next event for "+s.c, func(r *report) bool { return r.T == "event" && r.C == s.c })
}

// nextNamed returns the socket's next event, which must be named event.
func (s *sock) nextNamed(t *testing.T, event string) *report {
	t.Helper()
	r := s.next(t)
	if r.Event != event {
		t.Fatalf("%s got %s, want event %q next", s.c, r, event)
	}
	if want := argsOf(event); len(r.Args) != want {
		t.Fatalf("%s got %s, want %d argument(s)", s.c, r, want)
	}
	return r
}

// argsOf is the number of arguments of a chat event: one, but for `chat
// history` (the list, then {before}).
func argsOf(event string) int {
	if event == "chat history" {
		return 2
	}
	return 1
}

// wantCount checks that the next event is `user count` with n.
func (s *sock) wantCount(t *testing.T, n int) {
	t.Helper()
	if got := countOf(t, s.nextNamed(t, "user count")); got != n {
		t.Fatalf("%s got `user count` %d, want %d", s.c, got, n)
	}
}

func countOf(t *testing.T, r *report) int {
	t.Helper()
	var n int
	if err := json.Unmarshal(r.Args[0], &n); err != nil {
		t.Fatalf("`user count` %s: %v", r, err)
	}
	return n
}

// userEvt is the payload of `user`.
type userEvt struct {
	Username     string `json:"username"`
	Name         string `json:"name"`
	CurrentUsers int    `json:"currentUsers"`
	Connected    bool   `json:"connected"`
}

// wantUser checks that the next event is `user` announcing who (a local
// account: its name is its username).
func (s *sock) wantUser(t *testing.T, who *account, currentUsers int, connected bool) {
	t.Helper()
	r := s.nextNamed(t, "user")
	var got userEvt
	decodeExact(t, r.Args[0], &got, "username", "name", "currentUsers", "connected")
	want := userEvt{Username: who.Username, Name: who.Username, CurrentUsers: currentUsers, Connected: connected}
	if got != want {
		t.Fatalf("%s got `user` %+v, want %+v", s.c, got, want)
	}
}

// chatMsg is the payload of `chat message` and an item of `chat history`.
type chatMsg struct {
	Username string    `json:"username"`
	Name     string    `json:"name"`
	Message  string    `json:"message"`
	At       time.Time `json:"at"`
}

var chatMsgKeys = []string{"username", "name", "message", "at"}

// wantHistory checks that the next event is `chat history` and returns it.
func (s *sock) wantHistory(t *testing.T) []chatMsg {
	t.Helper()
	items, _ := s.wantHistoryBefore(t)
	return items
}

// wantHistoryBefore checks that the next event is `chat history` and
// returns its list and its second argument's "before": the message just
// before the list's oldest, nil when the list starts with the first.
func (s *sock) wantHistoryBefore(t *testing.T) ([]chatMsg, *chatMsg) {
	t.Helper()
	r := s.nextNamed(t, "chat history")
	var items []json.RawMessage
	if err := json.Unmarshal(r.Args[0], &items); err != nil {
		t.Fatalf("%s: `chat history` is not a list: %s", s.c, r)
	}
	out := make([]chatMsg, len(items))
	for i, raw := range items {
		decodeExact(t, raw, &out[i], chatMsgKeys...)
	}
	var meta struct {
		Before json.RawMessage `json:"before"`
	}
	decodeExact(t, r.Args[1], &meta, "before")
	if string(meta.Before) == "null" {
		return out, nil
	}
	var before chatMsg
	decodeExact(t, meta.Before, &before, chatMsgKeys...)
	return out, &before
}

// wantMessage checks that the next event is `chat message` with text from
// the account, stamped about now.
func (s *sock) wantMessage(t *testing.T, from *account, text string) chatMsg {
	t.Helper()
	r := s.nextNamed(t, "chat message")
	var got chatMsg
	decodeExact(t, r.Args[0], &got, chatMsgKeys...)
	if got.Username != from.Username || got.Name != from.Username || got.Message != text {
		t.Fatalf("%s got `chat message` {username %q, name %q, message %q}, want %q from %s",
			s.c, got.Username, got.Name, short(got.Message), short(text), from.Username)
	}
	if d := time.Since(got.At); d < -time.Second || d > waitTimeout {
		t.Errorf("%s: message stamped %v, %v from now", s.c, got.At, d)
	}
	return got
}

// quiet checks that the socket gets no event within d.
func (s *sock) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	s.n.none(t, d, "an event for "+s.c, func(r *report) bool { return r.T == "event" && r.C == s.c })
}

// send emits `chat message` with args and an acknowledgement callback, and
// returns the acknowledgement's argument.
func (s *sock) send(t *testing.T, args ...any) ack {
	t.Helper()
	r := s.n.ackOf(t, s.c, s.emit(t, args...))
	return ackOf(t, r)
}

// emit emits `chat message` with args and an acknowledgement callback and
// returns the sequence number of the ack report (see node.ackOf).
func (s *sock) emit(t *testing.T, args ...any) int {
	t.Helper()
	return s.n.emitAck(t, s.c, 0, "chat message", args...)
}

// ack is what the server acknowledges a `chat message` with: {ok: true}, or
// {error, code} when it refuses it.
type ack struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	Code  string `json:"code"`
}

func ackOf(t *testing.T, r *report) ack {
	t.Helper()
	if len(r.Args) != 1 {
		t.Fatalf("ack %s: want one argument", r)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.Args[0], &fields); err != nil {
		t.Fatalf("ack %s: %v", r, err)
	}
	var a ack
	if _, ok := fields["ok"]; ok {
		decodeExact(t, r.Args[0], &a, "ok")
	} else {
		decodeExact(t, r.Args[0], &a, "error", "code")
	}
	if a.OK == (a.Error != "" || a.Code != "") || (!a.OK && (a.Error == "" || a.Code == "")) {
		t.Fatalf("ack %s: want {ok: true} or {error, code}", r)
	}
	return a
}

// accepted checks that the server accepted a message.
func (a ack) accepted(t *testing.T, what string) {
	t.Helper()
	if !a.OK {
		t.Fatalf("%s refused: %+v", what, a)
	}
}

// refused checks that the server refused a message with code.
func (a ack) refused(t *testing.T, what, code string) {
	t.Helper()
	if a.OK || a.Code != code {
		t.Fatalf("%s: ack %+v, want a refusal with code %q", what, a, code)
	}
}

// decodeExact decodes a JSON object into v, failing unless its keys are
// exactly keys.
func decodeExact(t *testing.T, raw json.RawMessage, v any, keys ...string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: not an object: %v", raw, err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) {
		t.Fatalf("%s: fields %v, want %v", raw, got, want)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

// within fails the test if more than limit passed since start.
func within(t *testing.T, what string, start time.Time, limit time.Duration) {
	t.Helper()
	d := time.Since(start)
	if d > limit {
		t.Errorf("%s took %v, want at most %v", what, d.Round(time.Millisecond), limit)
	} else {
		t.Logf("%s took %v", what, d.Round(time.Millisecond))
	}
}

func texts(msgs []chatMsg) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Message
	}
	return out
}

func numbered(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s %d", prefix, i))
	}
	return out
}

func decodeJSON(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

func slicesEqual(a, b []string) bool { return slices.Equal(a, b) }
