package socketio

// NextAckID implements adapter.Namespace: a fresh acknowledgement id of
// the namespace, from the counter its sockets' EmitWithAck use, for a
// packet an adapter gives to DeliverWithAck (one from another node of a
// cluster carries that node's id, which a local socket may be waiting on).
func (n *Namespace) NextAckID() int64 { return n.nextAckID() }
