// Package adapter defines how a Socket.IO namespace tracks rooms and reaches
// sockets (Node's socket.io-adapter), and provides the in-memory default.
// A cluster adapter (Redis, later) implements the same interface: it
// overrides what needs the network and reaches local sockets through the
// same Namespace view.
//
// Applications seldom use this package directly: package socketio creates
// one Adapter per namespace with Options.Adapter (default NewInMemory) and
// calls it for rooms, broadcasts and bulk operations. An implementation is
// called from many goroutines at once; only the methods that take a
// context.Context may wait for other nodes.
package adapter

import (
	"context"
	"time"

	"switchboard/socketio/parser"
)

// SocketID identifies a socket within its namespace (20 URL-safe characters).
// Every socket is implicitly in the room named by its id.
type SocketID = string

// Room names a group of sockets.
type Room = string

// BroadcastFlags modify a broadcast.
type BroadcastFlags struct {
	// Volatile drops the packet for clients that cannot take it right now.
	Volatile bool
	// Local restricts a cluster broadcast to this node.
	Local bool
	// Uncompressed sends without compression (Node's compress(false);
	// on the wire of Node's cluster adapters, compress: false).
	Uncompressed bool
	// Timeout bounds how long a broadcast with acknowledgements waits.
	Timeout time.Duration
}

// BroadcastOptions select the recipients of an operation: the sockets in any
// of Rooms (every socket when Rooms is empty) and in none of Except.
// Adapters must not modify the slices.
type BroadcastOptions struct {
	Rooms  []Room         // the sockets in any of these (all when empty)
	Except []Room         // minus the sockets in any of these
	Flags  BroadcastFlags // how to send
}

// SocketInfo describes a socket for FetchSockets.
type SocketInfo struct {
	ID        SocketID
	Rooms     []Room
	Handshake any // the namespace's handshake value (*socketio.Handshake locally)
	Data      any // the socket's user data
}

// AckFunc receives one client's acknowledgement of a broadcast: the ACK
// packet (Data is the JSON array of arguments, plus binary attachments).
type AckFunc func(id SocketID, ack *parser.Packet)

// Namespace is the adapter's view of its namespace, implemented by the
// socketio package: how to reach the sockets of this node.
type Namespace interface {
	// Name returns the namespace name ("/", "/chat").
	Name() string
	// Deliver sends the packets, in order, to the given local sockets; it
	// encodes each once, and a socket gets either all of them or none (it
	// disconnected, or Flags.Volatile and it could not take them at once),
	// queued in one step so that no other packet comes between them. It
	// must not block on the network.
	Deliver(ps []*parser.Packet, ids []SocketID, flags BroadcastFlags)
	// DeliverWithAck gives p (which carries an ack id) to the given local
	// sockets and routes each one's acknowledgement to onAck. It returns how
	// many sockets it gave p to: ids of sockets that are gone or disconnecting
	// are skipped, and an acknowledgement is expected from the others only.
	DeliverWithAck(p *parser.Packet, ids []SocketID, flags BroadcastFlags, onAck AckFunc) int
	// Disconnect disconnects the given local sockets; with close, their
	// whole connections.
	Disconnect(ids []SocketID, close bool)
	// SocketInfo describes a local socket.
	SocketInfo(id SocketID) (SocketInfo, bool)
	// NextAckID returns a fresh acknowledgement id of the namespace, the
	// counter of its sockets' EmitWithAck too (Node's nsp._ids): a packet
	// given to DeliverWithAck carries one, never another node's.
	NextAckID() int64
}

// Adapter keeps a namespace's rooms and performs operations on sets of
// sockets. Implementations are safe for concurrent use.
type Adapter interface {
	// AddAll adds the socket to the rooms (its own id included: every socket
	// joins the room named by its id on connection).
	AddAll(id SocketID, rooms []Room)
	// Del removes the socket from a room.
	Del(id SocketID, room Room)
	// DelAll removes the socket from every room (on disconnection).
	DelAll(id SocketID)
	// SocketRooms returns the rooms of a local socket, its own id first; nil
	// when the socket is unknown.
	SocketRooms(id SocketID) []Room
	// Sockets returns the ids of the sockets in any of rooms (all when empty).
	Sockets(ctx context.Context, rooms []Room) ([]SocketID, error)
	// Broadcast sends the packets, in order, to the selected sockets (one
	// packet for Emit, several for EmitMany): the recipients are selected
	// once for all of them, and each gets all of them or none (see
	// Namespace.Deliver). A cluster adapter publishes them to the other
	// nodes in the same order, one message per packet as Node's wire
	// carries them (there, each packet is delivered on its own).
	Broadcast(ps []*parser.Packet, opts BroadcastOptions) error
	// BroadcastWithAck sends p to the selected sockets, asking for their
	// acknowledgements. Each node delivers p under an ack id of its own
	// namespace (Namespace.NextAckID), whatever id p carries (none from
	// socketio; another node's, from a cluster): it never takes the id of
	// an acknowledgement a local socket is waiting for.
	// Each node that handles p — this one, and in a cluster each of the
	// others, unless Flags.Local — calls onCount exactly once with the
	// number of its sockets p reached (0 when none): the caller waits for
	// ServerCount such calls, then for that many acknowledgements. onAck
	// receives each acknowledgement, which may come before its node's
	// count; the id is "" when the node does not tell it (Node's cluster
	// messages carry no socket id), and a nil packet means that socket
	// disconnected without answering. ctx ends when the caller stops
	// waiting (all answered, or its deadline — which bounds the wait — or
	// cancellation): an adapter that keeps the request for other nodes'
	// answers drops it then (Node's cluster adapters use flags.timeout);
	// later calls of onCount and onAck are ignored. It must not block on
	// the network.
	BroadcastWithAck(ctx context.Context, p *parser.Packet, opts BroadcastOptions, onCount func(n int), onAck AckFunc) error
	// FetchSockets describes the selected sockets.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error)
	// AddSockets makes the selected sockets join rooms.
	AddSockets(opts BroadcastOptions, rooms []Room) error
	// DelSockets makes the selected sockets leave rooms.
	DelSockets(opts BroadcastOptions, rooms []Room) error
	// DisconnectSockets disconnects the selected sockets (with close, their
	// connections).
	DisconnectSockets(opts BroadcastOptions, close bool) error
	// ServerSideEmit sends an event to the other nodes of a cluster; a
	// single-node adapter has nobody to send it to.
	ServerSideEmit(ctx context.Context, p *parser.Packet) error
	// ServerCount returns the number of nodes (1 for a single node).
	ServerCount(ctx context.Context) (int, error)
	// Close releases the adapter's resources.
	Close() error
}

// Factory creates the adapter of a namespace.
type Factory func(nsp Namespace) Adapter
