package sio

import (
	"errors"
	"testing"
)

func TestParseClassifiesClientPackets(t *testing.T) {
	for _, c := range []struct {
		in   string
		kind Kind
		text string
	}{
		{"40", Connect, ""},
		{`40{"token":"x"}`, Connect, ""},
		{"3", Pong, ""},
		{"1", Close, ""},
		{`42["chat message","hi"]`, Chat, `"hi"`},
		{`42["chat message","a \"quoted\" \\ ]"]`, Chat, `"a \"quoted\" \\ ]"`},
		{`42["chat message",42]`, Other, ""},          // not a string: ignored
		{`42["chat message","x"`, Other, ""},          // truncated
		{`42["chat message","x",1]`, Other, ""},       // extra argument
		{"42[\"chat message\",\"a\x01\"]", Other, ""}, // raw control character
		{`41`, Other, ""},
		{`42/admin,["chat message","x"]`, Other, ""}, // another namespace
	} {
		k, text := Parse([]byte(c.in))
		if k != c.kind || string(text) != c.text {
			t.Errorf("Parse(%q) = %v %q, want %v %q", c.in, k, text, c.kind, c.text)
		}
	}
}

func TestAppendBroadcastWrapsTheMessage(t *testing.T) {
	got := string(AppendBroadcast(nil, []byte(`"hi"`)))
	want := `42["chat message",{"username":"bench","message":"hi"}]`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestOutboxBatchesAndBounds(t *testing.T) {
	var o Outbox[int]
	release := make(chan struct{})
	batches := make(chan []int, 10)
	flush := func(b []int) error {
		<-release
		batches <- append([]int(nil), b...)
		return nil
	}
	o.Push(1, 3, flush) // taken by the writer, which blocks in flush
	for !o.queueEmptyAndRunning() {
	}
	for i := 2; i <= 4; i++ {
		if !o.Push(i, 3, flush) {
			t.Fatalf("push %d refused below the limit", i)
		}
	}
	if o.Push(5, 3, flush) {
		t.Fatal("push accepted beyond the limit")
	}
	close(release)
	if b := <-batches; len(b) != 1 || b[0] != 1 {
		t.Fatalf("first batch %v", b)
	}
	if b := <-batches; len(b) != 3 || b[0] != 2 || b[2] != 4 {
		t.Fatalf("second batch %v, want [2 3 4]", b)
	}
}

func TestOutboxClosesOnFlushError(t *testing.T) {
	var o Outbox[int]
	done := make(chan struct{})
	o.Push(1, 10, func([]int) error { close(done); return errors.New("broken pipe") })
	<-done
	for !o.closedNow() {
	}
	if o.Push(2, 10, func([]int) error { return nil }) {
		t.Fatal("push accepted after a failed flush")
	}
}

func (o *Outbox[T]) queueEmptyAndRunning() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.running && len(o.queue) == 0
}

func (o *Outbox[T]) closedNow() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}
