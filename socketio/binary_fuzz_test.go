package socketio

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

// tokens lists a JSON text's tokens (numbers as written), or nil if it is
// not one valid JSON value.
func tokens(b []byte) []any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []any
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		out = append(out, tok)
	}
	return out
}

// decodeTree reads any valid JSON value into a tree that appendValue writes
// back with the same tokens in the same order — object members included
// (binaryTree relies on it to keep encoding/json's member order) — and
// fails on anything else, without panicking.
func FuzzDecodeTreeKeepsOrder(f *testing.F) {
	for _, s := range []string{
		`{"seq":7,"hash":"qg==","name":"a.png","z":{"b":1,"a":[1,2,{"y":null,"x":true}]}}`,
		`[{"Z":1,"Y":2},[],{},"s\u2028",1e400,-0.5]`,
		`"x"`, `12345678901234567890123`, `null`, `{"a":1,"a":2}`, `{"a":`, `[1,]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		dec := json.NewDecoder(bytes.NewReader(in))
		dec.UseNumber()
		tree, err := decodeTree(dec)
		if !json.Valid(in) {
			return // an error, or the first of several values: no panic is all
		}
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		out, atts, err := appendValue(nil, tree, nil)
		if err != nil || len(atts) != 0 {
			t.Fatalf("%q: encoding the tree: %s, %v, %d attachments", in, out, err, len(atts))
		}
		if !json.Valid(out) {
			t.Fatalf("%q: wrote invalid JSON %q", in, out)
		}
		if want, got := tokens(in), tokens(out); !slices.Equal(got, want) {
			t.Fatalf("%q: tokens\n got %v\nwant %v", in, got, want)
		}
	})
}
