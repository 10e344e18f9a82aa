package chat

import "sync"

// Presence tracks who is online: the distinct users with at least one live
// connection (a browser tab, a socket). A user's second connection changes
// nothing that others see; only the first connection and the last
// disconnection do. Every call names the connection, so repeating a
// Connect or a Disconnect is harmless and counts never go negative.
// A Presence is safe for concurrent use; its zero value is not usable, call
// NewPresence.
type Presence struct {
	mu    sync.Mutex
	conns map[string]int64 // connection id → user id
	users map[int64]int    // user id → number of live connections
}

// NewPresence returns an empty Presence.
func NewPresence() *Presence {
	return &Presence{conns: make(map[string]int64), users: make(map[int64]int)}
}

// Connect records that connection connID of user userID is live. first is
// true when this made the user appear online; count is the number of
// distinct users online afterwards (freeCodeCamp's currentUsers). A connID
// already recorded leaves everything unchanged (first is false); a connID
// recorded for another user is moved to userID.
func (p *Presence) Connect(connID string, userID int64) (first bool, count int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.conns[connID]; ok {
		if old == userID {
			return false, len(p.users)
		}
		p.drop(connID, old)
	}
	p.conns[connID] = userID
	p.users[userID]++
	return p.users[userID] == 1, len(p.users)
}

// Disconnect records that connection connID is gone. last is true when this
// made its user go offline; userID is the connection's user (0 for an
// unknown connection, which changes nothing); count is the number of
// distinct users online afterwards.
func (p *Presence) Disconnect(connID string) (userID int64, last bool, count int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	userID, ok := p.conns[connID]
	if !ok {
		return 0, false, len(p.users)
	}
	last = p.drop(connID, userID)
	return userID, last, len(p.users)
}

func (p *Presence) drop(connID string, userID int64) (last bool) {
	delete(p.conns, connID)
	p.users[userID]--
	if p.users[userID] <= 0 {
		delete(p.users, userID)
		return true
	}
	return false
}

// Count returns the number of distinct users online.
func (p *Presence) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.users)
}

// Online reports whether the user has at least one live connection.
func (p *Presence) Online(userID int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.users[userID] > 0
}

// Connections returns the number of live connections of the user.
func (p *Presence) Connections(userID int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.users[userID]
}
