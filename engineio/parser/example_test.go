package parser_test

import (
	"fmt"

	"switchboard/engineio/parser"
)

func ExampleDecodePayload() {
	body := []byte("4hello\x1ebAQIDBA==")
	_ = parser.DecodePayload(body, func(p parser.Packet) error {
		fmt.Println(p.Type, p.Binary, p.Data)
		return nil
	})
	// Output:
	// message false [104 101 108 108 111]
	// message true [1 2 3 4]
}
