package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
)

// A child process runs one worker and talks to the parent in JSON lines: requests on its stdin,
// replies (with the request's ID) on its stdout. Requests are served concurrently, so the parent
// can wait on a worker while it sends.
//
// The child is this same executable started with workerEnv=1, which also works for a test binary.
const workerEnv = "LOADGEN_WORKER"

type request struct {
	ID    int
	Op    string    // open, start, send, wait
	Open  *openReq  `json:",omitempty"`
	Send  *sendReq  `json:",omitempty"`
	Wait  *waitReq  `json:",omitempty"`
	Start *startReq `json:",omitempty"`
}

type reply struct {
	ID   int
	Err  string   `json:",omitempty"`
	Open *openRes `json:",omitempty"`
	Send *sendRes `json:",omitempty"`
	Wait *waitRes `json:",omitempty"`
}

// workerMain serves requests from stdin until it closes, then closes the connections.
func workerMain() int {
	w := &worker{}
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	respond := func(r reply) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(r)
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var wg sync.WaitGroup
	for sc.Scan() {
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen worker:", err)
			return 2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := reply{ID: req.ID}
			switch {
			case req.Op == "open" && req.Open != nil:
				res := w.open(*req.Open)
				r.Open = &res
			case req.Op == "start":
				w.start(startReq{})
			case req.Op == "send" && req.Send != nil:
				res := w.send(*req.Send)
				r.Send = &res
			case req.Op == "wait" && req.Wait != nil:
				res := w.wait(*req.Wait)
				r.Wait = &res
			default:
				r.Err = "unknown request " + req.Op
			}
			respond(r)
		}()
	}
	wg.Wait()
	w.close()
	return 0
}

// A remoteWorker is the parent's handle on one child process.
type remoteWorker struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser

	mu      sync.Mutex
	nextID  int
	pending map[int]chan reply
	dead    error
}

func startRemote() (*remoteWorker, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &remoteWorker{cmd: cmd, stdin: stdin, pending: map[int]chan reply{}}
	go r.readReplies(stdout)
	return r, nil
}

func (r *remoteWorker) readReplies(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var rep reply
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			continue
		}
		r.mu.Lock()
		ch := r.pending[rep.ID]
		delete(r.pending, rep.ID)
		r.mu.Unlock()
		if ch != nil {
			ch <- rep
		}
	}
	r.mu.Lock()
	r.dead = errors.New("loadgen: worker process exited")
	for id, ch := range r.pending {
		ch <- reply{ID: id, Err: r.dead.Error()}
		delete(r.pending, id)
	}
	r.mu.Unlock()
}

func (r *remoteWorker) call(req request) reply {
	ch := make(chan reply, 1)
	r.mu.Lock()
	if r.dead != nil {
		r.mu.Unlock()
		return reply{Err: r.dead.Error()}
	}
	r.nextID++
	req.ID = r.nextID
	r.pending[req.ID] = ch
	b, _ := json.Marshal(req)
	_, err := r.stdin.Write(append(b, '\n'))
	r.mu.Unlock()
	if err != nil {
		return reply{Err: err.Error()}
	}
	return <-ch
}

func (r *remoteWorker) open(req openReq) openRes {
	rep := r.call(request{Op: "open", Open: &req})
	if rep.Open == nil {
		return openRes{Failed: req.N, FirstErr: rep.Err}
	}
	return *rep.Open
}

func (r *remoteWorker) start(req startReq) { r.call(request{Op: "start", Start: &req}) }

func (r *remoteWorker) send(req sendReq) sendRes {
	rep := r.call(request{Op: "send", Send: &req})
	if rep.Send == nil {
		return sendRes{Err: rep.Err}
	}
	return *rep.Send
}

func (r *remoteWorker) wait(req waitReq) waitRes {
	rep := r.call(request{Op: "wait", Wait: &req})
	if rep.Wait == nil {
		return waitRes{}
	}
	return *rep.Wait
}

// close ends the child: closing its stdin makes it close its connections and exit.
func (r *remoteWorker) close() {
	r.stdin.Close()
	r.cmd.Wait()
}

func (r *remoteWorker) pid() int { return r.cmd.Process.Pid }
