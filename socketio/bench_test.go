package socketio

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/engineio"
)

// pollingClients connects n clients to the main namespace over long-polling,
// in memory (ServeHTTP with recorders), and returns their session ids.
func pollingClients(tb testing.TB, io *Server, n int) []string {
	tb.Helper()
	sids := make([]string, n)
	for i := range sids {
		w := httptest.NewRecorder()
		io.ServeHTTP(w, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil))
		body := w.Body.String()
		sids[i] = body[len(`0{"sid":"`) : len(`0{"sid":"`)+20]
		w = httptest.NewRecorder()
		io.ServeHTTP(w, httptest.NewRequest("POST", "/socket.io/?EIO=4&transport=polling&sid="+sids[i], strings.NewReader("40")))
		if w.Code != http.StatusOK {
			tb.Fatalf("connect: %d", w.Code)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for io.main.Count() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if io.main.Count() != n {
		tb.Fatalf("%d of %d sockets connected", io.main.Count(), n)
	}
	return sids
}

// drain empties every client's queue with a poll.
func drain(io *Server, sids []string) {
	for _, sid := range sids {
		w := httptest.NewRecorder()
		io.ServeHTTP(w, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling&sid="+sid, nil))
	}
}

// BenchmarkBroadcast measures io.Emit to N sockets up to the point where the
// packet is queued on every connection: adapter selection, one encoding, and
// the per-recipient enqueue. The allocations reported are per broadcast, not
// per recipient.
func BenchmarkBroadcast(b *testing.B) {
	type chatMessage struct {
		Username string `json:"username"`
		Message  string `json:"message"`
	}
	for _, n := range []int{1, 100, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			io := NewServer(&Options{Engine: engineio.Options{
				PingInterval:   time.Hour,
				PingTimeout:    time.Hour,
				MaxQueuedBytes: 1 << 30,
			}})
			defer io.Close(b.Context())
			sids := pollingClients(b, io, n)
			drain(io, sids)
			msg := chatMessage{"bench", "hello, everyone in the room"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := io.Emit("chat message", msg); err != nil {
					b.Fatal(err)
				}
				if i%500 == 499 {
					b.StopTimer()
					drain(io, sids)
					b.StartTimer()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/recipient")
		})
	}
}

// BenchmarkEmitToOneSocket measures Socket.Emit (unicast) into a queue.
func BenchmarkEmitToOneSocket(b *testing.B) {
	io := NewServer(&Options{Engine: engineio.Options{PingInterval: time.Hour, PingTimeout: time.Hour, MaxQueuedBytes: 1 << 30}})
	defer io.Close(b.Context())
	sids := pollingClients(b, io, 1)
	s := io.main.Sockets()[0]
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = s.Emit("chat message", "hello")
		if i%1000 == 999 {
			b.StopTimer()
			drain(io, sids)
			b.StartTimer()
		}
	}
}
