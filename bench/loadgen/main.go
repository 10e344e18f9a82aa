// Command loadgen is Switchboard's load generator: it speaks Socket.IO (Engine.IO v4 over
// WebSocket) at the wire level to a chat-style server and measures what the server costs.
//
// It opens N connections (spread over source addresses 127.0.0.2… and, past -per-proc
// connections, over child processes), joins namespace "/" on each, answers every Engine.IO ping,
// and in the broadcast scenarios sends 42["chat message","<unix ns> <seq>"] on one connection and
// counts the 42["chat message",{...}] every connection receives. The server's RSS and CPU time
// come from /proc/PID of the process listening on the target port (or -pid).
//
// Scenarios:
//
//	idle   open N, idle a few seconds, report server RSS per connection
//	open   open N, report connections opened per second
//	flood  R receivers; one of them sends M messages as fast as it can; report deliveries/s,
//	       server CPU per delivery, latency p50/p99/max, lost messages
//	paced  as flood, but messages at -rate per second
//	smoke  flood with 200 connections and 10 messages, for tests
//
// Output: a human-readable summary, then one JSON line (also appended to -json FILE).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

func main() {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(workerMain())
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if cfg.CPUProf != "" {
		f, err := os.Create(cfg.CPUProf)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	res, err := run(cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	if res.Lost > 0 || res.OpenFailed > 0 {
		pprof.StopCPUProfile()
		os.Exit(3)
	}
}

// config is everything one run needs; parseFlags documents each field's flag.
type config struct {
	Scenario  string
	Addr      string
	Path      string
	Transport string
	Reader    string
	Loops     int
	Cookie    string
	N         int
	M         int
	Rate      float64
	Size      int
	Conc      int
	Procs     int
	PerProc   int
	Sources   int
	PID       int
	Idle      time.Duration
	Settle    time.Duration
	Timeout   time.Duration
	Label     string
	JSONFile  string
	Quiet     bool
	CPUProf   string
}

var scenarioDefaults = map[string]struct{ n, m int }{
	"idle":  {10000, 0},
	"open":  {10000, 0},
	"flood": {1000, 300},
	"paced": {5000, 100},
	"smoke": {200, 10},
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&c.Scenario, "scenario", "smoke", "idle, open, flood, paced or smoke")
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:3000", "server host:port")
	fs.StringVar(&c.Transport, "transport", "websocket", "websocket or polling (HTTP long-polling: two TCP connections per socket)")
	defReader := "goroutine"
	if epollAvailable {
		defReader = "epoll"
	}
	fs.StringVar(&c.Reader, "reader", defReader, "how WebSocket connections are read after their handshakes: epoll (a few epoll loops, Linux) or goroutine (one per connection)")
	fs.StringVar(&c.Cookie, "cookie", "", "Cookie header for the handshakes, e.g. 'switchboard_session=…' to measure the chat program itself")
	fs.IntVar(&c.Loops, "loops", 1, "epoll loops per process, with -reader epoll")
	fs.StringVar(&c.Path, "path", "", "request path (default /socket.io/?EIO=4&transport=<transport>)")
	fs.IntVar(&c.N, "n", 0, "connections (default: idle/open 10000, flood 1000, paced 5000, smoke 200)")
	fs.IntVar(&c.M, "m", 0, "messages to send (default: flood 300, paced 100, smoke 10)")
	fs.Float64Var(&c.Rate, "rate", 10, "paced: messages per second")
	fs.IntVar(&c.Size, "size", 0, "pad each message text to at least this many bytes")
	fs.IntVar(&c.Conc, "conc", 100, "handshakes in flight at once (per process)")
	fs.IntVar(&c.Procs, "procs", 0, "worker processes (0: one per -per-proc connections; 1 with fewer runs in-process)")
	fs.IntVar(&c.PerProc, "per-proc", 15000, "most connections one worker process holds")
	fs.IntVar(&c.Sources, "sources", 16, "bind local addresses 127.0.0.2… round-robin (0: let the kernel pick)")
	fs.IntVar(&c.PID, "pid", 0, "server process to measure (0: the process listening on -addr's port)")
	fs.DurationVar(&c.Idle, "idle", 5*time.Second, "idle: time to wait after opening before reading RSS")
	fs.DurationVar(&c.Settle, "settle", time.Second, "flood/paced: pause between opening and sending")
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "flood/paced: wait this long after the last send for deliveries; open: per connection")
	fs.StringVar(&c.Label, "label", "", "name of the server, copied into the output")
	fs.StringVar(&c.JSONFile, "json", "", "append the JSON result line to this file")
	fs.BoolVar(&c.Quiet, "q", false, "print only the JSON line")
	fs.StringVar(&c.CPUProf, "cpuprofile", "", "write the load generator's own CPU profile (in-process workers only) to this file")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	d, ok := scenarioDefaults[c.Scenario]
	if !ok {
		return c, fmt.Errorf("loadgen: unknown scenario %q", c.Scenario)
	}
	if c.Transport != "websocket" && c.Transport != "polling" {
		return c, fmt.Errorf("loadgen: unknown transport %q (websocket or polling)", c.Transport)
	}
	if c.Reader != "epoll" && c.Reader != "goroutine" {
		return c, fmt.Errorf("loadgen: unknown reader %q (epoll or goroutine)", c.Reader)
	}
	if c.Reader == "epoll" && !epollAvailable {
		return c, fmt.Errorf("loadgen: -reader epoll needs Linux")
	}
	if c.Path == "" {
		c.Path = "/socket.io/?EIO=4&transport=" + c.Transport
	}
	if c.N == 0 {
		c.N = d.n
	}
	if c.M == 0 {
		c.M = d.m
	}
	if c.Scenario == "smoke" {
		c.Settle = min(c.Settle, 100*time.Millisecond)
	}
	return c, nil
}

// result is the JSON line. Durations are in the unit their name says; zero means not measured.
type result struct {
	Scenario   string  `json:"scenario"`
	Label      string  `json:"label,omitempty"`
	Addr       string  `json:"addr"`
	ServerPID  int     `json:"server_pid"`
	Conns      int     `json:"conns"`
	Messages   int     `json:"messages,omitempty"`
	Rate       float64 `json:"rate,omitempty"`
	Procs      int     `json:"procs"`
	Reader     string  `json:"reader,omitempty"`
	Opened     int     `json:"opened"`
	OpenFailed int     `json:"open_failed"`
	OpenError  string  `json:"open_error,omitempty"`
	OpenSec    float64 `json:"open_s"`
	OpensPerS  float64 `json:"opens_per_s"`

	RSSBeforeKB  int64   `json:"rss_before_kb"`
	RSSAfterKB   int64   `json:"rss_after_kb"`
	RSSPerConnKB float64 `json:"rss_per_conn_kb,omitempty"`

	Expected       int64   `json:"expected,omitempty"`
	Received       int64   `json:"received,omitempty"`
	Lost           int64   `json:"lost,omitempty"`
	Disconnected   int64   `json:"disconnected,omitempty"` // connections the server closed (or that failed) before the end
	SendSec        float64 `json:"send_s,omitempty"`
	DeliverSec     float64 `json:"deliver_s,omitempty"`
	DeliveriesPerS float64 `json:"deliveries_per_s,omitempty"`
	ServerCPUSec   float64 `json:"server_cpu_s,omitempty"`
	CPUUsPerDeliv  float64 `json:"server_cpu_us_per_delivery,omitempty"`
	WritesPerDeliv float64 `json:"server_writes_per_delivery,omitempty"` // write/writev calls (syscw), not sendmsg
	ClientCPUSec   float64 `json:"client_cpu_s,omitempty"`
	ClientUsPerDel float64 `json:"client_cpu_us_per_delivery,omitempty"`
	P50ms          float64 `json:"p50_ms,omitempty"`
	P99ms          float64 `json:"p99_ms,omitempty"`
	Maxms          float64 `json:"max_ms,omitempty"`
	SendError      string  `json:"send_error,omitempty"`

	// CPU the rest of the machine used during the measured window (opening for idle/open, the
	// broadcast for flood/paced): a shared machine's noise. Compare runs only when it is small.
	OtherCPUSec  float64 `json:"other_cpu_s"`
	OtherCPUFrac float64 `json:"other_cpu_frac"`
}

// handle is a worker in this process or in a child process.
type handle interface {
	open(openReq) openRes
	start(startReq)
	send(sendReq) sendRes
	wait(waitReq) waitRes
	close()
	pid() int
}

// run performs one scenario and writes the summary and the JSON line to out.
func run(cfg config, out io.Writer) (result, error) {
	res := result{Scenario: cfg.Scenario, Label: cfg.Label, Addr: cfg.Addr, Conns: cfg.N, Reader: cfg.Reader}
	if cfg.Scenario == "flood" || cfg.Scenario == "paced" || cfg.Scenario == "smoke" {
		res.Messages = cfg.M
		if cfg.Scenario == "paced" {
			res.Rate = cfg.Rate
		}
	}
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return res, err
	}
	pid := cfg.PID
	if pid == 0 {
		port, _ := strconv.Atoi(portStr)
		pid = listenerPID(port)
	}
	res.ServerPID = pid

	var sources []string
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil && ip.IsLoopback() {
		for i := range cfg.Sources {
			sources = append(sources, fmt.Sprintf("127.0.0.%d", 2+i%250))
		}
	}

	procs := cfg.Procs
	if procs <= 0 {
		procs = (cfg.N + cfg.PerProc - 1) / cfg.PerProc
	}
	procs = max(procs, 1)
	res.Procs = procs
	workers := make([]handle, procs)
	if procs == 1 {
		workers[0] = &worker{}
	} else {
		for i := range workers {
			r, err := startRemote()
			if err != nil {
				for _, w := range workers[:i] {
					w.close()
				}
				return res, err
			}
			workers[i] = r
		}
	}
	defer func() {
		for _, w := range workers {
			w.close()
		}
	}()

	// Open: every worker opens its share at once.
	res.RSSBeforeKB, _ = rssKB(pid)
	shares := make([]int, procs)
	for i := range shares {
		shares[i] = cfg.N / procs
		if i < cfg.N%procs {
			shares[i]++
		}
	}
	openTimeout := 10 * time.Second
	if cfg.Scenario == "open" || cfg.Scenario == "idle" {
		openTimeout = cfg.Timeout
	}
	pids := []int{pid}
	for _, w := range workers {
		pids = append(pids, w.pid())
	}
	win := startCPUWindow(pids...)
	t0 := time.Now()
	opened := make([]openRes, procs)
	each(workers, func(i int, w handle) {
		first := 0
		for _, s := range shares[:i] {
			first += s
		}
		opened[i] = w.open(openReq{
			Addr: cfg.Addr, Path: cfg.Path, Polling: cfg.Transport == "polling", N: shares[i], Conc: cfg.Conc, Sources: sources,
			First: first, Timeout: openTimeout, Deadline: t0.Add(10 * time.Minute), Reader: cfg.Reader, Loops: cfg.Loops, Cookie: cfg.Cookie,
		})
	})
	res.OpenSec = time.Since(t0).Seconds()
	for _, o := range opened {
		res.Opened += o.Opened
		res.OpenFailed += o.Failed
		if res.OpenError == "" {
			res.OpenError = o.FirstErr
		}
	}
	res.OpensPerS = float64(res.Opened) / res.OpenSec
	res.OtherCPUSec, res.OtherCPUFrac = win.other()

	switch cfg.Scenario {
	case "idle":
		time.Sleep(cfg.Idle)
		fallthrough
	case "open":
		res.RSSAfterKB, _ = rssKB(pid)
		if res.Opened > 0 && pid > 0 {
			res.RSSPerConnKB = float64(res.RSSAfterKB-res.RSSBeforeKB) / float64(res.Opened)
		}
	default:
		res.RSSAfterKB, _ = rssKB(pid)
		if opened[0].Opened == 0 {
			return res, fmt.Errorf("no connection to send on: %s", opened[0].FirstErr)
		}
		broadcast(cfg, workers, opened, pids, &res)
	}
	report(out, cfg, res)
	return res, nil
}

// broadcast runs the flood or paced measurement on opened connections.
func broadcast(cfg config, workers []handle, opened []openRes, pids []int, res *result) {
	pid := pids[0]
	time.Sleep(cfg.Settle)
	each(workers, func(_ int, w handle) { w.start(startReq{}) })
	rate := 0.0
	if cfg.Scenario == "paced" {
		rate = cfg.Rate
	}
	win := startCPUWindow(pids...)
	cpu0, _ := cpuTime(pid)
	w0 := writeSyscalls(pid)
	sendFor := time.Duration(0)
	if rate > 0 {
		sendFor = time.Duration(float64(cfg.M) / rate * float64(time.Second))
	}
	deadline := time.Now().Add(sendFor + cfg.Timeout)

	sent := make(chan sendRes, 1)
	go func() { sent <- workers[0].send(sendReq{M: cfg.M, Rate: rate, Size: cfg.Size}) }()
	waits := make([]waitRes, len(workers))
	each(workers, func(i int, w handle) {
		waits[i] = w.wait(waitReq{Expected: int64(opened[i].Opened) * int64(cfg.M), Deadline: deadline})
	})
	cpu1, _ := cpuTime(pid)
	w1 := writeSyscalls(pid)
	res.OtherCPUSec, res.OtherCPUFrac = win.other()
	s := <-sent
	res.SendError = s.Err
	res.SendSec = s.Duration.Seconds()

	var h histogram
	var last int64
	var client time.Duration
	for _, wr := range waits {
		res.Received += wr.Received
		last = max(last, wr.LastRecv)
		h.merge(wr.Hist)
		client += wr.CPU
		res.Disconnected += wr.Dropped
	}
	res.Expected = int64(res.Opened) * int64(cfg.M)
	res.Lost = res.Expected - res.Received
	if last > s.Start {
		res.DeliverSec = float64(last-s.Start) / 1e9
		res.DeliveriesPerS = float64(res.Received) / res.DeliverSec
	}
	if pid > 0 {
		res.ServerCPUSec = (cpu1 - cpu0).Seconds()
	}
	res.ClientCPUSec = client.Seconds()
	if res.Received > 0 {
		res.CPUUsPerDeliv = res.ServerCPUSec * 1e6 / float64(res.Received)
		res.ClientUsPerDel = res.ClientCPUSec * 1e6 / float64(res.Received)
		res.WritesPerDeliv = float64(w1-w0) / float64(res.Received)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.P50ms, res.P99ms, res.Maxms = ms(h.quantile(0.50)), ms(h.quantile(0.99)), ms(h.max())
}

// each calls f for every worker concurrently and waits for all.
func each(workers []handle, f func(int, handle)) {
	done := make(chan struct{}, len(workers))
	for i, w := range workers {
		go func() { f(i, w); done <- struct{}{} }()
	}
	for range workers {
		<-done
	}
}

func report(out io.Writer, cfg config, r result) {
	if !cfg.Quiet {
		name := r.Label
		if name == "" {
			name = r.Addr
		}
		fmt.Fprintf(out, "%s %s: %d connections (%d failed) in %d process(es), server pid %d\n",
			r.Scenario, name, r.Opened, r.OpenFailed, r.Procs, r.ServerPID)
		if r.OpenError != "" {
			fmt.Fprintf(out, "  first open error: %s\n", r.OpenError)
		}
		fmt.Fprintf(out, "  opened in %.2fs: %.0f connections/s\n", r.OpenSec, r.OpensPerS)
		fmt.Fprintf(out, "  server RSS %d KiB → %d KiB", r.RSSBeforeKB, r.RSSAfterKB)
		if r.RSSPerConnKB != 0 {
			fmt.Fprintf(out, ": %.2f KiB per connection", r.RSSPerConnKB)
		}
		fmt.Fprintln(out)
		if r.Expected > 0 {
			fmt.Fprintf(out, "  %d messages sent in %.2fs; %d/%d deliveries (%d lost) in %.2fs: %.0f deliveries/s\n",
				r.Messages, r.SendSec, r.Received, r.Expected, r.Lost, r.DeliverSec, r.DeliveriesPerS)
			fmt.Fprintf(out, "  server CPU %.2fs: %.2f µs and %.2f write/writev calls (not sendmsg) per delivery; loadgen CPU %.2fs: %.2f µs per delivery\n",
				r.ServerCPUSec, r.CPUUsPerDeliv, r.WritesPerDeliv, r.ClientCPUSec, r.ClientUsPerDel)
			fmt.Fprintf(out, "  latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", r.P50ms, r.P99ms, r.Maxms)
			if r.Disconnected > 0 {
				fmt.Fprintf(out, "  %d connections were closed by the server or failed\n", r.Disconnected)
			}
			if r.SendError != "" {
				fmt.Fprintf(out, "  send error: %s\n", r.SendError)
			}
		}
		fmt.Fprintf(out, "  rest of the machine used %.2f CPU s (%.0f%% of the window)\n", r.OtherCPUSec, 100*r.OtherCPUFrac)
	}
	b, _ := json.Marshal(r)
	fmt.Fprintf(out, "%s\n", b)
	if cfg.JSONFile != "" {
		if f, err := os.OpenFile(cfg.JSONFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			f.Write(append(b, '\n'))
			f.Close()
		}
	}
}
