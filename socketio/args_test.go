package socketio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
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
	want := `["file",{"data":{"_placeholder":true,"num":0},"name":"a.png","parts":[{"_placeholder":true,"num":1},"x"]},{"_placeholder":true,"num":2},{"b":{"_placeholder":true,"num":3}}]`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	if len(atts) != 4 || atts[0][0] != 1 || atts[1][0] != 3 || atts[2][0] != 4 || atts[3][0] != 5 {
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

type chunkMeta struct {
	Seq  int64  `json:"seq"`
	Hash []byte `json:"hash,omitempty"`
}

type fileChunk struct {
	chunkMeta                       // embedded: its fields are promoted
	Name      string                `json:"name"`
	Data      []byte                `json:"data"`
	Empty     []byte                `json:"empty,omitempty"`
	Skipped   []byte                `json:"-"`
	Parts     [][]byte              `json:"parts"`
	ByName    map[string][]byte     `json:"byName"`
	Any       any                   `json:"any"`
	Ptr       *[]byte               `json:"ptr"`
	Raw       json.RawMessage       `json:"raw"` // encodes itself: left alone
	Nested    []chunkMeta           `json:"nested"`
	Big       int64                 `json:"big"`
	NoBytes   struct{ A, B string } `json:"noBytes"`
	hidden    []byte
}

func TestBinaryInsideStructsBecomesAttachments(t *testing.T) {
	p := []byte{9}
	v := fileChunk{
		chunkMeta: chunkMeta{Seq: 7, Hash: []byte{0xaa}},
		Name:      "a.png",
		Data:      []byte{1, 2, 3},
		Skipped:   []byte{0},
		Parts:     [][]byte{{4}, {5}},
		ByName:    map[string][]byte{"x": {6}},
		Any:       []byte{7},
		Ptr:       &p,
		Raw:       json.RawMessage(`"BQ=="`),
		Nested:    []chunkMeta{{Seq: 1, Hash: []byte{8}}},
		Big:       1<<62 + 1, // exact, not a float64
		NoBytes:   struct{ A, B string }{"a", "b"},
		hidden:    []byte{0},
	}
	data, atts, err := eventData("chunk", []any{v, &v})
	if err != nil {
		t.Fatal(err)
	}
	var args []any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&args); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	if len(args) != 3 {
		t.Fatalf("%s", data)
	}
	// Resolve placeholders to the attachments' first byte, to compare.
	var resolve func(x any) any
	resolve = func(x any) any {
		switch y := x.(type) {
		case map[string]any:
			if y["_placeholder"] == true {
				n, _ := y["num"].(json.Number).Int64()
				return int(atts[n][0])
			}
			for k, e := range y {
				y[k] = resolve(e)
			}
		case []any:
			for i, e := range y {
				y[i] = resolve(e)
			}
		}
		return x
	}
	for _, arg := range args[1:] {
		got, _ := json.Marshal(resolve(arg))
		want := `{"any":7,"big":4611686018427387905,"byName":{"x":6},"data":1,"hash":170,"name":"a.png","nested":[{"hash":8,"seq":1}],"noBytes":{"A":"a","B":"b"},"parts":[4,5],"ptr":9,"raw":"BQ==","seq":7}`
		if string(got) != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
	if len(atts) != 16 || len(atts[0]) != 1 {
		t.Fatalf("%d attachments", len(atts))
	}
	// The members are in encoding/json's order — fields as declared (the
	// embedded struct's first), map keys sorted — as the plain path writes
	// them, here and inside lists with no binary value of their own.
	type point struct {
		Z, Y int
	}
	type shape struct {
		Kind   string  `json:"kind"`
		Points []point `json:"points"`
		Blob   []byte  `json:"blob"`
		Tags   map[string]int
		Alpha  bool `json:"alpha"`
	}
	ordered, atts, err := eventData("e", []any{shape{Kind: "k", Points: []point{{1, 2}}, Blob: []byte{1}, Tags: map[string]int{"b": 2, "a": 1}}})
	if want := `["e",{"kind":"k","points":[{"Z":1,"Y":2}],"blob":{"_placeholder":true,"num":0},"Tags":{"a":1,"b":2},"alpha":false}]`; err != nil || string(ordered) != want || len(atts) != 1 {
		t.Fatalf("got  %s (%v, %d attachments)\nwant %s", ordered, err, len(atts), want)
	}
	if !strings.HasPrefix(string(data), `["chunk",{"seq":7,"hash":{"_placeholder":true,"num":0},"name":"a.png","data":{"_placeholder":true,"num":1},"parts":`) {
		t.Fatalf("fields not in declaration order: %s", data)
	}
	// Without a []byte in it, a struct is encoding/json's, field order and all.
	plain, atts, _ := eventData("e", []any{chunkMeta{Seq: 3}, fileChunk{Name: "n"}.NoBytes})
	if string(plain) != `["e",{"seq":3},{"A":"","B":""}]` || len(atts) != 0 {
		t.Fatalf("plain %s %v", plain, atts)
	}
	// A map[string]any holding such a struct finds it too.
	_, atts, _ = eventData("e", []any{map[string]any{"c": chunkMeta{Hash: []byte{1}}}})
	if len(atts) != 1 {
		t.Fatalf("struct inside a map: %d attachments", len(atts))
	}
}

type textKey int

func (k textKey) MarshalText() ([]byte, error) { return []byte(fmt.Sprint("k", int(k))), nil }

// A []byte in a map whose keys are integers or encoding.TextMarshalers
// (uuid.UUID…) is binary too, as encoding/json names those keys: Node sends
// every Buffer of an object as an attachment, whatever its key; here they
// went out as base64 text.
func TestBinaryInMapsWithNonStringKeysBecomesAttachments(t *testing.T) {
	for _, v := range []any{
		map[int][]byte{1: {1}},
		map[uint8][]byte{1: {1}},
		map[textKey][]byte{1: {1}},
		struct{ M map[int64]any }{map[int64]any{1: []byte{1}}},
	} {
		data, atts, err := eventData("e", []any{v})
		if err != nil {
			t.Fatal(err)
		}
		if len(atts) != 1 || !strings.Contains(string(data), `{"_placeholder":true,"num":0}`) {
			t.Errorf("%T: %s with %d attachments, want the []byte as an attachment", v, data, len(atts))
		}
	}
}

// Values relays binary values wherever they are: a Buffer inside an object
// or array is sent again as an attachment of the new packet (numbered in
// that packet), not as a placeholder naming an attachment it no longer has.
func TestValuesRelaysNestedBinary(t *testing.T) {
	in, err := argsFrom([]byte(`["relay",{"blob":{"_placeholder":true,"num":1},"n":12345678901234567890,"s":"ü\u2028"},[1,{"_placeholder":true,"num":2}],{"_placeholder":true,"num":0}]`),
		[][]byte{{0xa}, {0xb}, {0xc}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	data, atts, err := eventData("relay", in.Values())
	if err != nil {
		t.Fatal(err)
	}
	want := `["relay",{"blob":{"_placeholder":true,"num":0},"n":12345678901234567890,"s":"ü\u2028"},[1,{"_placeholder":true,"num":1}],{"_placeholder":true,"num":2}]`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	if fmt.Sprint(atts) != "[[11] [12] [10]]" {
		t.Fatalf("attachments %v, want [[11] [12] [10]]", atts)
	}
	// the relayed packet decodes to what came in
	out, err := argsFrom(data, atts, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in.Len() {
		var a, b any
		if err := in.Decode(i, &a); err != nil {
			t.Fatal(err)
		}
		if err := out.Decode(i, &b); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("argument %d: relayed %v, received %v", i, b, a)
		}
	}
	// encoding/json sees the binary values as Decode does: base64 strings
	if b, err := json.Marshal(in.Values()[0]); err != nil || !strings.Contains(string(b), `"blob":"Cw=="`) {
		t.Errorf("json.Marshal: %s, %v", b, err)
	}
}
