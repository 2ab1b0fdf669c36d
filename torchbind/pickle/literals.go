package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// Encoding and decoding of the textual and integer literals pickle opcodes carry.

// encodeLong is CPython's pickle.encode_long: minimal little-endian two's
// complement.
func encodeLong(x int64) []byte {
	if x == 0 {
		return nil
	}
	abs := uint64(x)
	if x < 0 {
		abs = -abs
	}
	n := bits.Len64(abs)>>3 + 1
	var b [9]byte
	binary.LittleEndian.PutUint64(b[:], uint64(x))
	if x < 0 {
		b[8] = 0xff
	}
	out := b[:n]
	if x < 0 && n > 1 && out[n-1] == 0xff && out[n-2]&0x80 != 0 {
		out = out[:n-1]
	}
	return append([]byte(nil), out...)
}

// decodeLong decodes a little-endian two's complement LONG1/LONG4 payload.
func decodeLong(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	neg := b[len(b)-1]&0x80 != 0
	// Strip redundant sign bytes.
	for len(b) > 8 {
		last := b[len(b)-1]
		if (neg && last == 0xff && b[len(b)-2]&0x80 != 0) || (!neg && last == 0 && b[len(b)-2]&0x80 == 0) {
			b = b[:len(b)-1]
			continue
		}
		break
	}
	if len(b) > 8 {
		return 0, fmt.Errorf("integer of %d bytes does not fit in int64", len(b))
	}
	var x uint64
	if neg {
		x = math.MaxUint64
	}
	for i := len(b) - 1; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return int64(x), nil
}

// unquotePyString decodes the quoted repr that protocol 0 STRING carries.
func unquotePyString(line []byte) (string, error) {
	if len(line) < 2 || line[0] != line[len(line)-1] || (line[0] != '\'' && line[0] != '"') {
		return "", fmt.Errorf("STRING argument %q is not quoted", line)
	}
	s := line[1 : len(line)-1]
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return "", errors.New("STRING ends in a backslash")
		}
		switch c = s[i]; c {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, '\a')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			if i+2 >= len(s) {
				return "", errors.New("truncated \\x escape in STRING")
			}
			v, err := strconv.ParseUint(string(s[i+1:i+3]), 16, 8)
			if err != nil {
				return "", errors.New("bad \\x escape in STRING")
			}
			out = append(out, byte(v))
			i += 2
		default:
			if c >= '0' && c <= '7' {
				v := int(c - '0')
				for k := 0; k < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; k++ {
					i++
					v = v*8 + int(s[i]-'0')
				}
				out = append(out, byte(v))
			} else {
				out = append(out, '\\', c)
			}
		}
	}
	return string(out), nil
}

// decodeRawUnicodeEscape decodes Python's raw-unicode-escape (protocol 0
// UNICODE): \uXXXX and \UXXXXXXXX escapes, every other byte is Latin-1.
func decodeRawUnicodeEscape(b []byte) (string, error) {
	var out []rune
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) && (b[i+1] == 'u' || b[i+1] == 'U') {
			n := 4
			if b[i+1] == 'U' {
				n = 8
			}
			if i+2+n > len(b) {
				return "", errors.New("truncated \\u escape in UNICODE")
			}
			v, err := strconv.ParseUint(string(b[i+2:i+2+n]), 16, 32)
			if err != nil || v > utf8.MaxRune {
				return "", errors.New("bad \\u escape in UNICODE")
			}
			out = append(out, rune(v))
			i += 1 + n
			continue
		}
		out = append(out, rune(b[i]))
	}
	return string(out), nil
}
