package interop

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// report is one line a Node script printed: something it observed.
type report struct {
	T           string            `json:"t"` // ready, open, upgrade, connect, event, ack, disconnect…
	C           string            `json:"c"` // the client (socket) name
	Event       string            `json:"event"`
	Args        []json.RawMessage `json:"args"`
	Ack         bool              `json:"ack"` // event: the server asked for an acknowledgement
	Seq         int               `json:"seq"`
	Error       *string           `json:"error"`
	Reason      string            `json:"reason"`
	Message     string            `json:"message"`
	Data        json.RawMessage   `json:"data"`
	Active      *bool             `json:"active"`
	Transport   string            `json:"transport"`
	Name        string            `json:"name"`
	Connected   bool              `json:"connected"`
	Sid         string            `json:"sid"`
	Eid         string            `json:"eid"` // connect: the Engine.IO session id
	N           int               `json:"n"`
	Text        string            `json:"text"`
	Description string            `json:"description"`

	line string
}

func (r *report) String() string {
	if len(r.line) > 300 {
		return r.line[:300] + "…"
	}
	return r.line
}

// arg decodes argument i of an event or ack report (see canon).
func (r *report) arg(t *testing.T, i int) any {
	t.Helper()
	if i >= len(r.Args) {
		t.Fatalf("report has %d arguments, want argument %d: %s", len(r.Args), i, r)
	}
	var v any
	if err := json.Unmarshal(r.Args[i], &v); err != nil {
		t.Fatalf("argument %d of %s: %v", i, r, err)
	}
	return v
}

// node is a running Node script (js/*.mjs) and what it reported so far.
type node struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when the process has exited

	timeout time.Duration // of each wait for a report (default waitTimeout)
	grace   time.Duration // for exiting after stdin closes, before SIGKILL (default 2 s)

	mu       sync.Mutex
	reports  []*report
	consumed []bool
	changed  chan struct{} // closed and replaced on every new report
	stderr   lockedBuffer
	seq      int
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startNode runs script (a file of js/) with args. The process is ended when
// the test ends: stdin closed (the script disconnects and exits), then
// SIGKILL if it lingers.
func startNode(t *testing.T, script string, args ...string) *node {
	t.Helper()
	requireNode(t)
	cmd := exec.Command(nodeBin, append([]string{"js/" + script}, args...)...)
	n := &node{t: t, name: script, cmd: cmd, done: make(chan struct{}), changed: make(chan struct{}),
		timeout: waitTimeout, grace: 2 * time.Second}
	cmd.Stderr = &n.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if n.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node %s: %v", script, err)
	}
	go n.read(stdout)
	t.Cleanup(n.stop)
	n.waitFor(t, "ready", func(r *report) bool { return r.T == "ready" })
	return n
}

// read collects the script's reports until its stdout closes, then waits
// for the process.
func (n *node) read(stdout io.Reader) {
	defer close(n.done)
	r := bufio.NewReaderSize(stdout, 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			rep := &report{line: string(bytes.TrimSpace(line))}
			if jerr := json.Unmarshal(line, rep); jerr != nil {
				rep = &report{T: "error", Message: fmt.Sprintf("unparsable output line: %v", jerr), line: rep.line}
			}
			n.mu.Lock()
			n.reports = append(n.reports, rep)
			n.consumed = append(n.consumed, false)
			close(n.changed)
			n.changed = make(chan struct{})
			n.mu.Unlock()
		}
		if err != nil {
			break
		}
	}
	_ = n.cmd.Wait()
}

func (n *node) stop() {
	_ = n.stdin.Close()
	select {
	case <-n.done:
	case <-time.After(n.grace):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
	if n.t.Failed() {
		n.mu.Lock()
		var lines []string
		for _, r := range n.reports {
			lines = append(lines, r.String())
		}
		n.mu.Unlock()
		n.t.Logf("node %s reported:\n%s", n.name, strings.Join(lines, "\n"))
		if s := n.stderr.String(); s != "" {
			n.t.Logf("node %s stderr:\n%s", n.name, s)
		}
	}
}

// signal sends sig to the script's process (SIGKILL, SIGSTOP…).
func (n *node) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := n.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// exited waits for the process to end.
func (n *node) exited(t *testing.T) {
	t.Helper()
	select {
	case <-n.done:
	case <-time.After(waitTimeout):
		t.Fatalf("node %s did not exit", n.name)
	}
}

// send writes one command; binary values ([]byte) travel as {"$bin"}.
func (n *node) send(t *testing.T, cmd map[string]any) {
	t.Helper()
	b, err := json.Marshal(wire(cmd))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("writing to node %s: %v (stderr: %s)", n.name, err, n.stderr.String())
	}
}

// clientOpts configure a socket of the Node client.
type clientOpts struct {
	Opts    map[string]any   // socket.io-client options (transports, auth, reconnectionDelay…)
	Replies map[string]reply // how to answer events the server emits with an ack
	// SameManagerAs opens the namespace on the connection of that socket.
	SameManagerAs string
	// RetryAuth: on the first connect_error, set socket.auth to it and
	// connect again at once (from the connect_error handler).
	RetryAuth map[string]any
	// AuthSeq makes auth a function: its i-th call (one per CONNECT)
	// answers AuthSeq[i], the last one from then on.
	AuthSeq []map[string]any
	// Quiet: the socket does not report the events it receives (a sender
	// among many, whose thousands of reports only slow the test down).
	Quiet bool
}

// reply says how the client answers an event the server emitted with an ack.
type reply struct {
	Args  []any `json:"args,omitempty"`
	Echo  bool  `json:"echo,omitempty"`
	Delay int   `json:"delay,omitempty"` // ms
}

// connect makes socket c connect to url (http://host:port/namespace).
func (n *node) connect(t *testing.T, c, url string, o clientOpts) {
	t.Helper()
	cmd := map[string]any{"op": "connect", "c": c, "url": url}
	if o.Opts != nil {
		cmd["opts"] = o.Opts
	}
	if o.Replies != nil {
		replies := map[string]any{}
		for ev, r := range o.Replies {
			replies[ev] = map[string]any{"args": r.Args, "echo": r.Echo, "delay": r.Delay}
		}
		cmd["replies"] = replies
	}
	if o.RetryAuth != nil {
		cmd["retryAuth"] = o.RetryAuth
	}
	if o.AuthSeq != nil {
		cmd["authSeq"] = o.AuthSeq
	}
	if o.Quiet {
		cmd["quiet"] = true
	}
	if o.SameManagerAs != "" {
		cmd["sameManagerAs"] = o.SameManagerAs
		cmd["nsp"] = url
	}
	n.send(t, cmd)
}

// connected connects socket c and waits for its connect report.
func (n *node) connected(t *testing.T, c, url string, o clientOpts) *report {
	t.Helper()
	n.connect(t, c, url, o)
	return n.want(t, "connect", c)
}

// emit makes socket c emit event with args, without acknowledgement.
func (n *node) emit(t *testing.T, c, event string, args ...any) {
	t.Helper()
	n.send(t, map[string]any{"op": "emit", "c": c, "event": event, "args": nonNil(args)})
}

// emitAck makes socket c emit event with a callback and returns the
// sequence number of its ack report. With timeout > 0 the client uses
// socket.timeout(ms) and the report carries the timeout error.
func (n *node) emitAck(t *testing.T, c string, timeout time.Duration, event string, args ...any) int {
	t.Helper()
	n.mu.Lock()
	n.seq++
	seq := n.seq
	n.mu.Unlock()
	n.send(t, map[string]any{"op": "emit", "c": c, "event": event, "args": nonNil(args), "ack": true, "seq": seq, "timeout": timeout.Milliseconds()})
	return seq
}

// emitFlags are the client's emit modifiers (see emitFlagged).
type emitFlags struct {
	Volatile bool          // socket.volatile
	Compress *bool         // socket.compress(…)
	Timeout  time.Duration // socket.timeout(ms)
	Ack      bool          // a callback as last argument
	WithAck  bool          // socket.emitWithAck (a Promise)
}

// emitFlagged makes socket c emit event with the modifiers f and returns
// the sequence number of its ack report (when f asks for one).
func (n *node) emitFlagged(t *testing.T, c string, f emitFlags, event string, args ...any) int {
	t.Helper()
	n.mu.Lock()
	n.seq++
	seq := n.seq
	n.mu.Unlock()
	cmd := map[string]any{"op": "emit", "c": c, "event": event, "args": nonNil(args), "seq": seq,
		"ack": f.Ack, "withAck": f.WithAck, "volatile": f.Volatile, "timeout": f.Timeout.Milliseconds()}
	if f.Compress != nil {
		cmd["compress"] = *f.Compress
	}
	n.send(t, cmd)
	return seq
}

// ackOf waits for the ack report of the emitAck with sequence number seq.
func (n *node) ackOf(t *testing.T, c string, seq int) *report {
	t.Helper()
	return n.waitFor(t, fmt.Sprintf("ack %d of %s", seq, c), func(r *report) bool {
		return r.T == "ack" && r.C == c && r.Seq == seq
	})
}

func nonNil(args []any) []any {
	if args == nil {
		return []any{}
	}
	return args
}

// transport asks the client which transport socket c's engine uses now.
func (n *node) transport(t *testing.T, c string) *report {
	t.Helper()
	n.send(t, map[string]any{"op": "transport", "c": c})
	return n.want(t, "transport", c)
}

// want waits for the first unconsumed report of type typ from socket c.
func (n *node) want(t *testing.T, typ, c string) *report {
	t.Helper()
	return n.waitFor(t, typ+" of "+c, func(r *report) bool { return r.T == typ && r.C == c })
}

// event waits for the first unconsumed event report named event for c.
func (n *node) event(t *testing.T, c, event string) *report {
	t.Helper()
	return n.waitFor(t, fmt.Sprintf("event %q for %s", event, c), func(r *report) bool {
		return r.T == "event" && r.C == c && r.Event == event
	})
}

// waitFor returns the first unconsumed report matching match and marks it
// consumed, waiting up to n.timeout. An "error" report of the script, or
// its exit, fails the test.
func (n *node) waitFor(t *testing.T, what string, match func(*report) bool) *report {
	t.Helper()
	deadline := time.NewTimer(n.timeout)
	defer deadline.Stop()
	for {
		n.mu.Lock()
		changed := n.changed
		for i, r := range n.reports {
			if r.T == "error" {
				n.mu.Unlock()
				t.Fatalf("node %s: %s", n.name, r)
			}
			if !n.consumed[i] && match(r) {
				n.consumed[i] = true
				n.mu.Unlock()
				return r
			}
		}
		n.mu.Unlock()
		select {
		case <-changed:
		case <-n.done:
			n.mu.Lock()
			more := n.changed != changed
			n.mu.Unlock()
			if !more {
				t.Fatalf("node %s exited while waiting for %s", n.name, what)
			}
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for node %s to report %s", n.timeout, n.name, what)
		}
	}
}

// none fails the test if a report matching match arrives (or is already
// unconsumed) within d.
func (n *node) none(t *testing.T, d time.Duration, what string, match func(*report) bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		n.mu.Lock()
		changed := n.changed
		for i, r := range n.reports {
			if !n.consumed[i] && match(r) {
				n.mu.Unlock()
				t.Fatalf("node %s reported %s: %s", n.name, what, r)
			}
		}
		n.mu.Unlock()
		select {
		case <-changed:
		case <-n.done:
			return
		case <-deadline.C:
			return
		}
	}
}

// eventsUntil returns, in order, the event reports for socket c up to (not
// including) the event named until, consuming them and it.
func (n *node) eventsUntil(t *testing.T, c, until string) []*report {
	t.Helper()
	var got []*report
	for {
		r := n.waitFor(t, fmt.Sprintf("events for %s until %q", c, until), func(r *report) bool {
			return r.T == "event" && r.C == c
		})
		if r.Event == until {
			return got
		}
		got = append(got, r)
	}
}

// Binary values in JSON lines: {"$bin": base64}.

// bin is how a []byte travels in commands and reports.
func bin(b []byte) map[string]any {
	return map[string]any{"$bin": base64.StdEncoding.EncodeToString(b)}
}

// wire replaces []byte (at any depth of maps and slices) with bin.
func wire(v any) any {
	switch x := v.(type) {
	case []byte:
		return bin(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = wire(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = wire(e)
		}
		return out
	default:
		return v
	}
}

// canon is v as a report carries it, decoded with encoding/json: []byte as
// {"$bin": base64} (the "$type" the script adds is dropped by dropTypes).
func canon(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(wire(v))
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// dropTypes removes the "$type" of binary values, so that they compare with
// canon's.
func dropTypes(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = dropTypes(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k == "$type" {
				if _, ok := x["$bin"]; ok {
					continue
				}
			}
			out[k] = dropTypes(e)
		}
		return out
	default:
		return v
	}
}

// binType returns the JavaScript type of a binary value in a report.
func binType(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	s, _ := m["$type"].(string)
	return s
}

// binBytes decodes a binary value of a report.
func binBytes(t *testing.T, v any) []byte {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not a binary value: %#v", v)
	}
	s, ok := m["$bin"].(string)
	if !ok {
		t.Fatalf("not a binary value: %#v", v)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameArgs checks that a report's arguments are want (Go values, []byte for
// binary ones).
func sameArgs(t *testing.T, r *report, want ...any) {
	t.Helper()
	got := make([]any, len(r.Args))
	for i := range r.Args {
		got[i] = dropTypes(r.arg(t, i))
	}
	if w := canon(t, nonNil(want)); !reflect.DeepEqual(got, w) {
		t.Fatalf("arguments differ\n got: %s\nwant: %s", short(got), short(w))
	}
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 400 {
		return string(b[:400]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return string(b)
}
