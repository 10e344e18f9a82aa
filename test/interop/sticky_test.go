package interop

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/engineio"
	"switchboard/socketio"
)

// haproxyPath is the load balancer the sticky-session test runs
// ($HAPROXY overrides; Debian's is /usr/sbin/haproxy).
func haproxyPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HAPROXY"); p != "" {
		return p
	}
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err != nil {
		t.Fatalf("HAProxy is missing (%v): run `scripts/deps.sh all` from the repository root (it installs Debian's haproxy)", err)
	}
	return "/usr/sbin/haproxy"
}

// startHAProxy balances HTTP requests round robin over backends, with
// HAProxy's cookie-based persistence on the io cookie ("cookie io prefix":
// the cookie's value gets the server's name as a prefix on its way to the
// client, which is taken off on the way back), and returns its URL.
func startHAProxy(t *testing.T, backends ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var servers strings.Builder
	for i, b := range backends {
		fmt.Fprintf(&servers, "  server s%d %s cookie s%d\n", i, b, i)
	}
	cfg := fmt.Sprintf(`global
  maxconn 1000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout tunnel 30s
frontend fe
  bind %s
  default_backend be
backend be
  balance roundrobin
  cookie io prefix indirect nocache
%s`, addr, servers.String())
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	cmd := exec.Command(haproxyPath(t), "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy does not listen on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two servers behind HAProxy balancing each request round robin: with the
// io cookie (engineio.Options.Cookie) the official client's long-polling
// requests and its upgrade all reach the server that holds its session, as
// in socket.io's documented HAProxy setup. Without the cookie its second
// request reaches the other server, which does not know the session: the
// cookie is what makes the session work at all.
func TestStickySessionsBehindHAProxy(t *testing.T) {
	t.Parallel()
	for _, cookie := range []bool{true, false} {
		t.Run(fmt.Sprintf("cookie-%v", cookie), func(t *testing.T) {
			t.Parallel()
			var servers []*server
			var addrs []string
			for i := range 2 {
				opts := options()
				if cookie {
					opts.Engine.Cookie = &engineio.Cookie{}
				}
				io := socketio.NewServer(opts)
				name := fmt.Sprintf("s%d", i)
				io.OnConnection(func(s *socketio.Socket) { _ = s.Emit("welcome", name) })
				io.On("echo", func(s *socketio.Socket, e *socketio.Event) { _ = e.Ack(name, s.Transport()) })
				srv := serve(t, "127.0.0.1:0", io, nil)
				servers = append(servers, srv)
				addrs = append(addrs, strings.TrimPrefix(srv.URL, "http://"))
			}
			proxy := startHAProxy(t, addrs...)
			n := startNode(t, "client.mjs")
			// withCredentials: the Node client keeps cookies (a cookie jar),
			// as a browser does.
			copts := map[string]any{"withCredentials": true, "reconnection": false}
			if !cookie {
				copts["transports"] = []string{"polling"}
				n.connect(t, "a", proxy, clientOpts{Opts: copts})
				r := n.waitFor(t, "the session's failure", func(r *report) bool {
					return r.C == "a" && (r.T == "connect" || r.T == "connect_error" || r.T == "disconnect")
				})
				if r.T == "connect" {
					n.waitFor(t, "the disconnection", func(r *report) bool { return r.C == "a" && r.T == "disconnect" })
				}
				return
			}
			n.connected(t, "a", proxy, clientOpts{Opts: copts})
			var home string
			if err := json.Unmarshal(n.event(t, "a", "welcome").Args[0], &home); err != nil {
				t.Fatal(err)
			}
			check := func(i int) (transport string) {
				t.Helper()
				ack := n.ackOf(t, "a", n.emitAck(t, "a", 0, "echo", i))
				var from string
				if len(ack.Args) != 2 || json.Unmarshal(ack.Args[0], &from) != nil || json.Unmarshal(ack.Args[1], &transport) != nil || from != home {
					t.Fatalf("echo %d answered %s, want by %s", i, ack, home)
				}
				return transport
			}
			for i := range 5 {
				check(i)
			}
			n.want(t, "upgrade", "a")
			for i := 5; i < 10; i++ {
				if tr := check(i); tr != "websocket" {
					t.Fatalf("echo %d over %s after the upgrade", i, tr)
				}
			}
			for i, srv := range servers {
				want := 0
				if fmt.Sprintf("s%d", i) == home {
					want = 1
				}
				if got := srv.Engine().Count(); got != want {
					t.Errorf("server s%d holds %d sessions, want %d", i, got, want)
				}
			}
			n.none(t, 0, "a disconnection", func(r *report) bool { return r.T == "disconnect" || r.T == "connect_error" })
		})
	}
}
