package engineio

import (
	"net/http"
	"reflect"
	"testing"
)

func TestSessionHeaderIsACompactCopy(t *testing.T) {
	h := http.Header{
		"Cookie":                {"sb_session=abc"},
		"Accept-Language":       {"fr", "en;q=0.8"},
		"X-Empty":               {""},
		"Upgrade":               {"websocket"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-Websocket-Version": {"13"},
	}
	ws := sessionHeader(h, true)
	want := http.Header{"Cookie": {"sb_session=abc"}, "Accept-Language": {"fr", "en;q=0.8"}, "X-Empty": {""}}
	if !reflect.DeepEqual(ws, want) {
		t.Fatalf("websocket: %v, want %v", ws, want)
	}
	if poll := sessionHeader(h, false); !reflect.DeepEqual(poll, h) {
		t.Fatalf("polling: %v, want every header %v", poll, h)
	}
	// The copy is independent of the request's map, and its slices of each other.
	h["Cookie"][0] = "changed"
	ws.Add("Accept-Language", "de")
	if ws.Get("Cookie") != "sb_session=abc" || ws.Values("X-Empty")[0] != "" || len(ws.Values("Accept-Language")) != 3 {
		t.Fatalf("copy not independent: %v", ws)
	}
	if sessionHeader(http.Header{"Upgrade": {"websocket"}}, true) != nil || sessionHeader(nil, false) != nil {
		t.Fatal("nothing to keep should give nil")
	}
}
