package parser

import (
	"encoding/json"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s to dst as a JSON string, byte for byte as
// JavaScript's JSON.stringify writes it, and returns the extended buffer:
// only '"', '\\' and control characters are escaped, as \b \f \n \r \t or
// \u00xx (lowercase hex); '<', '>', '&', U+2028 and U+2029 are written as
// they are (encoding/json would escape them). Each byte of s that is not part
// of valid UTF-8 is written as U+FFFD, as a range loop over s would see it.
//
// It does not allocate when dst has room.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainStringByte[c] && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\uFFFD"...)
				start = i + 1
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// UnquoteString decodes raw, exactly one JSON string token including its
// quotes, into a Go string. A string without escapes costs one string
// conversion; one with escapes is decoded by encoding/json, which turns
// escaped lone surrogates and invalid UTF-8 into U+FFFD. Anything other than
// a JSON string yields an error wrapping ErrInvalidPacket.
func UnquoteString(raw []byte) (string, error) {
	n := len(raw)
	if n < 2 || raw[0] != '"' || raw[n-1] != '"' {
		return "", invalid("not a JSON string")
	}
	body := raw[1 : n-1]
	plain := true
	ascii := true
	for _, c := range body {
		if c < 0x20 || c == '"' || c == '\\' {
			plain = false
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if plain && (ascii || utf8.Valid(body)) {
		return string(body), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid("not a JSON string: %v", err)
	}
	return s, nil
}
