package interop

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

const (
	eioPoll = "/engine.io/?EIO=4&transport=polling"
	eioWS   = "/engine.io/?EIO=4&transport=websocket"
	sioWS   = "/socket.io/?EIO=4&transport=websocket"
)

// Lines of the transcripts where Switchboard diverges on purpose.
const (
	eioHandshake = `GET /engine.io/?EIO=4&transport=polling → 200 [text/plain;charset=utf-8] 0{"maxPayload":1000000,"pingInterval":1500,"pingTimeout":1500,"sid":"<id>","upgrades":["websocket"]}`
	eioBadPost   = `POST /engine.io/?EIO=4&transport=polling&sid={sid} → 400 [application/json] {"code":3,"message":"Bad request"}`
	eioGone      = `GET /engine.io/?EIO=4&transport=polling&sid={sid} → 400 [application/json] {"code":1,"message":"Session ID unknown"}`
	closeNormal  = `← close (normal)`
)

// sioOpen is the start of a transcript of a WebSocket connected to "/".
var sioOpen = []string{
	`WS /socket.io/?EIO=4&transport=websocket open`,
	`← 0{"maxPayload":1000000,"pingInterval":1500,"pingTimeout":1500,"sid":"<id>","upgrades":[]}`,
	`← 40{"sid":"<id>"}`,
	`← 42["auth",{}]`,
}

// undecodable is why an undecodable polling body gets an error of its own.
const undecodable = "a POST body that does not decode is answered 400 Bad request at once, and the session closes; " +
	"Node answers 200 \"ok\" and closes the session (with reason \"parse error\") behind it, so the client learns of it at its next request"

// passedThrough is why echoed numbers keep their JSON text.
const passedThrough = "arguments are passed to handlers as the JSON text received (Args), and the fixture echoes them so; " +
	"Node parses them into JavaScript numbers and prints those (-0 as 0, 1e400 as null)"

// withoutPayload is why EVENT and ACK packets without payload are refused.
const withoutPayload = "an EVENT or ACK without payload is a parse error (the protocol's payload is an array); Node's parser lets it through and the server ignores it"

// lateRefusal is why a WebSocket of an unsupported protocol is refused
// before the upgrade.
const lateRefusal = "a WebSocket handshake of an unsupported protocol version is refused with 400 before the upgrade; " +
	"Node completes the upgrade, then writes its HTTP 400 answer into the WebSocket, which a client reads as a broken frame (here a close frame with code 21584, \"TP\" of \"HTTP\")"

// eioSession opens an Engine.IO polling session.
func eioSession(p *peer) { p.handshake("/engine.io/") }

// eioPost posts body to the session.
func eioPost(p *peer, body string) {
	p.request("POST", eioPoll+"&sid={sid}", body, "Content-Type", "text/plain;charset=UTF-8")
}

// sioSocket opens a WebSocket to /socket.io/ and reads the open packet.
func sioSocket(p *peer) bool {
	if !p.dial(sioWS) {
		return false
	}
	p.expect(1)
	return true
}

// sioConnected also connects to the main namespace (the CONNECT reply and
// the fixture's "auth" event).
func sioConnected(p *peer) bool {
	if !sioSocket(p) {
		return false
	}
	p.text("40")
	p.expect(2)
	return true
}

// after sends text on a socket connected to "/" and logs what follows: up
// to n messages, then the close if the server closes.
func after(n int, texts ...string) func(p *peer) {
	return func(p *peer) {
		if !sioConnected(p) {
			return
		}
		for _, s := range texts {
			p.text(s)
		}
		p.expect(n)
		p.quiet(300 * time.Millisecond)
	}
}

// closes sends text on a connected socket and waits for the close.
func closes(texts ...string) func(p *peer) {
	return func(p *peer) {
		if !sioConnected(p) {
			return
		}
		for _, s := range texts {
			p.text(s)
		}
		p.closed()
	}
}

func TestDifferentialEngineIOHandshake(t *testing.T) {
	get := func(pathQuery string) func(p *peer) {
		return func(p *peer) { p.request("GET", pathQuery, "") }
	}
	runDiffCases(t, []diffCase{
		{name: "polling handshake", run: get(eioPoll)},
		{name: "no protocol version", run: get("/engine.io/?transport=polling")},
		{name: "protocol 3", run: get("/engine.io/?EIO=3&transport=polling")},
		{name: "protocol 5", run: get("/engine.io/?EIO=5&transport=polling")},
		{name: "protocol not a number", run: get("/engine.io/?EIO=four&transport=polling")},
		{name: "no transport", run: get("/engine.io/?EIO=4")},
		{name: "unknown transport", run: get("/engine.io/?EIO=4&transport=carrier-pigeon")},
		{name: "unknown session", run: get(eioPoll + "&sid=AAAAAAAAAAAAAAAAAAAA")},
		{name: "unknown session, POST", run: func(p *peer) { p.request("POST", eioPoll+"&sid=AAAAAAAAAAAAAAAAAAAA", "4x") }},
		{name: "handshake by POST", run: func(p *peer) { p.request("POST", eioPoll, "4x") }},
		{name: "handshake by PUT", run: func(p *peer) { p.request("PUT", eioPoll, "4x") }},
		{name: "CORS preflight", run: func(p *peer) {
			p.request("OPTIONS", eioPoll, "", "Origin", "https://example.com", "Access-Control-Request-Method", "POST")
		}},
		{name: "websocket transport over plain GET", run: get(eioWS)},
	})
}

func TestDifferentialEngineIOPolling(t *testing.T) {
	// echoed posts body, then polls for the echo.
	echoed := func(bodies ...string) func(p *peer) {
		return func(p *peer) {
			eioSession(p)
			for _, b := range bodies {
				eioPost(p, b)
			}
			p.poll("/engine.io/")
		}
	}
	// thenGET posts body, then asks for the session's next payload once.
	thenGET := func(body string) func(p *peer) {
		return func(p *peer) {
			eioSession(p)
			eioPost(p, body)
			p.request("GET", eioPoll+"&sid={sid}", "")
		}
	}
	runDiffCases(t, []diffCase{
		{name: "message echoed", run: echoed("4hello")},
		{name: "several messages in one payload", run: echoed("4a\x1e4b\x1e4c")},
		{name: "binary message", run: echoed("bAQID")},
		{name: "empty message", run: echoed("4")},
		{name: "noop packet", run: echoed("6", "4after")},
		{name: "empty body", run: thenGET(""), diverge: undecodable, ours: transcript(eioHandshake, eioBadPost, eioGone)},
		{name: "garbage body", run: thenGET("x"), diverge: undecodable, ours: transcript(eioHandshake, eioBadPost, eioGone)},
		{name: "unknown packet type", run: thenGET("9x"), diverge: undecodable, ours: transcript(eioHandshake, eioBadPost, eioGone)},
		{name: "bad base64", run: thenGET("b!!!"), diverge: "invalid base64 is refused as undecodable; Node decodes what it can of it (here an empty message) and echoes that",
			ours: transcript(eioHandshake, eioBadPost, eioGone)},
		{name: "close packet", run: thenGET("1"), diverge: "after the client's close packet, a poll that raced it (we serve requests in parallel) ends with a noop instead of an error, for a pingInterval+pingTimeout; " +
			"Node, on one thread, has closed the session by then",
			ours: transcript(eioHandshake, `POST /engine.io/?EIO=4&transport=polling&sid={sid} → 200 [text/html] ok`, `GET /engine.io/?EIO=4&transport=polling&sid={sid} → 200 [text/plain;charset=utf-8] 6`)},
		{name: "body over maxPayload", run: thenGET("4" + strings.Repeat("x", 1_000_001)), diverge: "a body over maxHttpBufferSize (413) closes the session, as it does over WebSocket; Node keeps it until the ping timeout, though its client gives up on it at once",
			ours: transcript(eioHandshake, `POST /engine.io/?EIO=4&transport=polling&sid={sid} → 413 [] `, eioGone)},
		{name: "two polls at once", run: func(p *peer) {
			eioSession(p)
			done := make(chan struct{})
			var first *peer
			go func() {
				defer close(done)
				first = &peer{t: p.t, tg: p.tg, sid: p.sid}
				first.request("GET", eioPoll+"&sid={sid}", "")
			}()
			time.Sleep(200 * time.Millisecond)
			p.request("GET", eioPoll+"&sid={sid}", "")
			<-done
			p.out = append(p.out, first.out...)
			p.request("GET", eioPoll+"&sid={sid}", "")
		}, diverge: "the overlapping poll's 400 says why in the protocol's JSON error, where Node's has an empty body",
			ours: transcript(eioHandshake, `GET /engine.io/?EIO=4&transport=polling&sid={sid} → 400 [application/json] {"code":3,"message":"Bad request"}`,
				`GET /engine.io/?EIO=4&transport=polling&sid={sid} → 200 [text/plain;charset=utf-8] 1`, eioGone)},
		{name: "base64 binary for b64 clients", run: func(p *peer) {
			p.request("GET", eioPoll+"&b64=1", "")
		}},
	})
}

// probed opens a polling session and a WebSocket for it, and probes it
// (the first half of an upgrade).
func probed(p *peer) bool {
	eioSession(p)
	if !p.dial(eioWS + "&sid={sid}") {
		return false
	}
	p.text("2probe")
	p.expect(1)
	return true
}

// eioFrames opens an Engine.IO WebSocket, reads the open packet, sends fs
// and logs what follows.
func eioFrames(fs ...ws.Frame) func(p *peer) {
	return func(p *peer) {
		if !p.dial(eioWS) {
			return
		}
		p.expect(1)
		for _, f := range fs {
			p.frame(f)
		}
		p.quiet(400 * time.Millisecond)
	}
}

func TestDifferentialEngineIOWebSocket(t *testing.T) {
	send := func(texts ...string) func(p *peer) {
		var fs []ws.Frame
		for _, s := range texts {
			fs = append(fs, ws.NewTextFrame([]byte(s)))
		}
		return eioFrames(fs...)
	}
	runDiffCases(t, []diffCase{
		{name: "open and echo", run: send("4hello", "4", "4ünïcödé")},
		{name: "binary echo", run: func(p *peer) {
			if !p.dial(eioWS) {
				return
			}
			p.expect(1)
			p.binary([]byte{1, 2, 3})
			p.binary(nil)
			p.expect(2)
		}},
		{name: "unsolicited pong and noop", run: send("3", "6", "4after")},
		{name: "garbage text", run: send("x")},
		{name: "empty text", run: send("")},
		{name: "unknown packet type", run: send("9")},
		{name: "close packet", run: send("1"), diverge: "a close packet closes the session over WebSocket too (the protocol's meaning); Node acts on it over polling only",
			ours: transcript(`WS /engine.io/?EIO=4&transport=websocket open`,
				`← 0{"maxPayload":1000000,"pingInterval":1500,"pingTimeout":1500,"sid":"<id>","upgrades":[]}`, closeNormal)},
		{name: "message over maxPayload", run: send("4" + strings.Repeat("x", 1_000_001))},
		{name: "unknown session", run: func(p *peer) { p.dial(eioWS + "&sid=AAAAAAAAAAAAAAAAAAAA") }},
		{name: "protocol 3", run: func(p *peer) {
			if p.dial("/engine.io/?EIO=3&transport=websocket") {
				p.closed()
			}
		}, diverge: lateRefusal, ours: transcript(`WS /engine.io/?EIO=3&transport=websocket refused: 400`)},
		{name: "no protocol version", run: func(p *peer) {
			if p.dial("/engine.io/?transport=websocket") {
				p.closed()
			}
		}, diverge: lateRefusal, ours: transcript(`WS /engine.io/?transport=websocket refused: 400`)},
		{name: "polling session's id on a new WebSocket without probe", run: func(p *peer) {
			eioSession(p)
			if p.dial(eioWS + "&sid={sid}") {
				p.text("4hello")
				p.quiet(400 * time.Millisecond)
				eioPost(p, "4polling")
				p.poll("/engine.io/")
			}
		}},
		{name: "upgrade", run: func(p *peer) {
			if !probed(p) {
				return
			}
			p.request("GET", eioPoll+"&sid={sid}", "") // the pending poll is ended with a noop
			p.text("5")
			p.text("4upgraded")
			p.expect(1)
			p.request("GET", eioPoll+"&sid={sid}", "")
		}},
		{name: "upgrade without probe", run: func(p *peer) {
			eioSession(p)
			if !p.dial(eioWS + "&sid={sid}") {
				return
			}
			p.text("5")
			p.quiet(400 * time.Millisecond)
		}},
		{name: "message on the probe before the upgrade", run: func(p *peer) {
			if !probed(p) {
				return
			}
			p.text("4early")
			p.text("5")
			p.text("4late")
			p.quiet(400 * time.Millisecond)
			p.request("GET", eioPoll+"&sid={sid}", "")
		}},
		{name: "polling POST after the upgrade", run: func(p *peer) {
			if !probed(p) {
				return
			}
			p.text("5")
			p.quiet(200 * time.Millisecond)
			eioPost(p, "4by polling")
			p.quiet(400 * time.Millisecond)
		}},
		{name: "second upgrade", run: func(p *peer) {
			if !probed(p) {
				return
			}
			p.text("5")
			q := &peer{t: p.t, tg: p.tg, sid: p.sid}
			q.dial(eioWS + "&sid={sid}")
			p.out = append(p.out, q.out...)
		}},
	})
}

func TestDifferentialSocketIOConnect(t *testing.T) {
	connect := func(texts ...string) func(p *peer) {
		return func(p *peer) {
			if !sioSocket(p) {
				return
			}
			for _, s := range texts {
				p.text(s)
			}
			p.quiet(400 * time.Millisecond)
		}
	}
	runDiffCases(t, []diffCase{
		{name: "main namespace", run: connect("40")},
		{name: "with auth", run: connect(`40{"token":"abc","n":[1,2]}`)},
		{name: "custom namespace", run: connect("40/custom,")},
		{name: "custom namespace without comma", run: connect("40/custom")},
		{name: "custom namespace with auth", run: connect(`40/custom,{"a":1}`)},
		{name: "unknown namespace", run: connect("40/nope,")},
		{name: "namespace with a query", run: connect("40/custom?x=1,")},
		{name: "auth a string", run: connect(`40"token"`)},
		{name: "auth an array", run: connect(`40[1]`)},
		{name: "auth null", run: connect(`40null`)},
		{name: "auth not JSON", run: connect(`40{bad`)},
		{name: "twice", run: connect("40", "40"), diverge: "a CONNECT to a namespace being connected is ignored: the official client sends it again when connect() is called before the reply, " +
			"and the reply answers both; Node connects a second socket (and closes the connection if the first is connected by then)",
			ours: sioOpen},
		{name: "event before connect", run: connect(`42["message",1]`)},
		{name: "connect error from the client", run: connect(`44{"message":"x"}`)},
		{name: "disconnect before connect", run: connect("41")},
		{name: "empty packet", run: connect("4")},
		{name: "unknown packet type", run: connect("49")},
		{name: "two namespaces", run: connect("40", "40/custom,")},
		{name: "no connect in time", run: func(p *peer) {
			if !sioSocket(p) {
				return
			}
			p.closed()
		}},
	})
}

func TestDifferentialSocketIOEvents(t *testing.T) {
	runDiffCases(t, []diffCase{
		{name: "event", run: after(1, `42["message",1,"a",{"b":[true,null]}]`)},
		{name: "event without arguments", run: after(1, `42["message"]`)},
		{name: "event with ack", run: after(1, `421["message-with-ack",1,2]`)},
		{name: "ack id with leading zeros", run: after(1, `42007["message-with-ack","x"]`)},
		{name: "ack id past 2^53", run: after(1, `4212345678901234567890["message-with-ack"]`),
			diverge: "an ack id too large for an int64 is refused as a parse error; Node rounds it to a float and answers under another id",
			ours:    transcript(sioOpen, closeNormal)},
		{name: "numbers", run: after(1, `42["message",1.0,-0,1e3,12345678901234567890,0.1,-1.5e-7]`),
			diverge: passedThrough, ours: transcript(sioOpen, `← 42["message-back",1,-0,1000,12345678901234567000,0.1,-1.5e-7]`)},
		{name: "number out of range", run: after(1, `42["message",1e400]`),
			diverge: passedThrough, ours: transcript(sioOpen, `← 42["message-back",1e400]`)},
		{name: "duplicate keys", run: after(1, `42["message",{"a":1,"a":2}]`)},
		{name: "strings", run: after(1, `42["message","\u0000\u2028\ud83d\ude00","\ud800","<>&"]`)},
		{name: "numeric event name", run: after(0, `42[1,2]`, `42["message","after"]`)},
		{name: "unknown event", run: after(0, `42["nobody listens"]`, `42["message","after"]`)},
		{name: "ack for nothing", run: after(0, `43[1]`, `431[1]`, `42["message","after"]`)},
		{name: "disconnect", run: after(0, `41`)},
		{name: "disconnect then event", run: func(p *peer) {
			// An event for a namespace the client has left closes the
			// connection. Sent together with the DISCONNECT, it may be
			// dropped instead, by Node too (which handles a DISCONNECT a
			// tick late, when both arrive in one read), hence the pause.
			if sioConnected(p) {
				p.text(`41`)
				time.Sleep(200 * time.Millisecond)
				p.text(`42["message"]`)
				p.closed()
			}
		}},
		{name: "disconnect from another namespace", run: closes(`41/nope,`)},
		{name: "reserved event name", run: closes(`42["connect"]`)},
		{name: "reserved event name disconnecting", run: closes(`42["disconnecting"]`)},
		{name: "empty array", run: closes(`42[]`)},
		{name: "object", run: closes(`42{}`)},
		{name: "string", run: closes(`42"x"`)},
		{name: "no data", run: closes(`42`), diverge: withoutPayload, ours: transcript(sioOpen, closeNormal)},
		{name: "ack without data", run: closes(`43`), diverge: withoutPayload, ours: transcript(sioOpen, closeNormal)},
		{name: "ack with an object", run: closes(`431{}`)},
		{name: "not JSON", run: closes(`42["message"`)},
		{name: "trailing bytes", run: closes(`42["message"]x`)},
	})
}

func TestDifferentialSocketIOBinary(t *testing.T) {
	bin := func(header string, parts ...[]byte) func(p *peer) {
		return func(p *peer) {
			if !sioConnected(p) {
				return
			}
			p.text(header)
			for _, b := range parts {
				p.binary(b)
			}
			p.quiet(400 * time.Millisecond)
		}
	}
	runDiffCases(t, []diffCase{
		{name: "one attachment", run: bin(`451-["message",{"_placeholder":true,"num":0}]`, []byte{1, 2, 3})},
		{name: "two attachments with ack", run: bin(`452-3["message-with-ack",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`, []byte{1}, []byte{2})},
		{name: "no attachment count", run: bin(`45["message"]`)},
		{name: "count not a number", run: bin(`45x-["message"]`)},
		{name: "zero attachments", run: bin(`450-["message","x"]`)},
		{name: "placeholder out of range", run: bin(`451-["message",{"_placeholder":true,"num":5}]`, []byte{1})},
		{name: "placeholder num a string", run: bin(`451-["message",{"_placeholder":true,"num":"0"}]`, []byte{1})},
		{name: "binary without a packet", run: func(p *peer) {
			if !sioConnected(p) {
				return
			}
			p.binary([]byte{1})
			p.closed()
		}},
		{name: "text while attachments are pending", run: bin(`451-["message",{"_placeholder":true,"num":0}]`)},
		{name: "text between attachments", run: func(p *peer) {
			if !sioConnected(p) {
				return
			}
			p.text(`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
			p.binary([]byte{1})
			p.text(`42["message"]`)
			p.closed()
		}},
		{name: "binary ack", run: bin(`461-7[{"_placeholder":true,"num":0}]`, []byte{9})},
	})
}

func TestDifferentialSocketIOPolling(t *testing.T) {
	post := func(p *peer, body string) {
		p.request("POST", "/socket.io/?EIO=4&transport=polling&sid={sid}", body, "Content-Type", "text/plain;charset=UTF-8")
	}
	runDiffCases(t, []diffCase{
		{name: "connect and event", run: func(p *peer) {
			p.handshake("/socket.io/")
			post(p, "40")
			p.poll("/socket.io/")
			post(p, `42["message","x"]`+"\x1e"+`421["message-with-ack",2]`)
			p.poll("/socket.io/")
		}},
		{name: "binary over polling", run: func(p *peer) {
			p.handshake("/socket.io/")
			post(p, "40")
			p.poll("/socket.io/")
			post(p, `451-["message",{"_placeholder":true,"num":0}]`+"\x1ebAQID")
			p.poll("/socket.io/")
		}},
		{name: "invalid packet closes the session", run: func(p *peer) {
			p.handshake("/socket.io/")
			post(p, "40")
			p.poll("/socket.io/")
			post(p, `42{}`)
			p.request("GET", "/socket.io/?EIO=4&transport=polling&sid={sid}", "")
			p.request("GET", "/socket.io/?EIO=4&transport=polling&sid={sid}", "")
		}},
		{name: "upgrade of a connected socket", run: func(p *peer) {
			p.handshake("/socket.io/")
			post(p, "40")
			p.poll("/socket.io/")
			if !p.dial(sioWS + "&sid={sid}") {
				return
			}
			p.text("2probe")
			p.expect(1)
			post(p, `42["message","by polling while probing"]`)
			p.poll("/socket.io/")
			p.text("5")
			p.text(`42["message","over the WebSocket"]`)
			p.expect(1)
			post(p, `42["message","by polling after"]`)
			p.quiet(300 * time.Millisecond)
		}},
		{name: "packet out of place closes the session", run: func(p *peer) {
			p.handshake("/socket.io/")
			post(p, `42["message"]`)
			p.request("GET", "/socket.io/?EIO=4&transport=polling&sid={sid}", "")
			p.request("GET", "/socket.io/?EIO=4&transport=polling&sid={sid}", "")
		}},
		{name: "no connect in time", run: func(p *peer) {
			p.handshake("/socket.io/")
			time.Sleep(1200 * time.Millisecond)
			p.request("GET", "/socket.io/?EIO=4&transport=polling&sid={sid}", "")
			p.request("GET", "/socket.io/?EIO=4&transport=polling&sid={sid}", "")
		}},
	})
}

// opsSocket opens WebSocket name and connects it to "/ops".
func opsSocket(p *peer, name string) bool {
	p.as(name)
	if !p.dial(sioWS) {
		return false
	}
	p.expect(1)
	p.text("40/ops,")
	p.expect(1)
	return true
}

// The server API side by side: rooms, broadcast operators, acks both ways,
// disconnections, bulk operations and middleware refusals, asked for by
// the client on "/ops" (js/reference.mjs and opsNamespace).
func TestDifferentialSocketIOServerAPI(t *testing.T) {
	// two opens sockets A and B on "/ops", each in the rooms listed.
	two := func(roomsA, roomsB []string, then func(p *peer)) func(p *peer) {
		return func(p *peer) {
			for i, rooms := range [][]string{roomsA, roomsB} {
				if !opsSocket(p, string(rune('A'+i))) {
					return
				}
				for _, r := range rooms {
					p.text(`42/ops,1["join","` + r + `"]`)
					p.expect(1)
				}
			}
			then(p)
		}
	}
	// heard logs what A and B receive next (up to n each).
	heard := func(p *peer, n int) {
		for _, name := range []string{"A", "B"} {
			p.as(name)
			p.expect(n)
			p.quiet(200 * time.Millisecond)
		}
	}
	runDiffCases(t, []diffCase{
		{name: "middleware refusal with data", run: func(p *peer) {
			if sioSocket(p) {
				p.text("40/refuse,")
				p.quiet(400 * time.Millisecond)
			}
		}},
		{name: "middleware refusal without data", run: func(p *peer) {
			if sioSocket(p) {
				p.text("40/plain,")
				p.quiet(400 * time.Millisecond)
			}
		}},
		{name: "dynamic namespaces", run: func(p *peer) {
			if sioSocket(p) {
				p.text("40/dyn-1,")
				p.expect(2)
				p.text("40/dyn-22,")
				p.expect(2)
				p.text("40/dyn-x,")
				p.expect(1)
				p.text(`42/dyn-1,["message"]`)
				p.quiet(300 * time.Millisecond)
			}
		}},
		{name: "join and leave", run: func(p *peer) {
			if opsSocket(p, "A") {
				p.text(`42/ops,1["join","a"]`)
				p.text(`42/ops,2["join","b"]`)
				p.text(`42/ops,3["leave","a"]`)
				p.text(`42/ops,4["leave","nowhere"]`)
				p.expect(4)
			}
		}},
		{name: "to a room leaves the sender out", run: two([]string{"r1"}, []string{"r1"}, func(p *peer) {
			p.as("A")
			p.text(`42/ops,["to","r1",1,{"x":"y"}]`)
			heard(p, 0)
		})},
		{name: "in a room includes the sender", run: two([]string{"r2"}, []string{"r2"}, func(p *peer) {
			p.as("A")
			p.text(`42/ops,["in","r2","hi"]`)
			heard(p, 1)
		})},
		{name: "except a room", run: two([]string{"r3"}, []string{"r3b"}, func(p *peer) {
			p.as("A")
			p.text(`42/ops,["except","r3","hi"]`)
			p.as("B")
			p.expect(1)
			p.as("A")
			p.quiet(200 * time.Millisecond)
		})},
		{name: "in two rooms, once", run: two([]string{"r4", "r5"}, []string{"r5"}, func(p *peer) {
			p.as("B")
			p.text(`42/ops,["move","r5","r4"]`)
			p.text(`42/ops,["in","r4","once"]`)
			heard(p, 1)
		})},
		{name: "acknowledgement with several values", run: func(p *peer) {
			if opsSocket(p, "A") {
				p.text(`42/ops,7["acks"]`)
				p.expect(1)
			}
		}},
		{name: "acknowledgement with binary", run: func(p *peer) {
			if opsSocket(p, "A") {
				p.text(`42/ops,8["bin"]`)
				p.expect(3)
			}
		}},
		{name: "question answered", run: func(p *peer) {
			if opsSocket(p, "A") {
				p.text(`42/ops,["ask",2000,"q",{"n":1}]`)
				p.expect(1)
				p.answer("/ops,", `["yes",2]`)
				p.expect(1)
			}
		}},
		{name: "question not answered in time", run: func(p *peer) {
			if opsSocket(p, "A") {
				p.text(`42/ops,["ask",100,"q"]`)
				p.expect(2)
				p.answer("/ops,", `["late"]`)
				p.quiet(300 * time.Millisecond)
			}
		}},
		{name: "question to a room", run: two([]string{"r6"}, []string{"r6"}, func(p *peer) {
			p.as("A")
			p.text(`42/ops,["ask room","r6",2000,"q"]`)
			p.expect(1)
			p.answer("/ops,", `["a"]`)
			p.as("B")
			p.expect(1)
			p.answer("/ops,", `["b"]`)
			p.as("A")
			p.expect(1)
		})},
		{name: "question to a room, one silent", run: two([]string{"r7"}, []string{"r7"}, func(p *peer) {
			p.as("A")
			p.text(`42/ops,["ask room","r7",300,"q"]`)
			p.expect(1)
			p.answer("/ops,", `["a"]`)
			p.expect(1)
			p.as("B")
			p.expect(1)
		})},
		{name: "disconnected by the server", run: func(p *peer) {
			if opsSocket(p, "A") {
				p.text(`42/ops,["disconnect me",false]`)
				p.expect(1)
				// An event for a namespace no longer connected closes the
				// connection (Node's "invalid state"). One that crossed the
				// DISCONNECT on the wire may be dropped instead while the
				// socket's teardown runs (Node's teardown is synchronous),
				// hence the pause.
				time.Sleep(200 * time.Millisecond)
				p.text(`42/ops,["acks"]`)
				p.quiet(300 * time.Millisecond)
			}
		}},
		{name: "disconnected by the server, connection closed", run: func(p *peer) {
			if opsSocket(p, "A") {
				p.text(`42/ops,["disconnect me",true]`)
				p.closed()
			}
		}},
		{name: "sockets of a room fetched", run: two([]string{"r8"}, []string{"r8"}, func(p *peer) {
			p.as("A")
			p.text(`42/ops,9["fetch","r8"]`)
			p.text(`42/ops,10["fetch","r-none"]`)
			p.expect(2)
		})},
		{name: "sockets of a room disconnected", run: two([]string{"r9"}, []string{"r9"}, func(p *peer) {
			p.as("A")
			p.text(`42/ops,["kick","r9"]`)
			heard(p, 1)
		})},
		{name: "reconnect to a namespace", run: func(p *peer) {
			if opsSocket(p, "A") {
				p.text(`41/ops,`)
				p.text(`40/ops,`)
				p.expect(1)
				p.text(`42/ops,11["join","again"]`)
				p.expect(1)
			}
		}, diverge: "a CONNECT right after a DISCONNECT of the same namespace (socket.disconnect().connect()) connects again; " +
			"Node closes the connection when both arrive in one read, as the DISCONNECT is handled a tick later and the CONNECT finds the socket still there",
			ours: transcript(`[A] WS /socket.io/?EIO=4&transport=websocket open`,
				`[A] ← 0{"maxPayload":1000000,"pingInterval":1500,"pingTimeout":1500,"sid":"<id>","upgrades":[]}`,
				`[A] ← 40/ops,{"sid":"<id>"}`, `[A] ← 40/ops,{"sid":"<id>"}`, `[A] ← 43/ops,11[["again"]]`)},
	})
}

// CORS as both servers answer it with cors {origin: "*"} (Node's cors
// package; our engineio.CORS): preflights, polling requests with and
// without an Origin, errors.
func TestDifferentialCORS(t *testing.T) {
	origin := []string{"Origin", "https://example.com"}
	cors := func(run func(p *peer)) func(p *peer) {
		return func(p *peer) {
			p.headers = corsHeaders
			run(p)
		}
	}
	runDiffCases(t, []diffCase{
		{name: "preflight", run: cors(func(p *peer) {
			p.request("OPTIONS", eioPoll, "", append(origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-custom")...)
		})},
		{name: "handshake with an origin", run: cors(func(p *peer) { p.request("GET", eioPoll, "", origin...) })},
		{name: "handshake without an origin", run: cors(func(p *peer) { p.request("GET", eioPoll, "") }),
			diverge: "CORS headers go only with requests that carry an Origin (the only ones a browser checks); Node's cors package sends Access-Control-Allow-Origin: * with every answer",
			ours:    transcript(`GET /engine.io/?EIO=4&transport=polling → 200 [text/plain;charset=utf-8] 0{"maxPayload":1000000,"pingInterval":1500,"pingTimeout":1500,"sid":"<id>","upgrades":["websocket"]}`, `  headers: `)},
		{name: "error with an origin", run: cors(func(p *peer) { p.request("GET", "/engine.io/?EIO=3&transport=polling", "", origin...) })},
		{name: "post and poll with an origin", run: cors(func(p *peer) {
			p.handshake("/engine.io/", origin...)
			p.request("POST", eioPoll+"&sid={sid}", "4x", append(origin, "Content-Type", "text/plain;charset=UTF-8")...)
			p.request("GET", eioPoll+"&sid={sid}", "", origin...)
		})},
		{name: "socket.io handshake with an origin", run: cors(func(p *peer) {
			p.request("GET", "/socket.io/?EIO=4&transport=polling", "", origin...)
		})},
	})
}

// Compression of long-polling answers (Node's httpCompression, on by
// default: 1 KiB threshold, gzip or deflate as the client accepts).
func TestDifferentialPollingCompression(t *testing.T) {
	poll := func(message, accept string) func(p *peer) {
		return func(p *peer) {
			p.headers = encodingHeader
			eioSession(p)
			eioPost(p, message)
			p.request("GET", eioPoll+"&sid={sid}", "", "Accept-Encoding", accept)
		}
	}
	long := "4" + strings.Repeat("compressible ", 100)
	runDiffCases(t, []diffCase{
		{name: "gzip", run: poll(long, "gzip, deflate, br")},
		{name: "deflate", run: poll(long, "deflate")},
		{name: "brotli only", run: poll(long, "br")},
		{name: "identity", run: poll(long, "identity")},
		{name: "under the threshold", run: poll("4short", "gzip")},
		{name: "gzip refused", run: poll(long, "gzip;q=0, deflate")},
	})
}

// The heartbeat, with clients that stop answering (the reference servers
// ping every 1.5 s and wait 1.5 s for the pong).
func TestDifferentialHeartbeat(t *testing.T) {
	runDiffCases(t, []diffCase{
		{name: "WebSocket client that does not answer", run: func(p *peer) {
			p.silent = true
			if p.dial(eioWS) {
				p.expect(1)
				p.expect(1) // the ping
				p.closed()
			}
		}},
		{name: "polling client that stops polling", run: func(p *peer) {
			eioSession(p)
			time.Sleep(diffPingInterval + diffPingTimeout + 500*time.Millisecond)
			p.request("GET", eioPoll+"&sid={sid}", "")
		}},
		{name: "polling client that polls but does not answer", run: func(p *peer) {
			eioSession(p)
			p.request("GET", eioPoll+"&sid={sid}", "") // the ping
			p.request("GET", eioPoll+"&sid={sid}", "") // ends with the close
			p.request("GET", eioPoll+"&sid={sid}", "")
		}},
		{name: "socket.io client that does not answer", run: func(p *peer) {
			if !sioConnected(p) {
				return
			}
			p.silent = true
			p.expect(1)
			p.closed()
		}},
	})
}

// WebSocket framing (RFC 6455) as the servers read it: fragments, control
// frames between them, and frames a client must not send. Ours is our own
// frame reader (engineio/internal/wsconn); Node's is the ws package's.
func TestDifferentialWebSocketFraming(t *testing.T) {
	text := func(fin bool, s string) ws.Frame { return ws.NewFrame(ws.OpText, fin, []byte(s)) }
	more := func(fin bool, s string) ws.Frame { return ws.NewFrame(ws.OpContinuation, fin, []byte(s)) }
	rsv1 := text(true, "4x")
	rsv1.Header.Rsv = ws.Rsv(true, false, false)
	runDiffCases(t, []diffCase{
		{name: "text in three fragments", run: eioFrames(text(false, "4he"), more(false, "ll"), more(true, "o"))},
		{name: "ping between fragments", run: eioFrames(text(false, "4a"), ws.NewPingFrame([]byte("hi")), more(true, "b"))},
		{name: "binary in two fragments", run: eioFrames(ws.NewFrame(ws.OpBinary, false, []byte{1, 2}), more(true, "\x03"))},
		{name: "empty final fragment", run: eioFrames(text(false, "4abc"), more(true, ""))},
		{name: "continuation without a start", run: eioFrames(more(true, "x"))},
		{name: "new message inside a fragmented one", run: eioFrames(text(false, "4a"), text(true, "4b"))},
		{name: "fragmented ping", run: eioFrames(ws.NewFrame(ws.OpPing, false, []byte("x")))},
		{name: "ping over 125 bytes", run: eioFrames(ws.NewPingFrame(bytes.Repeat([]byte("x"), 126)))},
		{name: "reserved bit without an extension", run: eioFrames(rsv1)},
		{name: "unknown opcode", run: eioFrames(ws.NewFrame(ws.OpCode(0x3), true, []byte("x")))},
		{name: "invalid UTF-8 in a text frame", run: eioFrames(text(true, "4\xff\xfe"))},
		{name: "UTF-8 split across fragments", run: eioFrames(text(false, "4\xe2\x82"), more(true, "\xac"))},
		{name: "close with a code", run: eioFrames(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusGoingAway, "bye")))},
		{name: "close with an invalid code", run: eioFrames(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusCode(999), "")))},
		{name: "close with a one-byte body", run: eioFrames(ws.NewFrame(ws.OpClose, true, []byte{3}))},
		{name: "fragments over maxPayload together", run: eioFrames(text(false, "4"+strings.Repeat("x", 600_000)), more(true, strings.Repeat("y", 600_000)))},
		{name: "frame declaring 2^62 bytes", run: func(p *peer) {
			if p.dial(eioWS) {
				p.expect(1)
				c := p.ws()
				// Header only: FIN+text, masked, length 127 → 64-bit length.
				_, _ = c.conn.Write([]byte{0x81, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
				p.quiet(400 * time.Millisecond)
			}
		}},
		{name: "unmasked frame", run: func(p *peer) {
			if p.dial(eioWS) {
				p.expect(1)
				p.write(text(true, "4x"))
				p.quiet(400 * time.Millisecond)
			}
		}},
	})
}
