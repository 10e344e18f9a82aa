package parser

import (
	"encoding/json"
	"testing"
)

var (
	benchEvent     = []byte(`2["chat message","hello"]`)
	benchNSAck     = []byte(`2/admin,12["chat message","hello"]`)
	benchBroadcast = []byte(`["chat message",{"username":"bench","name":"Bench User","message":"hello","at":1718000000000}]`)
)

func BenchmarkDecodeText(b *testing.B) {
	for _, bc := range []struct {
		name string
		msg  []byte
	}{
		{"event", benchEvent},
		{"namespace_ack", benchNSAck},
		{"broadcast_payload", append([]byte("2"), benchBroadcast...)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var d Decoder
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.msg)))
			for b.Loop() {
				if _, err := d.DecodeText(bc.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	text := []byte(`51-["upload",{"_placeholder":true,"num":0}]`)
	attachment := make([]byte, 1024)
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.DecodeText(text); err != nil {
			b.Fatal(err)
		}
		if p, err := d.DecodeBinary(attachment); err != nil || p == nil {
			b.Fatal(p, err)
		}
	}
}

func BenchmarkAppendText(b *testing.B) {
	p := Packet{Type: Event, Namespace: "/admin", ID: 12, HasID: true, Data: benchBroadcast}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = p.AppendText(buf[:0])
	}
}

func BenchmarkSplitArray(b *testing.B) {
	dst := make([][]byte, 0, 8)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBroadcast)))
	for b.Loop() {
		var err error
		if dst, err = SplitArray(dst[:0], benchBroadcast); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	buf := make([]byte, 0, 128)
	for _, bc := range []struct{ name, s string }{
		{"ascii", "chat message from a user of the chat"},
		{"escapes", "line one\nline \"two\"\ttabbed"},
		{"unicode", "héllo wörld, 世界 💬"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.s)))
			for b.Loop() {
				buf = AppendString(buf[:0], bc.s)
			}
		})
	}
}

// BenchmarkValidate compares the package's scanner with encoding/json's on
// the payload of a typical broadcast.
func BenchmarkValidate(b *testing.B) {
	b.Run("scanner", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchBroadcast)))
		for b.Loop() {
			if !validJSON(benchBroadcast) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchBroadcast)))
		for b.Loop() {
			if !json.Valid(benchBroadcast) {
				b.Fatal("invalid")
			}
		}
	})
}
