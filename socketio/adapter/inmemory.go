package adapter

import (
	"context"
	"sync"

	"switchboard/socketio/parser"
)

// InMemory is the single-node adapter: rooms live in this process. A
// socket's own room (its id) is implicit, so a socket in no other room costs
// one map entry.
type InMemory struct {
	nsp Namespace

	mu    sync.RWMutex
	rooms map[Room]map[SocketID]struct{} // explicit rooms → members
	sids  map[SocketID]map[Room]struct{} // socket → explicit rooms (nil when none)

	idsPool sync.Pool
}

// NewInMemory returns an in-memory adapter for nsp; it is a Factory.
func NewInMemory(nsp Namespace) Adapter {
	return &InMemory{
		nsp:   nsp,
		rooms: make(map[Room]map[SocketID]struct{}),
		sids:  make(map[SocketID]map[Room]struct{}),
	}
}

var _ Factory = NewInMemory

// AddAll implements Adapter.
func (a *InMemory) AddAll(id SocketID, rooms []Room) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.addAllLocked(id, rooms)
}

func (a *InMemory) addAllLocked(id SocketID, rooms []Room) {
	own, known := a.sids[id]
	if !known {
		a.sids[id] = nil
	}
	for _, room := range rooms {
		if room == id {
			continue
		}
		if own == nil {
			own = make(map[Room]struct{}, 1)
			a.sids[id] = own
		}
		own[room] = struct{}{}
		members := a.rooms[room]
		if members == nil {
			members = make(map[SocketID]struct{}, 1)
			a.rooms[room] = members
		}
		members[id] = struct{}{}
	}
}

// Del implements Adapter.
func (a *InMemory) Del(id SocketID, room Room) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.delLocked(id, room)
}

func (a *InMemory) delLocked(id SocketID, room Room) {
	if own := a.sids[id]; own != nil {
		delete(own, room)
		if len(own) == 0 {
			a.sids[id] = nil
		}
	}
	if members := a.rooms[room]; members != nil {
		delete(members, id)
		if len(members) == 0 {
			delete(a.rooms, room)
		}
	}
}

// DelAll implements Adapter.
func (a *InMemory) DelAll(id SocketID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for room := range a.sids[id] {
		if members := a.rooms[room]; members != nil {
			delete(members, id)
			if len(members) == 0 {
				delete(a.rooms, room)
			}
		}
	}
	delete(a.sids, id)
}

// SocketRooms implements Adapter.
func (a *InMemory) SocketRooms(id SocketID) []Room {
	a.mu.RLock()
	defer a.mu.RUnlock()
	own, ok := a.sids[id]
	if !ok {
		return nil
	}
	rooms := make([]Room, 0, 1+len(own))
	rooms = append(rooms, id)
	for room := range own {
		rooms = append(rooms, room)
	}
	return rooms
}

// Sockets implements Adapter.
func (a *InMemory) Sockets(_ context.Context, rooms []Room) ([]SocketID, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.selectLocked(nil, BroadcastOptions{Rooms: rooms}), nil
}

// selectLocked appends the ids selected by opts to dst. Called with a.mu held.
func (a *InMemory) selectLocked(dst []SocketID, opts BroadcastOptions) []SocketID {
	var except map[SocketID]struct{}
	if len(opts.Except) > 0 {
		except = make(map[SocketID]struct{})
		for _, room := range opts.Except {
			if _, ok := a.sids[room]; ok {
				except[room] = struct{}{}
			}
			for id := range a.rooms[room] {
				except[id] = struct{}{}
			}
		}
	}
	keep := func(id SocketID) bool {
		_, skip := except[id]
		return !skip
	}
	if len(opts.Rooms) == 0 {
		for id := range a.sids {
			if keep(id) {
				dst = append(dst, id)
			}
		}
		return dst
	}
	if len(opts.Rooms) == 1 {
		room := opts.Rooms[0]
		if _, ok := a.sids[room]; ok && keep(room) {
			dst = append(dst, room)
		}
		for id := range a.rooms[room] {
			if id != room && keep(id) {
				dst = append(dst, id)
			}
		}
		return dst
	}
	seen := make(map[SocketID]struct{})
	add := func(id SocketID) {
		if _, dup := seen[id]; !dup && keep(id) {
			seen[id] = struct{}{}
			dst = append(dst, id)
		}
	}
	for _, room := range opts.Rooms {
		if _, ok := a.sids[room]; ok {
			add(room)
		}
		for id := range a.rooms[room] {
			add(id)
		}
	}
	return dst
}

func (a *InMemory) selected(opts BroadcastOptions) *[]SocketID {
	p, _ := a.idsPool.Get().(*[]SocketID)
	if p == nil {
		p = new([]SocketID)
	}
	a.mu.RLock()
	*p = a.selectLocked((*p)[:0], opts)
	a.mu.RUnlock()
	return p
}

func (a *InMemory) release(p *[]SocketID) {
	if cap(*p) > 1<<16 {
		return
	}
	clear(*p)
	*p = (*p)[:0]
	a.idsPool.Put(p)
}

// Broadcast implements Adapter: one selection, one Deliver.
func (a *InMemory) Broadcast(ps []*parser.Packet, opts BroadcastOptions) error {
	if len(ps) == 0 {
		return nil
	}
	ids := a.selected(opts)
	if len(*ids) > 0 {
		a.nsp.Deliver(ps, *ids, opts.Flags)
	}
	a.release(ids)
	return nil
}

// BroadcastWithAck implements Adapter: p goes out under an ack id of this
// namespace (as Node's adapter sets packet.id = nsp._ids++), whichever
// node it came from; p itself is not modified.
func (a *InMemory) BroadcastWithAck(_ context.Context, p *parser.Packet, opts BroadcastOptions, onCount func(int), onAck AckFunc) error {
	ids := a.selected(opts)
	n := 0
	if len(*ids) > 0 {
		q := *p
		q.ID, q.HasID = a.nsp.NextAckID(), true
		n = a.nsp.DeliverWithAck(&q, *ids, opts.Flags, onAck)
	}
	a.release(ids)
	onCount(n)
	return nil
}

// FetchSockets implements Adapter.
func (a *InMemory) FetchSockets(_ context.Context, opts BroadcastOptions) ([]SocketInfo, error) {
	ids := a.selected(opts)
	defer a.release(ids)
	out := make([]SocketInfo, 0, len(*ids))
	for _, id := range *ids {
		if info, ok := a.nsp.SocketInfo(id); ok {
			info.Rooms = a.SocketRooms(id)
			out = append(out, info)
		}
	}
	return out, nil
}

// AddSockets implements Adapter.
// The selection and the joins happen under one lock, so that a socket
// removed meanwhile (DelAll) is not added back.
func (a *InMemory) AddSockets(opts BroadcastOptions, rooms []Room) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range a.selectLocked(nil, opts) {
		a.addAllLocked(id, rooms)
	}
	return nil
}

// DelSockets implements Adapter.
func (a *InMemory) DelSockets(opts BroadcastOptions, rooms []Room) error {
	ids := a.selected(opts)
	defer a.release(ids)
	a.mu.Lock()
	for _, id := range *ids {
		for _, room := range rooms {
			a.delLocked(id, room)
		}
	}
	a.mu.Unlock()
	return nil
}

// DisconnectSockets implements Adapter.
func (a *InMemory) DisconnectSockets(opts BroadcastOptions, close bool) error {
	ids := a.selected(opts)
	list := append([]SocketID(nil), *ids...)
	a.release(ids)
	a.nsp.Disconnect(list, close)
	return nil
}

// ServerSideEmit implements Adapter: a single node has no peers.
func (a *InMemory) ServerSideEmit(context.Context, *parser.Packet) error { return nil }

// ServerCount implements Adapter.
func (a *InMemory) ServerCount(context.Context) (int, error) { return 1, nil }

// Close implements Adapter.
func (a *InMemory) Close() error { return nil }
