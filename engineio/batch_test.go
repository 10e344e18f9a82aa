package engineio

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"switchboard/internal/testclient"
)

// A Batch sending several packets at once (a broadcast of several events)
// gives each kind of WebSocket connection — plain, base64 binary (b64=1),
// compressed — every packet in its own form and in order, and a polling
// client the same packets, also when the batch alternates between two
// groups of packets.
func TestBatchOfSeveralPacketsReachesEveryKindOfConnection(t *testing.T) {
	opts := fixtureOptions()
	opts.PingInterval = 10 * time.Second
	opts.PerMessageDeflate = &PerMessageDeflate{Threshold: 100}
	ts := startEcho(t, opts)

	plain := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	plain.Read()
	b64 := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&b64=1"))
	b64.Read()
	d := ws.Dialer{Extensions: []httphead.Option{(wsflate.Parameters{}).Option()}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	zconn, br, _, err := d.Dial(ctx, ts.wsURL("EIO=4&transport=websocket"))
	if err != nil {
		t.Fatal(err)
	}
	defer zconn.Close()
	var zr io.Reader = zconn
	if br != nil {
		zr = io.MultiReader(io.LimitReader(br, int64(br.Buffered())), zconn)
	}
	_ = zconn.SetDeadline(time.Now().Add(5 * time.Second))
	var compressed []string // the messages that came compressed
	readZ := func() (string, bool) {
		f, err := testclient.ReadFrame(zr)
		if err != nil {
			t.Fatal(err)
		}
		payload := f.Payload
		if f.Header.Rsv&0x4 != 0 {
			payload = decompress(t, payload)
			compressed = append(compressed, string(payload))
		}
		return string(payload), f.Header.OpCode == ws.OpBinary
	}
	if open, _ := readZ(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open %q", open)
	}
	sid := ts.openPolling(t)

	big := strings.Repeat("compressible ", 20)
	group := []*Packet{NewMessage([]byte("small"), false), NewMessage([]byte{1, 2, 3}, true), NewMessage([]byte(big), false)}
	other := []*Packet{NewMessage([]byte("other"), false), NewMessage([]byte("last"), false)}
	sessions := []*Session{ts.h.session(t, 0), ts.h.session(t, 1), ts.h.session(t, 2), ts.h.session(t, 3)}
	batch := ts.NewBatch()
	for _, s := range sessions {
		if err := batch.Send(s, 0, group...); err != nil {
			t.Fatal(err)
		}
		if err := batch.Send(s, 0, other...); err != nil {
			t.Fatal(err)
		}
	}
	batch.Flush()

	type msg struct {
		data   string
		binary bool
	}
	want := func(binary msg) []msg {
		return []msg{{"4small", false}, binary, {"4" + big, false}, {"4other", false}, {"4last", false}}
	}
	for name, tc := range map[string]struct {
		read func() (string, bool)
		want []msg
	}{
		"plain":      {plain.Read, want(msg{"\x01\x02\x03", true})},
		"b64":        {b64.Read, want(msg{"bAQID", false})},
		"compressed": {readZ, want(msg{"\x01\x02\x03", true})},
	} {
		for i, w := range tc.want {
			if data, binary := tc.read(); data != w.data || binary != w.binary {
				t.Fatalf("%s, message %d: %q binary=%v, want %q binary=%v", name, i, data, binary, w.data, w.binary)
			}
		}
	}
	if len(compressed) != 1 || compressed[0] != "4"+big {
		t.Fatalf("compressed messages %q, want the large one only", compressed)
	}
	code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), "")
	if wantBody := "4small\x1ebAQID\x1e4" + big + "\x1e4other\x1e4last"; code != 200 || body != wantBody {
		t.Fatalf("polling: %d %q, want %q", code, body, wantBody)
	}
}

// A broadcast queues its frames on every WebSocket recipient without an
// allocation per recipient, for one packet, a few, or many (a pooled list).
// An allocation per recipient (the frame list escaping to the heap) once
// cost the flood benchmark 60% more CPU; this counts allocations, not time.
func TestBroadcastQueuesWithoutAnAllocationPerRecipient(t *testing.T) {
	opts := fixtureOptions()
	opts.PingInterval = time.Hour
	opts.PingTimeout = time.Hour
	ts := startEcho(t, opts)
	const n = 12 // the echo handler holds up to 16 close reasons
	var sessions []*Session
	for i := range n {
		c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
		c.Read()
		sessions = append(sessions, ts.h.session(t, i))
	}
	p := NewTextMessage("hello")
	for _, packets := range [][]*Packet{{p}, {p, p, p}, {p, p, p, p, p, p}} {
		allocs := testing.AllocsPerRun(50, func() {
			b := ts.NewBatch()
			for _, s := range sessions {
				if err := b.Send(s, 0, packets...); err != nil {
					t.Fatal(err)
				}
			}
			b.Flush()
		})
		t.Logf("%d packets: %.1f allocations per broadcast", len(packets), allocs)
		if allocs >= n {
			t.Errorf("a broadcast of %d packets to %d sessions: %.0f allocations, want fewer than one per recipient", len(packets), n, allocs)
		}
	}
}
