package realtime

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"switchboard/chat"
	"switchboard/chat/sqlite"
	"switchboard/internal/testclient"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"))
}

// env is a realtime server on a real SQLite store; users log in with the
// cookie "sb_session=<username>".
type env struct {
	t        *testing.T
	rt       *Server
	http     *httptest.Server
	users    map[string]*chat.User
	store    *sqlite.UserService
	messages *sqlite.MessageService
	// ended holds the session keys logged out (see logout); afterAuth, if
	// set, runs once a socket's session has been found valid.
	ended     sync.Map
	afterAuth atomic.Pointer[func()]
}

func newEnv(t *testing.T) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with the realtime configuration adjusted by configure.
func newEnvWith(t *testing.T, configure func(*Config)) *env {
	t.Helper()
	db := sqlite.NewDB(t.TempDir() + "/chat.db")
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	users := sqlite.NewUserService(db)
	e := &env{t: t, users: map[string]*chat.User{}, store: users}
	for _, name := range []string{"alice", "bob"} {
		u := &chat.User{Username: name, PasswordHash: []byte("x")}
		if err := users.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		e.users[name] = u
	}
	messages := sqlite.NewMessageService(db)
	e.messages = messages
	cfg := Config{
		Authenticate: func(r *http.Request) (*chat.User, error) {
			if c, err := r.Cookie("sb_session"); err == nil {
				_, ended := e.ended.Load("session-of-" + c.Value)
				if u, ok := e.users[c.Value]; ok && !ended {
					if hook := e.afterAuth.Load(); hook != nil {
						(*hook)()
					}
					return u, nil
				}
			}
			return nil, chat.Errorf(chat.EUNAUTHORIZED, "not logged in")
		},
		SessionKey: func(r *http.Request) string {
			if c, err := r.Cookie("sb_session"); err == nil {
				return "session-of-" + c.Value
			}
			return ""
		},
		CheckOrigin: func(r *http.Request) bool {
			o := r.Header.Get("Origin")
			return o == "" || o == "http://"+r.Host
		},
		Presence:     chat.NewPresence(),
		Poster:       chat.NewPoster(messages, time.Now),
		Messages:     messages,
		PingInterval: 200 * time.Millisecond,
		PingTimeout:  200 * time.Millisecond,
	}
	if configure != nil {
		configure(&cfg)
	}
	rt, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.rt = rt
	e.http = httptest.NewServer(rt)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
		e.http.Close()
	})
	return e
}

// tab is one browser tab's socket.
type tab struct {
	*testclient.Conn
	t *testing.T
}

func (e *env) dial(user string, header http.Header) (*testclient.Conn, error) {
	if header == nil {
		header = http.Header{}
	}
	if user != "" {
		header.Set("Cookie", "sb_session="+user)
	}
	return testclient.DialHeader(e.t, testclient.WSURL(e.http.URL)+"/socket.io/?EIO=4&transport=websocket", header)
}

// open connects user's tab and returns it after the CONNECT reply.
func (e *env) open(user string) *tab {
	e.t.Helper()
	c, err := e.dial(user, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c.ReadText() // open packet
	c.Text("40")
	if msg := c.ReadSkippingPongs(); !strings.HasPrefix(msg, `40{"sid":`) {
		e.t.Fatalf("CONNECT reply %q", msg)
	}
	return &tab{Conn: c, t: e.t}
}

// event reads the next event (answering pings) as name and raw argument.
func (tb *tab) event() (string, string) {
	tb.t.Helper()
	msg := tb.ReadSkippingPongs()
	if !strings.HasPrefix(msg, "42[") {
		tb.t.Fatalf("not an event: %q", msg)
	}
	var parts []json.RawMessage
	if err := json.Unmarshal([]byte(msg[2:]), &parts); err != nil {
		tb.t.Fatalf("event %q: %v", msg, err)
	}
	var name string
	_ = json.Unmarshal(parts[0], &name)
	arg := ""
	if len(parts) > 1 {
		arg = string(parts[1])
	}
	return name, arg
}

// expect reads events until name and returns its argument.
func (tb *tab) expect(name string) string {
	tb.t.Helper()
	for {
		n, arg := tb.event()
		if n == name {
			return arg
		}
		if n != "chat history" && n != "user count" && n != "user" {
			tb.t.Fatalf("unexpected event %q %s while waiting for %q", n, arg, name)
		}
	}
}

func (tb *tab) expectExactly(name, arg string) {
	tb.t.Helper()
	if n, a := tb.event(); n != name || a != arg {
		tb.t.Fatalf("got %q %s, want %q %s", n, a, name, arg)
	}
}

func TestJoiningAndLeavingAnnouncesUsersAndCounts(t *testing.T) {
	e := newEnv(t)
	alice := e.open("alice")
	alice.expectExactly("user count", "1")
	alice.expectExactly("user", `{"username":"alice","name":"alice","currentUsers":1,"connected":true}`)
	alice.expectExactly("chat history", "[]")

	bob := e.open("bob")
	alice.expectExactly("user count", "2")
	alice.expectExactly("user", `{"username":"bob","name":"bob","currentUsers":2,"connected":true}`)
	bob.expectExactly("user count", "2")
	bob.expect("chat history")

	bob.Close() // a closed tab
	alice.expectExactly("user count", "1")
	alice.expectExactly("user", `{"username":"bob","name":"bob","currentUsers":1,"connected":false}`)
}

func TestASecondTabOfTheSameUserChangesNothing(t *testing.T) {
	e := newEnv(t)
	alice := e.open("alice")
	alice.expect("chat history")
	second := e.open("alice")
	second.expectExactly("user count", "1") // told the count, announced to nobody
	second.expect("chat history")
	second.Close()
	bob := e.open("bob") // the next thing alice sees is bob, not alice leaving
	alice.expectExactly("user count", "2")
	alice.expectExactly("user", `{"username":"bob","name":"bob","currentUsers":2,"connected":true}`)
	bob.expect("chat history")
}

func TestALostNetworkIsCountedOutAfterThePingTimeout(t *testing.T) {
	e := newEnv(t)
	alice := e.open("alice")
	alice.expect("chat history")
	silent, err := e.dial("bob", nil) // bob's tab stops answering pings
	if err != nil {
		t.Fatal(err)
	}
	silent.ReadText()
	silent.Text("40")
	alice.expectExactly("user count", "2")
	alice.expect("user")
	start := time.Now()
	alice.expectExactly("user count", "1")
	alice.expectExactly("user", `{"username":"bob","name":"bob","currentUsers":1,"connected":false}`)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("counted out after %v", d)
	}
}

func TestChatMessagesAreBroadcastStoredAndReplayed(t *testing.T) {
	e := newEnv(t)
	alice := e.open("alice")
	alice.expect("chat history")
	bob := e.open("bob")
	bob.expect("chat history")
	alice.expect("user")

	alice.Text(`420["chat message","  hello <b>bob</b> \u00e9  "]`)
	for _, tb := range []*tab{alice, bob} {
		arg := tb.expect("chat message")
		var m chatMessage
		if err := json.Unmarshal([]byte(arg), &m); err != nil || m.Username != "alice" || m.Name != "alice" || m.Message != "hello <b>bob</b> é" || m.At.IsZero() {
			t.Fatalf("broadcast %s (%v)", arg, err)
		}
	}
	if ack := alice.ReadSkippingPongs(); ack != `430[{"ok":true}]` {
		t.Fatalf("ack %q", ack)
	}
	late := e.open("bob")
	history := late.expect("chat history")
	if !strings.Contains(history, `"message":"hello <b>bob</b> é"`) {
		t.Fatalf("history %s", history)
	}
}

func TestInvalidMessagesAreRefusedAloud(t *testing.T) {
	e := newEnv(t)
	alice := e.open("alice")
	alice.expect("chat history")
	for i, bad := range []string{`""`, `"   "`, `"` + strings.Repeat("x", 1001) + `"`, `42`, `{"text":"hi"}`} {
		alice.Text(`42` + string(rune('1'+i)) + `["chat message",` + bad + `]`)
		ack := alice.ReadSkippingPongs()
		if !strings.HasPrefix(ack, "43"+string(rune('1'+i))+`[{"code":"invalid","error":"`) {
			t.Fatalf("%s: ack %q", bad, ack)
		}
	}
	alice.Text(`42["chat message",""]`) // without an ack: an "error message" event
	if name, arg := alice.event(); name != "error message" || !strings.Contains(arg, `"code":"invalid"`) {
		t.Fatalf("got %q %s", name, arg)
	}
}

func TestRateLimitIsAnsweredNotSilent(t *testing.T) {
	e := newEnv(t)
	alice := e.open("alice")
	alice.expect("chat history")
	for i := 0; i < 20; i++ {
		alice.Text(`42` + strconv.Itoa(100+i) + `["chat message","spam ` + strconv.Itoa(i) + `"]`)
	}
	var ok, limited int
	for ok+limited < 20 {
		msg := alice.ReadSkippingPongs()
		switch {
		case strings.HasPrefix(msg, "42"): // the broadcast of an accepted message
		case strings.Contains(msg, `{"ok":true}`):
			ok++
		case strings.Contains(msg, `"code":"`+chat.ERATELIMIT+`"`):
			limited++
		default:
			t.Fatalf("unexpected %q", msg)
		}
	}
	if ok < 10 || limited == 0 {
		t.Fatalf("%d accepted, %d limited", ok, limited)
	}
}

func TestUnauthenticatedSocketsGetConnectError(t *testing.T) {
	e := newEnv(t)
	for _, user := range []string{"", "mallory"} {
		c, err := e.dial(user, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.ReadText()
		c.Text("40")
		if msg := c.ReadSkippingPongs(); msg != `44{"message":"unauthorized"}` {
			t.Fatalf("%q: got %q", user, msg)
		}
	}
	if n := e.rt.presence.Count(); n != 0 {
		t.Fatalf("presence %d", n)
	}
}

func TestForeignOriginHandshakeIsRefused(t *testing.T) {
	e := newEnv(t)
	h := http.Header{}
	h.Set("Origin", "https://evil.example")
	if _, err := e.dial("alice", h); err == nil {
		t.Fatal("a foreign origin opened a WebSocket")
	}
	code, body, _ := testclient.Do(t, "GET", e.http.URL+"/socket.io/?EIO=4&transport=polling", "", "Origin", "https://evil.example", "Cookie", "sb_session=alice")
	if code != 403 || !strings.Contains(body, "origin not allowed") {
		t.Fatalf("polling handshake: %d %s", code, body)
	}
}

func TestShutdownCountsEveryoneOut(t *testing.T) {
	e := newEnv(t)
	alice := e.open("alice")
	alice.expect("chat history")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := e.rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.rt.presence.Count(); n != 0 {
		t.Fatalf("presence after shutdown %d", n)
	}
}

func TestEndSessionDisconnectsOnlyThatSessionsSockets(t *testing.T) {
	e := newEnv(t)
	alice := e.open("alice")
	alice.expect("chat history")
	bob := e.open("bob")
	bob.expect("chat history")
	alice.expect("user")
	e.rt.EndSession("session-of-alice")
	for {
		if msg := alice.ReadSkippingPongs(); msg == "41" {
			break
		}
	}
	bob.expectExactly("user count", "1")
	bob.expectExactly("user", `{"username":"alice","name":"alice","currentUsers":1,"connected":false}`)
	e.rt.EndSession("") // no session: nothing happens
	bob.Text(`421["chat message","still here"]`)
	bob.expect("chat message")
}
