package pickle

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
)

// TestArchiveLayout checks what Write produces: records stored (not
// deflated) without data descriptors, in torch's order under one folder,
// payloads 64-byte aligned through an "FB" padding extra field, version
// "3\n" and byteorder "little", one record per distinct storage.
func TestArchiveLayout(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, richGraph(), "rich"); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	recs := zipRecords(t, "", buf.Bytes())
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Method != zip.Store || f.Flags&0x8 != 0 {
			t.Errorf("%s: method %d flags %#x, want stored without data descriptor", f.Name, f.Method, f.Flags)
		}
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		if off%64 != 0 {
			t.Errorf("%s: payload at offset %d, not 64-byte aligned", f.Name, off)
		}
		if !bytes.HasPrefix(f.Extra, []byte("FB")) {
			t.Errorf("%s: extra field %q lacks the FB padding block", f.Name, f.Extra)
		}
	}
	// richGraph has 1 shared float32 storage (base/view/slice), expand,
	// grad, empty, scalar, 10 dtypes, the module weight and a bare uint8
	// storage: 17 storages.
	want := []string{"rich/data.pkl", "rich/byteorder"}
	for i := 0; i < 17; i++ {
		want = append(want, "rich/data/"+itoa(i))
	}
	want = append(want, "rich/version")
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("records:\n got %v\nwant %v", names, want)
	}
	if string(recs["rich/version"]) != "3\n" || string(recs["rich/byteorder"]) != "little" {
		t.Errorf("version %q byteorder %q", recs["rich/version"], recs["rich/byteorder"])
	}

	buf.Reset()
	if err := Write(&buf, nil, ""); err != nil {
		t.Fatal(err)
	}
	if zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len())); zr.File[0].Name != "archive/data.pkl" {
		t.Errorf("empty archive name gave %s", zr.File[0].Name)
	}
	if err := Write(&buf, nil, "a/b"); err == nil {
		t.Error("archive name with a slash accepted")
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// TestWriteErrors checks values Write cannot represent are rejected.
func TestWriteErrors(t *testing.T) {
	cyc := Tuple{nil}
	self := []any{nil}
	self[0] = Tuple{self}
	bad := NewDict()
	bad.State = NewDict()
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"channel", make(chan int), "chan int"},
		{"invalid UTF-8", "\xff", "UTF-8"},
		{"huge uint64", uint64(1) << 63, "does not fit"},
		{"list key", &Dict{Keys: []any{[]any{1}}, Values: []any{1}}, "unhashable"},
		{"ragged dict", &Dict{Keys: []any{"a"}}, "1 keys but 0 values"},
		{"state on plain dict", bad, "plain dict"},
		{"invalid tensor", &Tensor{DType: Float32, Shape: []int64{2}}, "no storage"},
		{"deep nesting", deepList(maxDepth + 5), "nested deeper"},
		{"tuple through list cycle", self, ""},
		{"plain tuple", cyc, ""},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		err := Write(&buf, tt.v, "x")
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Write error %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func deepList(n int) any {
	var v any = 1
	for i := 0; i < n; i++ {
		v = []any{v}
	}
	return v
}

// pyStr encodes s as a BINUNICODE opcode.
func pyStr(s string) string {
	n := len(s)
	return "X" + string([]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}) + s
}

// pid encodes torch's persistent id ('storage', <cls>, key, 'cpu', numel)
// followed by BINPERSID; cls is "module\nname".
func pid(cls, key string, numel byte) string {
	return "(" + pyStr("storage") + "c" + cls + "\n" + pyStr(key) + pyStr("cpu") + "K" + string(numel) + "tQ"
}

// TestPersistentStorages reads hand-written pickles using the other tensor
// and storage spellings torch versions emit: _rebuild_tensor_v2 with the
// optional metadata argument, the older _rebuild_tensor, parameters with
// state, torch.UntypedStorage / torch.storage.UntypedStorage (torch 1.13
// and 2.x write the latter for raw storages), one record shared by two
// persistent ids, and a record reused with a conflicting dtype.
func TestPersistentStorages(t *testing.T) {
	payload := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	const short = "torch\nShortStorage"
	const hooks = "ccollections\nOrderedDict\n)R"
	v2 := "ctorch._utils\n_rebuild_tensor_v2\n(" + pid(short, "0", 6) + "K\x00K\x02K\x03\x86K\x03K\x01\x86\x89" + hooks + "}tR"
	tests := []struct {
		name, pkl string
		check     func(t *testing.T, v any)
		wantErr   string
	}{
		{name: "v2 with metadata", pkl: v2, check: func(t *testing.T, v any) {
			x := v.(*Tensor)
			if x.DType != Int16 || len(x.Shape) != 2 || x.Shape[1] != 3 || !bytes.Equal(x.Contiguous(), payload) {
				t.Errorf("tensor %+v", x)
			}
		}},
		{name: "v1", pkl: "ctorch._utils\n_rebuild_tensor\n(" + pid(short, "0", 6) + "K\x01K\x02\x85K\x02\x85tR", check: func(t *testing.T, v any) {
			x := v.(*Tensor)
			if x.Offset != 1 || !bytes.Equal(x.Contiguous(), []byte{2, 3, 6, 7}) {
				t.Errorf("tensor %+v -> %v", x, x.Contiguous())
			}
		}},
		{name: "parameter with state", pkl: "ctorch._utils\n_rebuild_parameter_with_state\n(" + v2 + "\x88" + hooks + "}tR", check: func(t *testing.T, v any) {
			if x := v.(*Tensor); !x.RequiresGrad {
				t.Error("RequiresGrad not set")
			}
		}},
		{name: "torch.UntypedStorage", pkl: pid("torch\nUntypedStorage", "0", 12), check: func(t *testing.T, v any) {
			if s := v.(*Storage); s.DType != Uint8 || !bytes.Equal(s.Data, payload) || s.Device != "cpu" {
				t.Errorf("storage %+v", s)
			}
		}},
		{name: "torch.storage.UntypedStorage", pkl: pid("torch.storage\nUntypedStorage", "0", 12), check: func(t *testing.T, v any) {
			if s := v.(*Storage); s.DType != Uint8 || len(s.Data) != 12 {
				t.Errorf("storage %+v", s)
			}
		}},
		{name: "shared record", pkl: "(" + pid(short, "0", 6) + pid(short, "0", 3) + "l", check: func(t *testing.T, v any) {
			l := v.([]any)
			if l[0].(*Storage) != l[1].(*Storage) {
				t.Error("same key gave two storages")
			}
		}},
		{name: "conflicting dtype", pkl: "(" + pid(short, "0", 6) + pid("torch\nByteStorage", "0", 12) + "l", wantErr: "used as both int16 and uint8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := makeZip(t, []record{{"x/data.pkl", []byte("\x80\x02" + tt.pkl + ".")}, {"x/data/0", payload}, {"x/version", []byte("3\n")}}, false)
			v, err := readBytes(data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, v)
		})
	}
}
