package socketio

import (
	"encoding/json"
	"testing"
)

func TestNestedBinaryInDynamicContainersBecomesAttachments(t *testing.T) {
	data, atts, err := eventData("file", []any{
		map[string]any{"name": "a.png", "data": []byte{1, 2}, "parts": []any{[]byte{3}, "x"}},
		[]byte{4},
		struct {
			B []byte `json:"b"`
		}{B: []byte{5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `["file",{"data":{"_placeholder":true,"num":0},"name":"a.png","parts":[{"_placeholder":true,"num":1},"x"]},{"_placeholder":true,"num":2},{"b":"BQ=="}]`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	if len(atts) != 3 || atts[0][0] != 1 || atts[1][0] != 3 || atts[2][0] != 4 {
		t.Fatalf("attachments %v", atts)
	}
	if !json.Valid(data) {
		t.Fatal("invalid JSON")
	}
	// Without binary inside, containers go through encoding/json unchanged.
	plain, atts, _ := eventData("e", []any{map[string]any{"b": 1, "a": []any{"x"}}})
	if string(plain) != `["e",{"a":["x"],"b":1}]` || len(atts) != 0 {
		t.Fatalf("plain %s %v", plain, atts)
	}
}
