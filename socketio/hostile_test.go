package socketio

import (
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hostile clients at the Socket.IO layer, written with the raw test client.

// Every malformed packet closes the sender's connection (Node closes it on a
// decoding error or an "invalid state" packet), and nobody else's.
func TestMalformedPacketsCloseOnlyTheSender(t *testing.T) {
	deep := "42[\"e\"," + strings.Repeat("[", 999_000) // a million-deep array, in maxPayload
	cases := []struct {
		name string
		msgs []string // text; a "\x00"-prefixed one goes as binary
	}{
		{"a billion attachments", []string{`451000000000-["e",{"_placeholder":true,"num":0}]`}},
		{"attachment count past int64", []string{`4599999999999999999999999-["e"]`}},
		{"11 attachments", []string{`4511-["e",{"_placeholder":true,"num":0}]`}},
		{"fewer attachments than announced, then text", []string{`452-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, "\x00a", `42["e"]`}},
		{"binary without an announcement", []string{"\x00a"}},
		{"placeholder num -1", []string{`451-["e",{"_placeholder":true,"num":-1}]`, "\x00a"}},
		{"placeholder num out of range", []string{`451-["e",{"_placeholder":true,"num":1}]`, "\x00a"}},
		{"placeholder num huge", []string{`451-["e",{"_placeholder":true,"num":99999999999999999999999}]`, "\x00a"}},
		{"placeholder num fractional", []string{`451-["e",{"_placeholder":true,"num":0.5}]`, "\x00a"}},
		{"placeholder num a string", []string{`451-["e",{"_placeholder":true,"num":"0"}]`, "\x00a"}},
		{"a million nested arrays", []string{deep}},
		{"ack id past int64", []string{`4399999999999999999999[]`}},
		{"negative ack id", []string{`43-1[]`}},
		{"event with a negative ack id", []string{`42-1["e"]`}},
		{"DISCONNECT for a namespace never joined", []string{`41/nowhere,`}},
		{"event for a namespace never joined", []string{`42/nowhere,["e"]`}},
		{"CONNECT_ERROR from a client", []string{`44{"message":"x"}`}},
		{"reserved event name", []string{`42["disconnect"]`}},
		{"not UTF-8", []string{"42[\"\xff\"]"}},
	}
	io := NewServer(quietOptions())
	io.OnConnection(func(s *Socket) {
		s.On("e", func(s *Socket, e *Event) {})
		s.On("echo", func(s *Socket, e *Event) { _ = e.Ack(e.Args.Values()...) })
	})
	ts := start(t, io)
	bystander, _ := ts.connect(t, "/", "")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := ts.connect(t, "/", "")
			for _, m := range tc.msgs {
				if b, ok := strings.CutPrefix(m, "\x00"); ok {
					c.Binary([]byte(b))
				} else {
					c.Text(m)
				}
			}
			c.ExpectClosed()
			bystander.Text(`421["echo",1]`)
			if got := bystander.ReadSkippingPongs(); got != `431[1]` {
				t.Fatalf("bystander got %q", got)
			}
		})
	}
}

// Packets that are well formed but make no sense are ignored, as in Node:
// the connection stays.
func TestHarmlessOddPacketsAreIgnored(t *testing.T) {
	io := NewServer(quietOptions())
	io.OnConnection(func(s *Socket) {
		s.On("echo", func(s *Socket, e *Event) { _ = e.Ack(e.Args.Values()...) })
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	c.Text(`43123[]`)                    // an ack for an id never issued
	c.Text(`439223372036854775807["x"]`) // the largest ack id
	c.Text(`42["unknown-event",1]`)      // no handler
	c.Text(`425["echo",2]`)
	if got := c.ReadSkippingPongs(); got != `435[2]` {
		t.Fatalf("got %q", got)
	}
	// A placeholder in a plain event is just an object, as in Node.
	c.Text(`426["echo",{"_placeholder":true,"num":0}]`)
	if got := c.ReadSkippingPongs(); got != `436[{"_placeholder":true,"num":0}]` {
		t.Fatalf("got %q", got)
	}
}

// A CONNECT whose auth payload is over maxPayload is refused by the
// transport: the connection closes, the server stays.
func TestHugeConnectPayloadClosesTheConnection(t *testing.T) {
	ts := start(t, NewServer(quietOptions()))
	c := ts.ws(t)
	c.ReadText()
	c.Text(`40{"token":"` + strings.Repeat("x", 10<<20) + `"}`)
	c.ExpectClosed()
	ts.connect(t, "/", "")
}

// A client holding a binary event's attachments back keeps at most
// maxAttachments × maxPayload (as in Node); the partial packet goes with the
// connection.
func TestAttachmentsNeverSentAreHeldOnlyByTheirConnection(t *testing.T) {
	io := NewServer(quietOptions())
	got := newEvents[int]()
	io.OnConnection(func(s *Socket) {
		s.On("e", func(s *Socket, e *Event) { got.add(e.Args.Len()) })
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	c.Text(`452-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.Binary(make([]byte, 900_000))
	select {
	case <-got.ch:
		t.Fatal("delivered without its second attachment")
	case <-time.After(100 * time.Millisecond):
	}
	c.Binary([]byte("b"))
	if n := got.next(t); n != 2 {
		t.Fatalf("%d args", n)
	}
}

// CONNECT to many distinct namespaces on one connection (no limit set),
// with a dynamic namespace matcher: each one is a socket (as in Node); with
// CleanupEmptyChildNamespaces they all go when the connection does.
func TestConnectingToManyDynamicNamespaces(t *testing.T) {
	opts := quietOptions()
	opts.CleanupEmptyChildNamespaces = true
	opts.MaxNamespacesPerClient = -1
	io := NewServer(opts)
	parent := io.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	ts := start(t, io)
	c := ts.ws(t)
	c.ReadText()
	const n = 5000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "40/room-%d,", i)
		c.Text(b.String())
		b.Reset()
	}
	for range n {
		if msg := c.ReadSkippingPongs(); !strings.HasPrefix(msg, "40/room-") {
			t.Fatalf("got %q", msg)
		}
	}
	if got := len(parent.Children()); got != n {
		t.Fatalf("%d children", got)
	}
	c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for len(parent.Children()) != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := len(parent.Children()); got != 0 {
		t.Fatalf("%d children left after the connection closed", got)
	}
}

// A client whose handlers fall behind is paused; another client's events
// are handled meanwhile.
func TestAFloodingClientDoesNotSlowDownOthers(t *testing.T) {
	io := NewServer(quietOptions())
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	io.OnConnection(func(s *Socket) {
		s.On("slow", func(s *Socket, e *Event) { <-release })
		s.On("echo", func(s *Socket, e *Event) { _ = e.Ack(e.Args.Values()...) })
	})
	ts := start(t, io)
	flooder, _ := ts.connect(t, "/", "")
	other, _ := ts.connect(t, "/", "")
	var m0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		msg := `42["slow","` + strings.Repeat("x", 1000) + `"]`
		for range 20_000 { // 20 MB: far more than the runner's high water
			if err := flooder.TryText(msg, 100*time.Millisecond); err != nil {
				return // paused: TCP pushes back
			}
		}
	}()
	for i := range 50 {
		other.Text(fmt.Sprintf(`42%d["echo",%d]`, i, i))
		if got, want := other.ReadSkippingPongs(), fmt.Sprintf(`43%d[%d]`, i, i); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	<-done
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	if grown := int64(m1.HeapAlloc) - int64(m0.HeapAlloc); grown > 16<<20 {
		t.Fatalf("the flooder grew the heap by %d MiB", grown>>20)
	}
	once.Do(func() { close(release) })
}

// A polling client can put a whole maxPayload of tiny events in one POST:
// they are handed to the handlers as the runner keeps up, not all queued at
// once (which held ~200 bytes per 10-byte event).
func TestAFloodingPollingClientIsSlowedDownNotBuffered(t *testing.T) {
	io := NewServer(quietOptions())
	release := make(chan struct{})
	var handled sync.WaitGroup
	clients := newEvents[*client]()
	io.OnConnection(func(s *Socket) {
		clients.add(s.client)
		s.On("e", func(s *Socket, e *Event) {
			<-release
			handled.Done()
		})
	})
	ts := start(t, io)
	code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling"), "")
	if code != 200 {
		t.Fatalf("handshake %d %s", code, body)
	}
	sid := body[strings.Index(body, `"sid":"`)+7:][:20]
	if code, _, _ := do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "40"); code != 200 {
		t.Fatalf("CONNECT %d", code)
	}
	cl := clients.next(t)
	const n = 50_000
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('\x1e')
		}
		b.WriteString(`42["e"]`)
	}
	handled.Add(n)
	posted := make(chan int)
	go func() {
		code, _, _ := do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), b.String())
		posted <- code
	}()
	deadline := time.Now().Add(10 * time.Second)
	for paused := false; !paused; {
		if time.Now().After(deadline) {
			t.Fatal("the client was never paused")
		}
		time.Sleep(time.Millisecond)
		cl.runMu.Lock()
		paused = cl.paused
		cl.runMu.Unlock()
	}
	close(release)
	if code := <-posted; code != 200 {
		t.Fatalf("POST %d", code)
	}
	handled.Wait()
	cl.runMu.Lock()
	peak := cl.peak
	cl.runMu.Unlock()
	if peak > runHighWater+1 {
		t.Fatalf("peak backlog %d (high water %d)", peak, runHighWater)
	}
}

// A client's sockets leave it in any order without disturbing the others:
// events keep reaching the right namespace while removed sockets leave
// holes and after the holes are compacted away, a namespace left can be
// joined again, and the connection's close disconnects the rest in the
// order they connected.
func TestClientSocketsLeaveInAnyOrder(t *testing.T) {
	io := NewServer(quietOptions())
	const n = 20
	disconnected := newEvents[string]()
	clients := newEvents[*client]()
	for i := range n {
		io.Of(fmt.Sprintf("/n%d", i)).OnConnection(func(s *Socket) {
			clients.add(s.client)
			s.On("echo", func(s *Socket, e *Event) { _ = e.Ack(s.Namespace().Name()) })
			s.OnDisconnect(func(s *Socket, reason DisconnectReason) { disconnected.add(s.Namespace().Name()) })
		})
	}
	ts := start(t, io)
	c := ts.ws(t)
	c.ReadText()
	for i := range n {
		c.Text(fmt.Sprintf("40/n%d,", i))
		if msg := c.ReadSkippingPongs(); !strings.HasPrefix(msg, fmt.Sprintf(`40/n%d,{"sid":`, i)) {
			t.Fatalf("got %q", msg)
		}
	}
	cl := clients.next(t)
	echo := func(i, id int) {
		t.Helper()
		c.Text(fmt.Sprintf(`42/n%d,%d["echo"]`, i, id))
		if got, want := c.ReadSkippingPongs(), fmt.Sprintf(`43/n%d,%d["/n%d"]`, i, id, i); got != want {
			t.Fatalf("echo in /n%d: got %q, want %q", i, got, want)
		}
	}
	left := map[int]bool{}
	for k, i := range []int{5, 0, 19, 7, 3, 11, 12, 1, 8, 14} { // the tenth compacts
		c.Text(fmt.Sprintf("41/n%d,", i))
		if got := disconnected.next(t); got != fmt.Sprintf("/n%d", i) {
			t.Fatalf("disconnected %s, want /n%d", got, i)
		}
		left[i] = true
		for j := range n {
			if !left[j] {
				echo(j, k*100+j)
			}
		}
	}
	cl.mu.Lock()
	holes, slots := cl.holes, len(cl.sockets)
	for i, s := range cl.sockets {
		if s == nil || int(s.slot) != i {
			t.Errorf("after compaction, slot %d holds %v", i, s)
		}
	}
	cl.mu.Unlock()
	if holes != 0 || slots != n-len(left) {
		t.Errorf("after 10 of 20 left: %d slots, %d holes; want %d, 0", slots, holes, n-len(left))
	}
	c.Text("40/n7,") // again
	if msg := c.ReadSkippingPongs(); !strings.HasPrefix(msg, `40/n7,{"sid":`) {
		t.Fatalf("got %q", msg)
	}
	delete(left, 7)
	echo(7, 9999)
	c.Close()
	var want, got []string
	for i := range n {
		if !left[i] && i != 7 {
			want = append(want, fmt.Sprintf("/n%d", i))
		}
	}
	want = append(want, "/n7")
	for range want {
		got = append(got, disconnected.next(t))
	}
	if !slices.Equal(got, want) {
		t.Errorf("disconnected on close %v, want %v (connection order)", got, want)
	}
}

// A client may be connected to MaxNamespacesPerClient namespaces at once
// (256 by default): one more is refused with a CONNECT_ERROR, before a
// dynamic namespace is made for it, and the connection and its sockets
// stay. A namespace left makes room at once (its DISCONNECT and the next
// CONNECT sent together), also for itself.
func TestNamespacesPerClientAreBounded(t *testing.T) {
	for _, c := range []struct {
		name string
		max  int
		want int
	}{
		{"default", 0, defaultMaxNamespaces},
		{"set", 3, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := quietOptions()
			opts.MaxNamespacesPerClient = c.max
			io := NewServer(opts)
			parent := io.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
			parent.OnConnection(func(s *Socket) {
				s.On("echo", func(s *Socket, e *Event) { _ = e.Ack(s.Namespace().Name()) })
			})
			ts := start(t, io)
			conn := ts.ws(t)
			conn.ReadText()
			for i := range c.want {
				conn.Text(fmt.Sprintf("40/room-%d,", i))
			}
			for i := range c.want {
				if msg := conn.ReadSkippingPongs(); !strings.HasPrefix(msg, fmt.Sprintf(`40/room-%d,{"sid":`, i)) {
					t.Fatalf("CONNECT %d: got %q", i, msg)
				}
			}
			over := fmt.Sprintf("/room-%d", c.want)
			conn.Text("40" + over + ",")
			if got, want := conn.ReadSkippingPongs(), "44"+over+`,{"message":"Too many namespaces"}`; got != want {
				t.Fatalf("CONNECT past the limit: got %q, want %q", got, want)
			}
			if got := len(parent.Children()); got != c.want {
				t.Fatalf("%d dynamic namespaces, want %d", got, c.want)
			}
			// The others still work.
			conn.Text(`42/room-0,7["echo"]`)
			if got := conn.ReadSkippingPongs(); got != `43/room-0,7["/room-0"]` {
				t.Fatalf("echo: got %q", got)
			}
			// Leaving one makes room.
			conn.Text("41/room-1,")
			conn.Text("40" + over + ",")
			if msg := conn.ReadSkippingPongs(); !strings.HasPrefix(msg, "40"+over+`,{"sid":`) {
				t.Fatalf("CONNECT after leaving one: got %q", msg)
			}
			// At the limit, a namespace left and joined again in one go.
			conn.Text("41/room-2,")
			conn.Text("40/room-2,")
			if msg := conn.ReadSkippingPongs(); !strings.HasPrefix(msg, `40/room-2,{"sid":`) {
				t.Fatalf("reconnecting /room-2: got %q", msg)
			}
		})
	}
}
