package parser_test

import (
	"encoding/json"
	"fmt"

	"switchboard/socketio/parser"
)

func ExampleDecoder() {
	var d parser.Decoder

	// A BINARY_EVENT on /uploads with ack id 7 announces one attachment...
	p, err := d.DecodeText([]byte(`51-/uploads,7["file",{"name":"a.bin","data":{"_placeholder":true,"num":0}}]`))
	fmt.Println(p, err)

	// ...which arrives as the next (binary) message and completes the packet.
	p, err = d.DecodeBinary([]byte{0xde, 0xad, 0xbe, 0xef})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Type, p.Namespace, p.ID, len(p.Attachments))

	// The socketio layer splits the arguments without decoding them...
	args, _ := parser.SplitArray(nil, p.Data)
	event, _ := parser.UnquoteString(args[0])
	fmt.Println(event)

	// ...and a handler decodes one into a Go value, attachments included.
	arg, _ := parser.ReplacePlaceholders(args[1], p.Attachments)
	fmt.Println(string(arg))
	var file struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	if err := json.Unmarshal(arg, &file); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s % x\n", file.Name, file.Data)
	// Output:
	// <nil> <nil>
	// BINARY_EVENT /uploads 7 1
	// file
	// {"name":"a.bin","data":"3q2+7w=="}
	// a.bin de ad be ef
}

func ExamplePacket_AppendText() {
	data := []byte{'['}
	data = parser.AppendString(data, "chat message")
	data = append(data, ',')
	data = parser.AppendString(data, `hello "world"`)
	data = append(data, ']')

	p := parser.Packet{Type: parser.Event, Namespace: "/chat", ID: 3, HasID: true, Data: data}
	fmt.Println(string(p.AppendText([]byte("4")))) // "4": the Engine.IO message type
	// Output: 42/chat,3["chat message","hello \"world\""]
}
