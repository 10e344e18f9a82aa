package engineio

import (
	"net/url"
	"strings"
	"testing"
)

// parseQuery reads the handshake's three parameters without url.ParseQuery's
// map. Where the query is unambiguous (each key at most once, no escapes in
// keys, no ';'), it must read what url.ParseQuery reads (Node unescapes the
// query too); otherwise it must still not panic.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"EIO=4&transport=polling",
		"EIO=4&transport=websocket&sid=abc%2Fdef",
		"t=PXl1Yq2&EIO=4&transport=polling&sid=a+b",
		"EIO=3", "", "&&=&EIO", "sid=%zz", "transport=polling&transport=websocket",
		"EIO=%34&transport=pollin%67", // Node unescapes these too
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q := parseQuery(raw)
		if strings.ContainsAny(raw, ";") {
			return
		}
		seen := map[string]bool{}
		for _, kv := range strings.Split(raw, "&") {
			k, _, _ := strings.Cut(kv, "=")
			if strings.ContainsAny(k, "%+") || seen[k] {
				return
			}
			seen[k] = true
		}
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if q.eio != v.Get("EIO") || q.transport != v.Get("transport") || q.sid != v.Get("sid") {
			t.Fatalf("%q: read %+v, url.ParseQuery reads EIO %q transport %q sid %q", raw, q, v.Get("EIO"), v.Get("transport"), v.Get("sid"))
		}
	})
}
