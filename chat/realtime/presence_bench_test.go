//go:build linux

package realtime

// The cost of presence announcements with many distinct users online: a
// reconnect storm (every user connecting at once, each first connection
// announced to everyone connected) and a shutdown (every socket
// disconnected, each last tab of a user announced). The clients are real
// WebSocket clients in a child process (this test binary, started as a
// "fleet"): the server's CPU time and peak RSS are then this process's.
//
//	go test ./chat/realtime -run '^$' -bench Presence -benchtime 1x
//	go test ./chat/realtime -run '^$' -bench 'Presence/users=2000$' -benchtime 1x

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"switchboard/chat"
	"switchboard/chat/sqlite"
	"switchboard/internal/testclient"
)

// fleetEnv, when set ("URL N"), makes this test binary a client fleet
// instead of running tests: see runFleet.
const fleetEnv = "REALTIME_PRESENCE_FLEET"

func init() {
	if spec := os.Getenv(fleetEnv); spec != "" {
		os.Exit(runFleet(spec))
	}
}

func BenchmarkPresence(b *testing.B) {
	for _, n := range []int{2000, 5000, 10000} {
		b.Run("users="+strconv.Itoa(n), func(b *testing.B) {
			var total presenceRound
			for range b.N {
				r := runPresenceRound(b, n)
				total.add(r)
			}
			total.report(b, b.N)
		})
	}
}

// presenceRound holds the figures of one storm and shutdown.
type presenceRound struct {
	stormTime, stormCPU time.Duration
	stormPeak           int64 // bytes of RSS
	closeTime, closeCPU time.Duration
	closePeak           int64
	closeAnnouncements  int64 // "user"/"user count" received by sockets being closed
	baseRSS             int64 // RSS before the storm
}

func (r *presenceRound) add(o presenceRound) {
	r.stormTime += o.stormTime
	r.stormCPU += o.stormCPU
	r.stormPeak = max(r.stormPeak, o.stormPeak)
	r.closeTime += o.closeTime
	r.closeCPU += o.closeCPU
	r.closePeak = max(r.closePeak, o.closePeak)
	r.closeAnnouncements += o.closeAnnouncements
	r.baseRSS = max(r.baseRSS, o.baseRSS)
}

func (r *presenceRound) report(b *testing.B, n int) {
	div := float64(n)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(r.stormTime.Seconds()/div, "storm-s")
	b.ReportMetric(r.stormCPU.Seconds()/div, "storm-cpu-s")
	b.ReportMetric(float64(r.stormPeak)/(1<<20), "storm-peak-MiB")
	b.ReportMetric(r.closeTime.Seconds()/div, "close-s")
	b.ReportMetric(r.closeCPU.Seconds()/div, "close-cpu-s")
	b.ReportMetric(float64(r.closePeak)/(1<<20), "close-peak-MiB")
	b.ReportMetric(float64(r.closeAnnouncements)/div, "close-announcements")
	b.ReportMetric(float64(r.baseRSS)/(1<<20), "base-MiB")
}

// runPresenceRound starts a chat server and a fleet of n distinct users,
// measures the storm of their connections (until each has been told of
// the n-th user), then the server's shutdown.
func runPresenceRound(b *testing.B, n int) presenceRound {
	b.StopTimer()
	defer b.StartTimer()
	rt, srv := newFleetServer(b)
	defer srv.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fleetEnv+"="+testclient.WSURL(srv.URL)+"/socket.io/?EIO=4&transport=websocket "+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	next := func(want string) string {
		b.Helper()
		for lines.Scan() {
			line := lines.Text()
			if strings.HasPrefix(line, want) {
				return strings.TrimSpace(strings.TrimPrefix(line, want))
			}
			if strings.HasPrefix(line, "error") {
				b.Fatalf("fleet: %s", line)
			}
		}
		b.Fatalf("fleet ended before %q: %v", want, lines.Err())
		return ""
	}

	var r presenceRound
	runtime.GC() // the previous round's garbage is not this one's peak
	r.baseRSS = rss("VmRSS")
	next("start")
	resetPeakRSS()
	cpu0, t0 := cpuTime(), time.Now()
	next("ready")
	r.stormTime, r.stormCPU, r.stormPeak = time.Since(t0), cpuTime()-cpu0, rss("VmHWM")
	if got := rt.presence.Count(); got != n {
		b.Fatalf("%d users online after the storm, want %d", got, n)
	}

	resetPeakRSS()
	cpu0, t0 = cpuTime(), time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := rt.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	r.closeTime, r.closeCPU, r.closePeak = time.Since(t0), cpuTime()-cpu0, rss("VmHWM")
	if got := rt.presence.Count(); got != 0 {
		b.Fatalf("%d users online after the shutdown", got)
	}
	r.closeAnnouncements, _ = strconv.ParseInt(next("closed"), 10, 64)
	return r
}

// newFleetServer is a chat server whose users are named by their cookie
// "sb_session=u<ID>" (no store, no bcrypt).
func newFleetServer(tb testing.TB) (*Server, *httptest.Server) {
	tb.Helper()
	db := sqlite.NewDB(tb.TempDir() + "/chat.db")
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	messages := sqlite.NewMessageService(db)
	var users sync.Map // id → *chat.User
	rt, err := New(Config{
		Authenticate: func(r *http.Request) (*chat.User, error) {
			c, err := r.Cookie("sb_session")
			if err != nil || !strings.HasPrefix(c.Value, "u") {
				return nil, chat.Errorf(chat.EUNAUTHORIZED, "not logged in")
			}
			id, err := strconv.ParseInt(c.Value[1:], 10, 64)
			if err != nil {
				return nil, chat.Errorf(chat.EUNAUTHORIZED, "not logged in")
			}
			u, _ := users.LoadOrStore(id, &chat.User{ID: id, Username: c.Value})
			return u.(*chat.User), nil
		},
		Presence:     chat.NewPresence(),
		Poster:       chat.NewPoster(messages, time.Now),
		Messages:     messages,
		PingInterval: time.Minute,
		PingTimeout:  time.Minute,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return rt, httptest.NewServer(rt)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets VmHWM to the current RSS.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// rss reads a "kB" field of /proc/self/status, in bytes.
func rss(field string) int64 {
	status, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// runFleet connects n distinct users (u1…un) to url, 128 handshakes at a
// time, and reports on stdout: "start" before the first dial; "ready" once
// every client has been told of the n-th user ("user" with currentUsers
// n); "closed K" once the server has closed every connection, K being the
// announcements received after "ready". It answers pings.
func runFleet(spec string) int {
	url, nStr, _ := strings.Cut(spec, " ")
	n, err := strconv.Atoi(nStr)
	if err != nil {
		fmt.Println("error: fleet spec", spec)
		return 1
	}
	var ready, closed sync.WaitGroup
	ready.Add(n)
	closed.Add(n)
	var after atomic.Int64
	fail := func(err error) {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	want := []byte(`"currentUsers":` + strconv.Itoa(n) + `,`)
	sem := make(chan struct{}, 128)
	fmt.Println("start")
	for i := 1; i <= n; i++ {
		go func() {
			defer closed.Done()
			sem <- struct{}{}
			h := http.Header{}
			h.Set("Cookie", "sb_session=u"+strconv.Itoa(i))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			nc, br, _, err := ws.Dialer{Header: ws.HandshakeHeaderHTTP(h)}.Dial(ctx, url)
			cancel()
			<-sem
			if err != nil {
				fail(err)
			}
			defer nc.Close()
			var src io.Reader = nc
			if br != nil {
				src = io.MultiReader(io.LimitReader(br, int64(br.Buffered())), nc)
			}
			r := bufio.NewReaderSize(src, 4096)
			buf := make([]byte, 512)
			isReady := false
			for {
				h, err := ws.ReadHeader(r)
				if err != nil {
					break
				}
				if h.OpCode == ws.OpClose {
					break
				}
				if int64(cap(buf)) < h.Length {
					buf = make([]byte, h.Length)
				}
				p := buf[:h.Length]
				if _, err := io.ReadFull(r, p); err != nil {
					break
				}
				switch {
				case h.OpCode != ws.OpText:
				case len(p) > 0 && p[0] == '0': // open
					if err := wsutil.WriteClientText(nc, []byte("40")); err != nil {
						fail(err)
					}
				case len(p) == 1 && p[0] == '2':
					_ = wsutil.WriteClientText(nc, []byte("3"))
				case bytes.HasPrefix(p, []byte(`42["user`)):
					if isReady {
						after.Add(1)
					} else if bytes.HasPrefix(p, []byte(`42["user",`)) && bytes.Contains(p, want) {
						isReady = true
						ready.Done()
					}
				}
			}
			if !isReady {
				fail(fmt.Errorf("u%d: closed before it was ready", i))
			}
		}()
	}
	ready.Wait()
	fmt.Println("ready")
	closed.Wait()
	fmt.Println("closed", after.Load())
	return 0
}
