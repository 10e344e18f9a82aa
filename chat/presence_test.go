package chat_test

import (
	"fmt"
	"sync"
	"testing"

	"switchboard/chat"
)

func TestPresenceCountsDistinctUsers(t *testing.T) {
	p := chat.NewPresence()

	first, n := p.Connect("tab-1", 1)
	if !first || n != 1 {
		t.Errorf("alice's first tab: first=%v count=%d; want true 1", first, n)
	}
	first, n = p.Connect("tab-2", 1)
	if first || n != 1 {
		t.Errorf("alice's second tab: first=%v count=%d; want false 1", first, n)
	}
	first, n = p.Connect("tab-3", 2)
	if !first || n != 2 {
		t.Errorf("bob's tab: first=%v count=%d; want true 2", first, n)
	}

	uid, last, n := p.Disconnect("tab-1")
	if uid != 1 || last || n != 2 {
		t.Errorf("alice closes one tab: uid=%d last=%v count=%d; want 1 false 2", uid, last, n)
	}
	if !p.Online(1) || p.Connections(1) != 1 {
		t.Error("alice should still be online with one connection")
	}
	uid, last, n = p.Disconnect("tab-2")
	if uid != 1 || !last || n != 1 {
		t.Errorf("alice closes her last tab: uid=%d last=%v count=%d; want 1 true 1", uid, last, n)
	}
	if p.Online(1) {
		t.Error("alice still online")
	}
}

func TestPresenceIsIdempotentPerConnection(t *testing.T) {
	p := chat.NewPresence()
	p.Connect("c1", 1)
	if first, n := p.Connect("c1", 1); first || n != 1 {
		t.Errorf("repeated Connect: first=%v count=%d", first, n)
	}
	if p.Connections(1) != 1 {
		t.Errorf("repeated Connect counted twice: %d", p.Connections(1))
	}
	p.Disconnect("c1")
	uid, last, n := p.Disconnect("c1")
	if uid != 0 || last || n != 0 {
		t.Errorf("double Disconnect: uid=%d last=%v count=%d; want 0 false 0", uid, last, n)
	}
	if _, _, n := p.Disconnect("never-seen"); n != 0 {
		t.Errorf("unknown Disconnect changed count to %d", n)
	}
	if p.Connections(1) != 0 || p.Count() != 0 {
		t.Error("counts went below zero or stayed up")
	}
}

func TestPresenceConnectionReusedByAnotherUserMoves(t *testing.T) {
	p := chat.NewPresence()
	p.Connect("c1", 1)
	first, n := p.Connect("c1", 2)
	if !first || n != 1 || p.Online(1) || !p.Online(2) {
		t.Errorf("first=%v count=%d online(1)=%v online(2)=%v", first, n, p.Online(1), p.Online(2))
	}
}

func TestPresenceConcurrentConnectsAndDisconnects(t *testing.T) {
	p := chat.NewPresence()
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts, lasts := 0, 0
	for user := int64(1); user <= 10; user++ {
		for tab := 0; tab < 20; tab++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("u%d-t%d", user, tab)
				if first, _ := p.Connect(id, user); first {
					mu.Lock()
					firsts++
					mu.Unlock()
				}
				p.Connect(id, user) // duplicate, harmless
				if _, last, _ := p.Disconnect(id); last {
					mu.Lock()
					lasts++
					mu.Unlock()
				}
				p.Disconnect(id) // duplicate, harmless
			}()
		}
	}
	wg.Wait()
	if p.Count() != 0 {
		t.Errorf("Count = %d after everyone left", p.Count())
	}
	if firsts != lasts || firsts < 10 {
		t.Errorf("firsts=%d lasts=%d; every arrival needs a matching departure", firsts, lasts)
	}
}
