package pickle

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestUnpickleCPythonProtocols decodes the same plain-Python structure as
// pickled by CPython with every protocol 0..5, covering the text opcodes of
// protocol 0 (INT, LONG, FLOAT, UNICODE, PUT/GET, DICT, LIST, TUPLE), the
// binary ones, and protocol 3-5 additions (BINBYTES, SHORT_BINUNICODE,
// STACK_GLOBAL, MEMOIZE, FRAME, EMPTY_SET/ADDITEMS, FROZENSET, BYTEARRAY8).
func TestUnpickleCPythonProtocols(t *testing.T) {
	t.Parallel()
	requireTorch(t)
	out := runPython(t, pyDescribe+`
import pickle
shared = [1]
obj = {
    "ints": [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31, 2**63 - 1, -2**63],
    "floats": [1.5, -0.0, float("inf"), float("-inf"), 1e300, float("nan")],
    "str": ["", "é", "日本", "😀", "a\\b\n'\"\r\x00\x1a"],
    "bytes": [b"", b"\x00\xff\\\n"],
    "bytearray": bytearray(b"xy"),
    "tuple": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
    "nested": {1: {2: [3]}, (4, "k"): None},
    "od": collections.OrderedDict([("b", 1), ("a", 2)]),
    "set": {5}, "frozenset": frozenset({6}),
    "bools": [True, False, None],
    "shared": [shared, shared],
}
print(json.dumps({"desc": describe(obj),
                  "pickles": [pickle.dumps(obj, protocol=p).hex() for p in range(6)]}))
`)
	var py struct {
		Desc    json.RawMessage
		Pickles []string
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatal(err)
	}
	for proto, h := range py.Pickles {
		data, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		v, err := unpickle(data, nil)
		if err != nil {
			t.Errorf("protocol %d: %v", proto, err)
			continue
		}
		sameDescription(t, "protocol "+string(rune('0'+proto)), describeGo(v), py.Desc)
		shared, _ := v.(*Dict).Get("shared")
		l := shared.([]any)
		if &l[0].([]any)[0] != &l[1].([]any)[0] {
			t.Errorf("protocol %d: memoized list was not shared", proto)
		}
	}
}

// TestUnpickleOpcodes covers opcodes CPython 3 never emits and the
// torch-specific globals, with hand-written pickles.
func TestUnpickleOpcodes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"STRING", "S'a\\x41\\n\\'\\101'\n.", "aA\n'A"},
		{"BINSTRING", "T\x03\x00\x00\x00abc.", "abc"},
		{"SHORT_BINSTRING", "U\x02hi.", "hi"},
		{"BINUNICODE8", "\x8d\x02\x00\x00\x00\x00\x00\x00\x00\xc3\xa9.", "é"},
		{"BINBYTES8", "\x8e\x01\x00\x00\x00\x00\x00\x00\x00z.", []byte("z")},
		{"SHORT_BINBYTES", "C\x02\x00\x01.", []byte{0, 1}},
		{"LONG1 zero", "\x8a\x00.", int64(0)},
		{"LONG1 -1", "\x8a\x01\xff.", int64(-1)},
		{"LONG4 padded", "\x8b\x0a\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff.", int64(-1)},
		{"LONG4 min", "\x8b\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80.", int64(math.MinInt64)},
		{"INT text", "I-42\n.", int64(-42)},
		{"INT true", "I01\n.", true},
		{"INT false", "I00\n.", false},
		{"LONG text", "L123L\n.", int64(123)},
		{"FLOAT text", "F1.25\n.", 1.25},
		{"DUP", "K\x012\x86.", Tuple{int64(1), int64(1)}},
		{"POP", "K\x01K\x020.", int64(1)},
		{"POP_MARK", "K\x01(K\x02K\x031.", int64(1)},
		{"PUT GET", "Vab\np0\ng0\n\x86.", Tuple{"ab", "ab"}},
		{"LONG_BINPUT LONG_BINGET", "K\x07r\x00\x01\x00\x00j\x00\x01\x00\x00\x86.", Tuple{int64(7), int64(7)}},
		{"MEMOIZE", "K\x09\x94h\x00\x86.", Tuple{int64(9), int64(9)}},
		{"DICT", "(Va\nI1\nd.", &Dict{Keys: []any{"a"}, Values: []any{int64(1)}}},
		{"LIST", "(I1\nI2\nl.", []any{int64(1), int64(2)}},
		{"TUPLE", "(I1\nt.", Tuple{int64(1)}},
		{"FRAME", "\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x05.", int64(5)},
		{"NEWOBJ OrderedDict", "ccollections\nOrderedDict\n)\x81.", &Dict{Ordered: true}},
		{"NEWOBJ_EX OrderedDict", "ccollections\nOrderedDict\n)}\x92.", &Dict{Ordered: true}},
		{"OrderedDict from items", "ccollections\nOrderedDict\n]Va\nK\x01\x86a\x85R.",
			&Dict{Keys: []any{"a"}, Values: []any{int64(1)}, Ordered: true}},
		{"BUILD OrderedDict", "ccollections\nOrderedDict\n)R}Vk\nK\x01sb.",
			&Dict{Ordered: true, State: &Dict{Keys: []any{"k"}, Values: []any{int64(1)}}}},
		{"STACK_GLOBAL", "\x8c\x0bcollections\x8c\x0bOrderedDict\x93)R.", &Dict{Ordered: true}},
		{"torch.device cuda:0", "ctorch\ndevice\nX\x04\x00\x00\x00cudaK\x00\x86R.", "cuda:0"},
		{"torch.device cpu", "ctorch\ndevice\nX\x03\x00\x00\x00cpu\x85R.", "cpu"},
		{"torch.Size", "ctorch\nSize\nK\x02K\x03\x86\x85R.", Tuple{int64(2), int64(3)}},
		{"builtins.set", "c__builtin__\nset\n]K\x01a\x85R.", []any{int64(1)}},
		{"builtins.frozenset", "cbuiltins\nfrozenset\n)R.", []any{}},
		{"bytes empty", "c__builtin__\nbytes\n)R.", []byte{}},
		{"codecs latin1", "c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xbfVlatin1\n\x86R.", []byte{0xff}},
		{"codecs utf8", "c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xbf\x85R.", []byte{0xc3, 0xbf}},
		{"bytearray", "cbuiltins\nbytearray\nC\x01a\x85R.", []byte("a")},
		{"BYTEARRAY8", "\x96\x01\x00\x00\x00\x00\x00\x00\x00q.", []byte("q")},
		{"EMPTY_SET ADDITEMS", "\x8f(K\x01K\x02\x90.", []any{int64(1), int64(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := unpickle([]byte(tt.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := got.(*Dict); ok {
				d.index, d.indexed = nil, 0
				if st, ok := d.State.(*Dict); ok {
					st.index, st.indexed = nil, 0
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}

	t.Run("cyclic list", func(t *testing.T) {
		got, err := unpickle([]byte("]q\x00h\x00a."), nil)
		if err != nil {
			t.Fatal(err)
		}
		l := got.([]any)
		if inner := l[0].([]any); &inner[0] != &l[0] {
			t.Error("list does not contain itself")
		}
	})
	t.Run("shared tuple decoded once", func(t *testing.T) {
		// 40 levels of (x, x): 2^40 nodes if expanded, 40 if shared.
		var b strings.Builder
		b.WriteString("K\x01")
		for i := 0; i < 40; i++ {
			b.WriteString("2\x86")
		}
		b.WriteString(".")
		if _, err := unpickle([]byte(b.String()), nil); err != nil {
			t.Fatal(err)
		}
	})
}

// TestUnpickleErrors checks malformed and unsupported pickles fail with a
// useful error instead of panicking or succeeding.
func TestUnpickleErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "ends before STOP"},
		{"STOP on empty stack", ".", "stack underflow"},
		{"truncated argument", "K", "needs 1 bytes"},
		{"no STOP", "K\x01", "ends before STOP"},
		{"open MARK", "(K\x01.", "open MARK"},
		{"missing memo", "h\x05.", "memo key 5"},
		{"unknown global", "cos\nsystem\n.", "os.system"},
		{"unknown global via STACK_GLOBAL", "\x8c\x02os\x8c\x06system\x93.", "os.system"},
		{"unknown storage", "ctorch\nComplexFloatStorage\n.", "torch.ComplexFloatStorage"},
		{"unknown opcode", "\xff", "unknown opcode"},
		{"args not a tuple", "ctorch\nSize\nK\x01R.", "not a tuple"},
		{"APPEND on empty", "a", "stack underflow"},
		{"APPEND to int", "K\x01K\x02a.", "APPEND to int"},
		{"SETITEM on list", "]K\x01K\x02s.", "SETITEM on list"},
		{"unhashable key", "}]K\x01s.", "unhashable"},
		{"protocol 6", "\x80\x06.", "protocol 6"},
		{"INST", "i__main__\nX\n.", "not supported"},
		{"EXT1", "\x82\x01.", "not supported"},
		{"rebuild arity", "ctorch._utils\n_rebuild_tensor_v2\n)R.", "want 6 or 7 arguments"},
		{"invalid UTF-8", "X\x02\x00\x00\x00\xff\xfe.", "UTF-8"},
		{"bare global result", "ccollections\nOrderedDict\n.", "no Go representation"},
		{"persistent id without loader", "Pfoo\n.", "persistent id"},
		{"int overflow", "L99999999999999999999L\n.", "does not fit"},
		{"LONG1 overflow", "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00.", "does not fit"},
		{"huge BINUNICODE8", "\x8d\xff\xff\xff\xff\xff\xff\xff\x7f.", "needs"},
		{"BUILD on list", "]}b.", "BUILD on list"},
		{"bad latin1", "c_codecs\nencode\nX\x03\x00\x00\x00\xe2\x82\xacVlatin1\n\x86R.", "Latin-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := unpickle([]byte(tt.in), nil)
			if err == nil {
				t.Fatalf("got %#v, want error containing %q", v, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
	_, err := unpickle([]byte("cos\nsystem\n."), nil)
	var ge *GlobalError
	if !errors.As(err, &ge) || ge.Module != "os" || ge.Name != "system" {
		t.Errorf("unknown global error %v is not a *GlobalError{os, system}", err)
	}
}

// TestPicklerMatchesCPython checks the pickler emits byte for byte what
// CPython's pickle.dumps(protocol=2) does for the same plain values: ints of
// every width, floats, str, bytes, tuples, lists and dicts over the
// 1000-item batch size, OrderedDict, memo references.
func TestPicklerMatchesCPython(t *testing.T) {
	t.Parallel()
	requireTorch(t)
	out := runPython(t, `
import pickle, collections, sys
big = list(range(1001))
obj = [0, 255, 256, 65535, 65536, -1, -129, 2**31 - 1, 2**31, -2**31, -2**31 - 1, 2**63 - 1, -2**63,
       1.5, -0.0, float("inf"), "a", "é😀", b"", b"\x01\xff\x80", (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4),
       True, False, None, {"k": [], 3: {}}, collections.OrderedDict([("x", 1), ("y", (2,))]),
       collections.OrderedDict([("one", 1)]), big, {i: -i for i in range(1001)}, [7], ["a", "a"],
       list(range(1000)), {i: i for i in range(2000)}, collections.OrderedDict((str(i), i) for i in range(1001)),
       collections.OrderedDict((str(-i), i) for i in range(1, 1001))]
sys.stdout.write(pickle.dumps(obj, protocol=2).hex())
`)
	big := make([]any, 1001)
	neg := NewDict()
	for i := range big {
		big[i] = int64(i)
		neg.Set(int64(i), int64(-i))
	}
	k := NewDict()
	k.Set("k", []any{})
	k.Set(3, NewDict())
	od := NewOrderedDict()
	od.Set("x", 1)
	od.Set("y", Tuple{2})
	od1 := NewOrderedDict()
	od1.Set("one", 1)
	v := []any{0, 255, 256, 65535, 65536, -1, -129, math.MaxInt32, math.MaxInt32 + 1, math.MinInt32, math.MinInt32 - 1,
		int64(math.MaxInt64), int64(math.MinInt64), 1.5, math.Copysign(0, -1), math.Inf(1), "a", "é😀",
		[]byte{}, []byte{1, 0xff, 0x80}, Tuple{}, Tuple{1}, Tuple{1, 2}, Tuple{1, 2, 3}, Tuple{1, 2, 3, 4},
		true, false, nil, k, od, od1, big, neg, []any{7}, []any{"a", "a"}}
	l1000 := make([]any, 1000)
	d2000 := NewDict()
	od1001 := NewOrderedDict()
	od1000 := NewOrderedDict()
	for i := range 2000 {
		if i < 1000 {
			l1000[i] = i
			od1000.Set(strconv.Itoa(-i-1), i+1)
		}
		if i < 1001 {
			od1001.Set(strconv.Itoa(i), i)
		}
		d2000.Set(i, i)
	}
	v = append(v, l1000, d2000, od1001, od1000)
	p := newPickler()
	if err := p.dump(v); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(p.out.Bytes()); got != string(out) {
		i := 0
		for i < len(got) && i < len(out) && got[i] == out[i] {
			i++
		}
		t.Errorf("pickle differs from CPython at byte %d:\n go: ...%s\n py: ...%s", i/2, got[i&^1:min(len(got), i+40)], out[i&^1:min(len(out), i+40)])
	}
}

// TestEncodeLong checks LONG1 payloads against CPython's encode_long.
func TestEncodeLong(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, ""}, {1, "01"}, {127, "7f"}, {128, "8000"}, {-1, "ff"}, {-128, "80"}, {-129, "7fff"},
		{1 << 31, "00000080" + "00"}, {-1<<31 - 1, "ffffff7f" + "ff"},
		{math.MaxInt64, "ffffffffffffff7f"}, {math.MinInt64, "0000000000000080"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(encodeLong(tt.n)); got != tt.want {
			t.Errorf("encodeLong(%d) = %s, want %s", tt.n, got, tt.want)
		}
		back, err := decodeLong(encodeLong(tt.n))
		if err != nil || back != tt.n {
			t.Errorf("decodeLong(encodeLong(%d)) = %d, %v", tt.n, back, err)
		}
	}
}
