package adapter

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"switchboard/socketio/parser"
)

// fakeNamespace records what the adapter asks of it.
type fakeNamespace struct {
	mu           sync.Mutex
	delivered    []SocketID
	disconnected []SocketID
	closeConn    bool
	ackIDs       atomic.Int64
	ackedIDs     []int64            // the ids of the packets given to DeliverWithAck
	deliveries   [][]*parser.Packet // the packets of each Deliver call
}

func (f *fakeNamespace) Name() string { return "/" }

func (f *fakeNamespace) Deliver(ps []*parser.Packet, ids []SocketID, flags BroadcastFlags) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = append(f.delivered, ids...)
	f.deliveries = append(f.deliveries, ps)
}

func (f *fakeNamespace) DeliverWithAck(p *parser.Packet, ids []SocketID, flags BroadcastFlags, onAck AckFunc) int {
	f.mu.Lock()
	f.ackedIDs = append(f.ackedIDs, p.ID)
	f.mu.Unlock()
	f.Deliver([]*parser.Packet{p}, ids, flags)
	for _, id := range ids {
		onAck(id, &parser.Packet{Type: parser.Ack, Data: []byte(`["ok"]`)})
	}
	return len(ids)
}

func (f *fakeNamespace) Disconnect(ids []SocketID, close bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.disconnected = append(f.disconnected, ids...)
	f.closeConn = close
}

func (f *fakeNamespace) SocketInfo(id SocketID) (SocketInfo, bool) { return SocketInfo{ID: id}, true }

func (f *fakeNamespace) NextAckID() int64 { return f.ackIDs.Add(1) - 1 }

func (f *fakeNamespace) take() []SocketID {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.delivered
	f.delivered = nil
	slices.Sort(got)
	return got
}

// setup: a, b, c connected; a and b in "red"; b and c in "blue".
func setup() (*fakeNamespace, Adapter) {
	ns := &fakeNamespace{}
	a := NewInMemory(ns)
	a.AddAll("a", []Room{"a"})
	a.AddAll("b", []Room{"b"})
	a.AddAll("c", []Room{"c"})
	a.AddAll("a", []Room{"red"})
	a.AddAll("b", []Room{"red", "blue"})
	a.AddAll("c", []Room{"blue"})
	return ns, a
}

func TestBroadcastSelectsRecipientsByRoomsAndExcept(t *testing.T) {
	cases := []struct {
		name string
		opts BroadcastOptions
		want []SocketID
	}{
		{"everyone", BroadcastOptions{}, []SocketID{"a", "b", "c"}},
		{"one room", BroadcastOptions{Rooms: []Room{"red"}}, []SocketID{"a", "b"}},
		{"two rooms without duplicates", BroadcastOptions{Rooms: []Room{"red", "blue"}}, []SocketID{"a", "b", "c"}},
		{"a socket's own room", BroadcastOptions{Rooms: []Room{"c"}}, []SocketID{"c"}},
		{"everyone except a room", BroadcastOptions{Except: []Room{"blue"}}, []SocketID{"a"}},
		{"everyone except the sender", BroadcastOptions{Except: []Room{"a"}}, []SocketID{"b", "c"}},
		{"room except room", BroadcastOptions{Rooms: []Room{"red"}, Except: []Room{"blue"}}, []SocketID{"a"}},
		{"unknown room", BroadcastOptions{Rooms: []Room{"green"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns, a := setup()
			if err := a.Broadcast([]*parser.Packet{{Type: parser.Event}}, tc.opts); err != nil {
				t.Fatal(err)
			}
			if got := ns.take(); !slices.Equal(got, tc.want) {
				t.Fatalf("delivered to %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSocketRoomsListTheOwnRoomFirst(t *testing.T) {
	_, a := setup()
	got := a.SocketRooms("b")
	if len(got) != 3 || got[0] != "b" {
		t.Fatalf("rooms %v", got)
	}
	slices.Sort(got[1:])
	if !slices.Equal(got, []Room{"b", "blue", "red"}) {
		t.Fatalf("rooms %v", got)
	}
	if a.SocketRooms("nobody") != nil {
		t.Fatal("rooms of an unknown socket")
	}
}

func TestLeavingRoomsAndDisconnecting(t *testing.T) {
	ns, a := setup()
	a.Del("a", "red")
	_ = a.Broadcast([]*parser.Packet{{}}, BroadcastOptions{Rooms: []Room{"red"}})
	if got := ns.take(); !slices.Equal(got, []SocketID{"b"}) {
		t.Fatalf("after leave: %v", got)
	}
	a.DelAll("b")
	_ = a.Broadcast([]*parser.Packet{{}}, BroadcastOptions{})
	if got := ns.take(); !slices.Equal(got, []SocketID{"a", "c"}) {
		t.Fatalf("after DelAll: %v", got)
	}
	ids, _ := a.Sockets(context.Background(), []Room{"red"})
	if len(ids) != 0 {
		t.Fatalf("empty room still has %v", ids)
	}
	if got := a.SocketRooms("b"); got != nil {
		t.Fatalf("rooms after DelAll: %v", got)
	}
}

func TestBulkOperationsApplyToTheSelection(t *testing.T) {
	ns, a := setup()
	if err := a.AddSockets(BroadcastOptions{Rooms: []Room{"blue"}}, []Room{"green"}); err != nil {
		t.Fatal(err)
	}
	ids, _ := a.Sockets(context.Background(), []Room{"green"})
	slices.Sort(ids)
	if !slices.Equal(ids, []SocketID{"b", "c"}) {
		t.Fatalf("green: %v", ids)
	}
	_ = a.DelSockets(BroadcastOptions{Rooms: []Room{"green"}}, []Room{"green", "blue"})
	ids, _ = a.Sockets(context.Background(), []Room{"blue"})
	if len(ids) != 0 {
		t.Fatalf("blue after DelSockets: %v", ids)
	}
	_ = a.DisconnectSockets(BroadcastOptions{Rooms: []Room{"red"}}, true)
	slices.Sort(ns.disconnected)
	if !slices.Equal(ns.disconnected, []SocketID{"a", "b"}) || !ns.closeConn {
		t.Fatalf("disconnected %v close=%v", ns.disconnected, ns.closeConn)
	}
	infos, _ := a.FetchSockets(context.Background(), BroadcastOptions{Rooms: []Room{"a"}})
	if len(infos) != 1 || infos[0].ID != "a" || infos[0].Rooms[0] != "a" {
		t.Fatalf("fetch: %+v", infos)
	}
}

func TestBroadcastWithAckCountsRecipients(t *testing.T) {
	_, a := setup()
	var count, acks int
	_ = a.BroadcastWithAck(context.Background(), &parser.Packet{}, BroadcastOptions{Rooms: []Room{"blue"}},
		func(n int) { count += n }, func(SocketID, *parser.Packet) { acks++ })
	if count != 2 || acks != 2 {
		t.Fatalf("count %d acks %d", count, acks)
	}
}

func TestConcurrentUseIsSafe(t *testing.T) {
	_, a := setup()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				id := SocketID(rune('d' + g))
				a.AddAll(id, []Room{id, "room"})
				_ = a.Broadcast([]*parser.Packet{{}}, BroadcastOptions{Rooms: []Room{"room"}})
				a.DelAll(id)
			}
		}(g)
	}
	wg.Wait()
}

func BenchmarkBroadcastSelect1000(b *testing.B) {
	ns := &fakeNamespace{}
	a := NewInMemory(ns).(*InMemory)
	for i := 0; i < 1000; i++ {
		id := SocketID(string(rune(0x4e00 + i)))
		a.AddAll(id, []Room{id})
	}
	b.ReportAllocs()
	for b.Loop() {
		ids := a.selected(BroadcastOptions{})
		a.release(ids)
	}
}

// A bulk join racing with disconnections never brings a removed socket back:
// the adapter would otherwise keep its id (and rooms) forever, and every
// broadcast would select it.
func TestBulkJoinNeverRevivesARemovedSocket(t *testing.T) {
	ctx := context.Background()
	for round := 0; round < 30; round++ {
		a := NewInMemory(&fakeNamespace{})
		var ids []SocketID
		for i := 0; i < 200; i++ {
			id := SocketID(rune('A'+i%26)) + SocketID(rune('a'+i/26))
			ids = append(ids, id)
			a.AddAll(id, []Room{id})
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 20 {
				_ = a.AddSockets(BroadcastOptions{}, []Room{"r"})
			}
		}()
		go func() {
			defer wg.Done()
			for _, id := range ids {
				a.DelAll(id)
			}
		}()
		wg.Wait()
		if left, _ := a.Sockets(ctx, nil); len(left) != 0 {
			t.Fatalf("round %d: %d removed sockets revived: %v", round, len(left), left)
		}
		if left, _ := a.Sockets(ctx, []Room{"r"}); len(left) != 0 {
			t.Fatalf("round %d: room r keeps %d removed sockets", round, len(left))
		}
	}
}

// Whatever ack id the packet came with (another node's), it is delivered
// under one of this namespace's, and the caller's packet is left as it was.
func TestBroadcastWithAckDeliversUnderAnIDOfTheNamespace(t *testing.T) {
	ns, a := setup()
	ns.ackIDs.Store(7)
	p := &parser.Packet{Type: parser.Event, Data: []byte(`["x"]`), ID: 3, HasID: true}
	_ = a.BroadcastWithAck(context.Background(), p, BroadcastOptions{}, func(int) {}, func(SocketID, *parser.Packet) {})
	if len(ns.ackedIDs) != 1 || ns.ackedIDs[0] != 7 {
		t.Fatalf("delivered with ids %v, want [7]", ns.ackedIDs)
	}
	if p.ID != 3 || !p.HasID {
		t.Fatalf("the caller's packet was modified: id %d", p.ID)
	}
}

func TestBroadcastOfSeveralPacketsSelectsOnceAndDeliversThemTogether(t *testing.T) {
	ns, a := setup()
	first := &parser.Packet{Type: parser.Event, Data: []byte(`["first"]`)}
	second := &parser.Packet{Type: parser.Event, Data: []byte(`["second"]`)}
	if err := a.Broadcast([]*parser.Packet{first, second}, BroadcastOptions{Rooms: []Room{"red"}}); err != nil {
		t.Fatal(err)
	}
	if len(ns.deliveries) != 1 || !slices.Equal(ns.deliveries[0], []*parser.Packet{first, second}) {
		t.Fatalf("deliveries %v, want one of both packets in order", ns.deliveries)
	}
	if got := ns.take(); !slices.Equal(got, []SocketID{"a", "b"}) {
		t.Fatalf("delivered to %v", got)
	}
	if err := a.Broadcast(nil, BroadcastOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(ns.deliveries) != 1 {
		t.Fatalf("a broadcast of no packets delivered: %v", ns.deliveries)
	}
}
