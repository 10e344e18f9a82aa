package engineio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawGet is a GET whose answer is not decompressed by the client.
func rawGet(t *testing.T, url, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// Long-polling answers of 1 KiB or more are compressed, as Node's
// httpCompression does, with gzip or deflate (zlib) as the request
// accepts; smaller ones, and those to clients that accept neither, are not.
func TestPollingResponsesAreCompressedAsTheClientAccepts(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	s := ts.h.session(t, 0)
	poll := ts.url("EIO=4&transport=polling&sid=" + sid)
	big := strings.Repeat("chat message ", 200) // 2,600 bytes

	for _, c := range []struct {
		name, accept, encoding string
		msg                    string
	}{
		{"gzip", "gzip, deflate, br", "gzip", big},
		{"deflate only", "deflate", "deflate", big},
		{"gzip refused by its q-value", "gzip;q=0, deflate;q=0.5", "deflate", big},
		{"any coding", "*", "gzip", big},
		{"none accepted", "", "", big},
		{"identity only", "identity", "", big},
		{"under the threshold", "gzip", "", "small"},
	} {
		if err := s.Send(0, NewMessage([]byte(c.msg), false)); err != nil {
			t.Fatal(err)
		}
		resp, raw := rawGet(t, poll, c.accept)
		if got := resp.Header.Get("Content-Encoding"); got != c.encoding {
			t.Errorf("%s: Content-Encoding %q, want %q", c.name, got, c.encoding)
		}
		if resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s: Vary %q, want Accept-Encoding", c.name, resp.Header.Get("Vary"))
		}
		body := raw
		switch c.encoding {
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			body, _ = io.ReadAll(zr)
		case "deflate":
			zr, err := zlib.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			body, _ = io.ReadAll(zr)
		}
		if string(body) != "4"+c.msg {
			t.Errorf("%s: payload %.40q…, want 4 and the message", c.name, body)
		}
		if c.encoding != "" && len(raw) >= len(body)/4 {
			t.Errorf("%s: %d bytes compressed to %d", c.name, len(body), len(raw))
		}
	}
}

func TestPollingCompressionCanBeTurnedOff(t *testing.T) {
	opts := fixtureOptions()
	opts.HTTPCompression = &HTTPCompression{Disabled: true}
	ts := startEcho(t, opts)
	sid := ts.openPolling(t)
	s := ts.h.session(t, 0)
	big := strings.Repeat("x", 5000)
	_ = s.Send(0, NewMessage([]byte(big), false))
	resp, raw := rawGet(t, ts.url("EIO=4&transport=polling&sid="+sid), "gzip")
	if resp.Header.Get("Content-Encoding") != "" || string(raw) != "4"+big || resp.Header.Get("Vary") != "" {
		t.Errorf("with compression off: Content-Encoding %q, Vary %q, %d bytes", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), len(raw))
	}
}

func TestAcceptEncoding(t *testing.T) {
	for _, c := range []struct {
		values        []string
		gzip, deflate bool
	}{
		{nil, false, false},
		{[]string{"gzip"}, true, false},
		{[]string{"GZIP ; q=1"}, true, false},
		{[]string{"x-gzip"}, true, false},
		{[]string{"br", "deflate;q=0.1"}, false, true},
		{[]string{"*;q=0.5", "gzip;q=0"}, false, true},
		{[]string{"*;q=0"}, false, false},
		{[]string{"gzip;q=0.000"}, false, false},
		{[]string{"gzip;q=bogus"}, true, false},
	} {
		if gz, df := acceptsEncoding(c.values); gz != c.gzip || df != c.deflate {
			t.Errorf("%q: gzip %v deflate %v, want %v %v", c.values, gz, df, c.gzip, c.deflate)
		}
	}
}

// A long-polling response is compressed if any packet in it was sent
// without Uncompressed, as Node compresses when some packet asks for it.
func TestPollingResponsesOfUncompressedPacketsArePlain(t *testing.T) {
	opts := fixtureOptions()
	opts.PingInterval = 10 * time.Second // no ping (compressible) in the responses
	ts := startEcho(t, opts)
	sid := ts.openPolling(t)
	s := ts.h.session(t, 0)
	poll := ts.url("EIO=4&transport=polling&sid=" + sid)
	big := strings.Repeat("chat message ", 200)
	for _, c := range []struct {
		name     string
		opts     []SendOptions
		encoding string
	}{
		{"uncompressed", []SendOptions{Uncompressed}, ""},
		{"two uncompressed", []SendOptions{Uncompressed, Uncompressed}, ""},
		{"mixed", []SendOptions{Uncompressed, 0}, "gzip"},
		{"default after uncompressed ones were fetched", []SendOptions{0}, "gzip"},
	} {
		want := ""
		for i, o := range c.opts {
			if err := s.Send(o, NewMessage([]byte(big), false)); err != nil {
				t.Fatal(err)
			}
			if i > 0 {
				want += "\x1e"
			}
			want += "4" + big
		}
		resp, raw := rawGet(t, poll, "gzip")
		if got := resp.Header.Get("Content-Encoding"); got != c.encoding {
			t.Errorf("%s: Content-Encoding %q, want %q", c.name, got, c.encoding)
		}
		if c.encoding == "" && string(raw) != want {
			t.Errorf("%s: %d bytes, want the %d of the packets", c.name, len(raw), len(want))
		}
	}
}
