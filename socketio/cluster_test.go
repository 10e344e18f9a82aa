package socketio

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/socketio/adapter"
	"switchboard/socketio/parser"
)

// twoNodes is the adapter of a node in a cluster of two, the other node
// played by the test: ServerCount is 2, and a broadcast with
// acknowledgements reaches one socket of the other node, which counts it
// and answers "remote" once the test closes release. localAcked is closed
// once this node's own socket has answered and the answer was handed to
// the caller's onAck.
type twoNodes struct {
	adapter.Adapter
	release    chan struct{}
	localAcked chan struct{}
	ctx        chan context.Context // BroadcastWithAck's, when set
}

func newTwoNodes(release chan struct{}) (adapter.Factory, *twoNodes) {
	tn := &twoNodes{release: release, localAcked: make(chan struct{})}
	return func(nsp adapter.Namespace) adapter.Adapter {
		tn.Adapter = adapter.NewInMemory(nsp)
		return tn
	}, tn
}

func (tn *twoNodes) ServerCount(context.Context) (int, error) { return 2, nil }

func (tn *twoNodes) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, onCount func(int), onAck adapter.AckFunc) error {
	if tn.ctx != nil {
		tn.ctx <- ctx
	}
	acked := tn.localAcked
	local := func(id adapter.SocketID, ack *parser.Packet) {
		onAck(id, ack)
		close(acked)
	}
	if err := tn.Adapter.BroadcastWithAck(ctx, p, opts, onCount, local); err != nil {
		return err
	}
	go func() { // the other node: one recipient, which answers
		<-tn.release
		onCount(1)
		onAck("", &parser.Packet{Type: parser.Ack, Data: []byte(`["remote"]`)})
	}()
	return nil
}

// In a cluster, a broadcast with acknowledgements waits for every node to
// count its recipients (Node's emitWithAck waits for serverCount() client
// counts), not only for the acknowledgements of the sockets counted so far.
func TestBroadcastWithAckWaitsForTheCountOfEveryNode(t *testing.T) {
	release := make(chan struct{})
	factory, tn := newTwoNodes(release)
	opts := quietOptions()
	opts.Adapter = factory
	io := NewServer(opts)
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")

	type result struct {
		res []Args
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := io.Timeout(10*time.Second).EmitWithAck(context.Background(), "vote")
		done <- result{res, err}
	}()
	msg := c.ReadSkippingPings()
	c.Text("43" + msg[2:strings.IndexByte(msg, '[')] + `["local"]`)
	<-tn.localAcked // the local answer is in; the other node has not counted yet
	close(release)
	r := <-done
	if r.err != nil || len(r.res) != 2 {
		t.Fatalf("%d responses, err %v; want the local and the remote one", len(r.res), r.err)
	}
	var got []string
	for _, a := range r.res {
		v, _ := a.String(0)
		got = append(got, v)
	}
	if got[0] != "local" || got[1] != "remote" {
		t.Fatalf("responses %q", got)
	}
}

// A node that never counts its recipients is waited for until the
// deadline; the error says so.
func TestBroadcastWithAckReportsTheNodesThatDidNotCount(t *testing.T) {
	release := make(chan struct{}) // the other node answers only after the test
	t.Cleanup(func() { close(release) })
	factory, _ := newTwoNodes(release)
	opts := quietOptions()
	opts.Adapter = factory
	io := NewServer(opts)
	start(t, io)
	res, err := io.Timeout(50*time.Millisecond).EmitWithAck(context.Background(), "vote")
	if !errors.Is(err, ErrAckTimeout) || !errors.Is(err, context.DeadlineExceeded) || len(res) != 0 {
		t.Fatalf("%d responses, err %v", len(res), err)
	}
	if !strings.Contains(err.Error(), "1 of 2 servers") {
		t.Fatalf("error %q does not say a server did not count", err)
	}
}

// The adapter learns when the caller stops waiting for acknowledgements:
// the ctx given to BroadcastWithAck carries the operator's Timeout and ends
// when EmitWithAck returns, even without a deadline (all answered), so a
// cluster adapter can drop the request it keeps for the other nodes'
// answers instead of keeping it forever.
func TestBroadcastWithAckTellsTheAdapterWhenTheWaitEnds(t *testing.T) {
	release := make(chan struct{})
	close(release) // the other node answers at once
	factory, tn := newTwoNodes(release)
	tn.ctx = make(chan context.Context, 2)
	opts := quietOptions()
	opts.Adapter = factory
	io := NewServer(opts)
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	answer := func() {
		msg := c.ReadSkippingPings()
		c.Text("43" + msg[2:strings.IndexByte(msg, '[')] + `["local"]`)
	}

	// Without a deadline: all answered.
	go answer()
	if res, err := io.Of("/").EmitWithAck(context.Background(), "vote"); err != nil || len(res) != 2 {
		t.Fatalf("%d responses, err %v", len(res), err)
	}
	actx := <-tn.ctx
	if _, ok := actx.Deadline(); ok {
		t.Fatal("the adapter's ctx has a deadline the caller did not set")
	}
	if actx.Err() == nil {
		t.Fatal("the adapter's ctx is still live after EmitWithAck returned")
	}

	// With Timeout: the deadline is the adapter's too.
	tn.localAcked = make(chan struct{})
	go answer()
	if _, err := io.Timeout(time.Hour).EmitWithAck(context.Background(), "vote"); err != nil {
		t.Fatal(err)
	}
	actx = <-tn.ctx
	if d, ok := actx.Deadline(); !ok || time.Until(d) < 30*time.Minute {
		t.Fatalf("the adapter's ctx deadline %v, %v: want the operator's Timeout", d, ok)
	}
	if actx.Err() == nil {
		t.Fatal("the adapter's ctx is still live after EmitWithAck returned")
	}
}

// A broadcast with acknowledgements that comes from another node carries
// that node's ack id, which may be the id of an acknowledgement a local
// socket is waiting for (each node counts its own). The local delivery
// gives it an id of this namespace, as Node's adapter does (packet.id =
// nsp._ids++): neither answer goes to the other's waiter.
func TestRemoteBroadcastWithAckDoesNotTakeALocalAckID(t *testing.T) {
	io := NewServer(quietOptions())
	sockets := make(chan *Socket, 1)
	io.OnConnection(func(s *Socket) { sockets <- s })
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	s := <-sockets

	type result struct {
		args Args
		err  error
	}
	local := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a, err := s.EmitWithAck(ctx, "local")
		local <- result{a, err}
	}()
	msg := c.ReadSkippingPings()
	localID := msg[2:strings.IndexByte(msg, '[')]

	// What a cluster adapter does with another node's request: deliver
	// the other node's packet, its id included, to the local sockets.
	id, _ := strconv.ParseInt(localID, 10, 64)
	remote := &parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(`["remote"]`), ID: id, HasID: true}
	remoteAcks := make(chan string, 1)
	err := io.Of("/").Adapter().BroadcastWithAck(context.Background(), remote, adapter.BroadcastOptions{},
		func(int) {}, func(_ adapter.SocketID, p *parser.Packet) { remoteAcks <- string(p.Data) })
	if err != nil {
		t.Fatal(err)
	}
	msg = c.ReadSkippingPings()
	remoteID := msg[2:strings.IndexByte(msg, '[')]
	if remoteID == localID {
		t.Errorf("the remote broadcast went out with the local waiter's ack id %s", localID)
	}
	c.Text("43" + remoteID + `["to remote"]`)
	c.Text("43" + localID + `["to local"]`)
	if got := <-remoteAcks; got != `["to remote"]` {
		t.Fatalf("the remote broadcast's answer is %s", got)
	}
	r := <-local
	if v, _ := r.args.String(0); r.err != nil || v != "to local" {
		t.Fatalf("EmitWithAck: %q, %v", v, r.err)
	}
}
