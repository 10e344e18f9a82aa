package main

import (
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" { // a child started by a multi-process test run
		os.Exit(workerMain())
	}
	goleak.VerifyTestMain(m)
}

func smokeConfig(t *testing.T, addr string, procs int) config {
	t.Helper()
	cfg, err := parseFlags([]string{"-scenario", "smoke", "-addr", addr, "-procs", "1", "-q"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Procs = procs
	cfg.PID = os.Getpid()
	cfg.Timeout = 10 * time.Second
	return cfg
}

// readers are the ways the load generator can read its WebSocket connections here.
func readers() []string {
	if epollAvailable {
		return []string{"epoll", "goroutine"}
	}
	return []string{"goroutine"}
}

func TestSmokeDeliversEveryBroadcastToEveryConnection(t *testing.T) {
	for _, rd := range readers() {
		t.Run(rd, func(t *testing.T) { testSmoke(t, rd) })
	}
}

func testSmoke(t *testing.T, reader string) {
	addr := startTestServer(t)
	var out strings.Builder
	cfg := smokeConfig(t, addr, 1)
	cfg.Reader, cfg.Loops = reader, 2
	res, err := run(cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Opened != 200 || res.OpenFailed != 0 {
		t.Fatalf("opened %d, failed %d (%s)", res.Opened, res.OpenFailed, res.OpenError)
	}
	if res.Expected != 200*10 || res.Received != res.Expected || res.Lost != 0 {
		t.Fatalf("expected %d, received %d, lost %d", res.Expected, res.Received, res.Lost)
	}
	if res.P50ms <= 0 || res.P99ms < res.P50ms || res.Maxms < res.P99ms {
		t.Errorf("latency p50 %v p99 %v max %v not ordered", res.P50ms, res.P99ms, res.Maxms)
	}
	if res.RSSBeforeKB <= 0 {
		t.Errorf("server RSS not read")
	}
	if !strings.Contains(out.String(), `"scenario":"smoke"`) {
		t.Errorf("no JSON line in output:\n%s", out.String())
	}
}

func TestSmokeAcrossWorkerProcesses(t *testing.T) {
	addr := startTestServer(t)
	res, err := run(smokeConfig(t, addr, 2), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Procs != 2 || res.Opened != 200 || res.Received != 200*10 {
		t.Fatalf("procs %d opened %d received %d (open error %q)", res.Procs, res.Opened, res.Received, res.OpenError)
	}
}

func TestIdleReportsRSSPerConnection(t *testing.T) {
	addr := startTestServer(t)
	cfg := smokeConfig(t, addr, 1)
	cfg.Scenario, cfg.N, cfg.Idle = "idle", 50, 10*time.Millisecond
	res, err := run(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Opened != 50 || res.OpensPerS <= 0 || res.RSSAfterKB <= 0 {
		t.Fatalf("opened %d at %.0f/s, RSS after %d KiB", res.Opened, res.OpensPerS, res.RSSAfterKB)
	}
}

func TestListenerPIDFindsThisProcess(t *testing.T) {
	addr := startTestServer(t)
	p, err := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	if err != nil {
		t.Fatal(err)
	}
	if got := listenerPID(p); got != os.Getpid() {
		t.Fatalf("listenerPID(%d) = %d, want %d", p, got, os.Getpid())
	}
}

func TestHistogramQuantilesWithinOnePercent(t *testing.T) {
	var h histogram
	for i := 1; i <= 100000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}} {
		got := h.quantile(c.q)
		if d := got - c.want; d > c.want/100 || -d > c.want/100 {
			t.Errorf("quantile(%v) = %v, want %v ±1%%", c.q, got, c.want)
		}
	}
	if m := h.max(); m < 99*time.Millisecond || m > 100*time.Millisecond {
		t.Errorf("max = %v", m)
	}
	for i := 0; i < histBuckets; i++ {
		if histIndex(histValue(i)) != i {
			t.Fatalf("bucket %d: value %d maps to %d", i, histValue(i), histIndex(histValue(i)))
		}
	}
}

func TestAppendChatCarriesTimestampFirst(t *testing.T) {
	b := appendChat(nil, 1234567890, 7, 20)
	want := `42["chat message","1234567890 7xxxxxxxx"]`
	if string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
}

func TestWorkerCountsConnectionsTheServerCloses(t *testing.T) {
	for _, rd := range readers() {
		t.Run(rd, func(t *testing.T) { testWorkerCountsDrops(t, rd) })
	}
}

func testWorkerCountsDrops(t *testing.T, reader string) {
	addr, srv := startTestServerHandle(t)
	w := &worker{}
	defer w.close()
	res := w.open(openReq{Addr: addr, Path: "/socket.io/?EIO=4&transport=websocket", N: 20, Conc: 5, Timeout: 5 * time.Second, Reader: reader})
	if res.Opened != 20 {
		t.Fatalf("opened %d (%s)", res.Opened, res.FirstErr)
	}
	w.start(startReq{})
	srv.dropAll()
	deadline := time.Now().Add(5 * time.Second)
	for w.dropped.Load() < 20 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := w.wait(waitReq{Deadline: time.Now()}).Dropped; got != 20 {
		t.Fatalf("dropped = %d, want 20", got)
	}
}

func TestCookieGoesWithEveryHandshake(t *testing.T) {
	addr, srv := startTestServerHandle(t)
	cfg := smokeConfig(t, addr, 1)
	cfg.Scenario, cfg.N, cfg.Idle = "idle", 20, 10*time.Millisecond
	cfg.Cookie = "switchboard_session=abc"
	if _, err := run(cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if got := srv.cookies["switchboard_session=abc"]; got != 20 || len(srv.cookies) != 1 {
		t.Fatalf("cookies seen: %v, want the cookie on all 20 handshakes", srv.cookies)
	}
}
