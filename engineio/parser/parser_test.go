package parser

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecodePacketReadsEveryTextType(t *testing.T) {
	for typ := Open; typ <= Noop; typ++ {
		frame := []byte{'0' + byte(typ), 'x'}
		p, err := DecodePacket(frame, false)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if p.Type != typ || string(p.Data) != "x" || p.Binary {
			t.Fatalf("%s: got %+v", typ, p)
		}
	}
}

func TestDecodePacketWithoutDataHasNilData(t *testing.T) {
	p, err := DecodePacket([]byte("2"), false)
	if err != nil || p.Type != Ping || p.Data != nil {
		t.Fatalf("got %+v, %v", p, err)
	}
}

func TestDecodePacketTreatsBinaryFramesAsMessages(t *testing.T) {
	p, err := DecodePacket([]byte{1, 2, 3}, true)
	if err != nil || p.Type != Message || !p.Binary || !bytes.Equal(p.Data, []byte{1, 2, 3}) {
		t.Fatalf("got %+v, %v", p, err)
	}
}

// A client with forceBase64 sends binary messages over WebSocket as text
// frames "b<base64>", which Node's engine.io-parser reads as binary
// messages.
func TestDecodePacketReadsBase64TextFramesAsBinaryMessages(t *testing.T) {
	for in, want := range map[string][]byte{"bAQID": {1, 2, 3}, "bAAEC/v8=": {0, 1, 2, 254, 255}, "b": {}} {
		p, err := DecodePacket([]byte(in), false)
		if err != nil || p.Type != Message || !p.Binary || !bytes.Equal(p.Data, want) {
			t.Errorf("%q: got %+v, %v; want the binary message % x", in, p, err, want)
		}
	}
}

func TestDecodePacketRejectsMalformedText(t *testing.T) {
	for _, in := range []string{"", "a", "7", "/", "abc", "4\xff\xfe", "b!!", "bAQI"} {
		if _, err := DecodePacket([]byte(in), false); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("%q: want ErrInvalidPacket, got %v", in, err)
		}
	}
}

func TestAppendPacketEncodesTextAndBinary(t *testing.T) {
	if got := string(AppendPacket(nil, Packet{Type: Message, Data: []byte("hello")})); got != "4hello" {
		t.Fatalf("text: %q", got)
	}
	if got := AppendPacket(nil, Packet{Type: Message, Data: []byte{1, 2}, Binary: true}); !bytes.Equal(got, []byte{1, 2}) {
		t.Fatalf("binary: %v", got)
	}
	if got := string(AppendPacket(nil, Packet{Type: Noop})); got != "6" {
		t.Fatalf("noop: %q", got)
	}
}

func TestPayloadMatchesTheSpecExamples(t *testing.T) {
	packets := []Packet{
		{Type: Message, Data: []byte("hello")},
		{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true},
	}
	body := AppendPayload(nil, packets)
	if string(body) != "4hello\x1ebAQIDBA==" {
		t.Fatalf("encoded %q", body)
	}
	var got []Packet
	if err := DecodePayload(body, func(p Packet) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0].Data) != "hello" || !got[1].Binary || !bytes.Equal(got[1].Data, []byte{1, 2, 3, 4}) {
		t.Fatalf("decoded %+v", got)
	}
}

func TestDecodePayloadSplitsSeveralPackets(t *testing.T) {
	var got []string
	err := DecodePayload([]byte("4test1\x1e4test2\x1e2\x1e4test3"), func(p Packet) error {
		got = append(got, p.Type.String()+":"+string(p.Data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"message:test1", "message:test2", "ping:", "message:test3"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestDecodePayloadStopsAtTheFirstMalformedPacket(t *testing.T) {
	var n int
	err := DecodePayload([]byte("4ok\x1eabc\x1e4never"), func(Packet) error { n++; return nil })
	if !errors.Is(err, ErrInvalidPacket) || n != 1 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	for _, in := range []string{"", "\x1e", "4a\x1e", "b!!!", "4\xff"} {
		if err := DecodePayload([]byte(in), func(Packet) error { return nil }); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("%q: want ErrInvalidPacket, got %v", in, err)
		}
	}
}

func TestDecodePayloadReturnsTheCallbackError(t *testing.T) {
	stop := errors.New("stop")
	if err := DecodePayload([]byte("4a\x1e4b"), func(Packet) error { return stop }); err != stop {
		t.Fatalf("got %v", err)
	}
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"4hello", "4hello\x1ebAQIDBA==", "2\x1e3\x1e6", "1", "b", "", "abc", "4\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var packets []Packet
		err := DecodePayload(body, func(p Packet) error {
			packets = append(packets, Packet{Type: p.Type, Data: bytes.Clone(p.Data), Binary: p.Binary})
			return nil
		})
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("error does not wrap ErrInvalidPacket: %v", err)
			}
			return
		}
		// A payload that decodes re-encodes to a payload decoding to the same packets.
		again := AppendPayload(nil, packets)
		var i int
		err = DecodePayload(again, func(p Packet) error {
			q := packets[i]
			if p.Type != q.Type || p.Binary != q.Binary || !bytes.Equal(p.Data, q.Data) {
				t.Fatalf("round trip %d: %+v != %+v", i, p, q)
			}
			i++
			return nil
		})
		if err != nil || i != len(packets) {
			t.Fatalf("re-decode: %v after %d of %d", err, i, len(packets))
		}
	})
}

func FuzzDecodePacket(f *testing.F) {
	f.Add([]byte("4hello"), false)
	f.Add([]byte{1, 2}, true)
	f.Add([]byte("2probe"), false)
	f.Add([]byte("bAQID"), false)
	f.Fuzz(func(t *testing.T, frame []byte, binary bool) {
		p, err := DecodePacket(frame, binary)
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("error does not wrap ErrInvalidPacket: %v", err)
			}
			return
		}
		if !binary && len(frame) > 0 && frame[0] == 'b' { // base64 text: any valid spelling
			again, err := DecodePacket(AppendPayloadPacket(nil, p), false)
			if err != nil || !again.Binary || !bytes.Equal(again.Data, p.Data) {
				t.Fatalf("round trip of %q: %+v, %v", frame, again, err)
			}
			return
		}
		if got := AppendPacket(nil, p); !bytes.Equal(got, frame) {
			t.Fatalf("round trip: %q != %q", got, frame)
		}
	})
}

func BenchmarkDecodePayload(b *testing.B) {
	body := AppendPayload(nil, []Packet{
		{Type: Message, Data: []byte(`2["chat message",{"username":"bench","message":"hello"}]`)},
		{Type: Pong},
		{Type: Message, Data: []byte(`2["chat message","hi"]`)},
	})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_ = DecodePayload(body, func(Packet) error { return nil })
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	packets := []Packet{
		{Type: Message, Data: []byte(`2["chat message",{"username":"bench","message":"hello"}]`)},
		{Type: Message, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Binary: true},
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPayload(buf[:0], packets)
	}
}
