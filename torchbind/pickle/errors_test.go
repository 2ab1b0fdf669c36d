package pickle

import (
	"archive/zip"
	"bytes"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// smallGraph is a compact graph with every container kind and shared
// tensors, small enough to corrupt exhaustively.
func smallGraph() *Dict {
	base := NewTensor(Int16, []int64{2, 3}, patternBytes(Int16, 6))
	od := NewOrderedDict()
	od.Set("w", base)
	od.Set("t", &Tensor{DType: Int16, Shape: []int64{3, 2}, Stride: []int64{1, 3}, Storage: base.Storage})
	d := NewDict()
	d.Set("od", od)
	d.Set(int64(7), []any{Tuple{1, 2.5, "s"}, []byte{1, 2}, nil, true, int64(1) << 40})
	d.Set("scalar", NewTensor(Float64, nil, float64Bytes(2)))
	return d
}

type record struct {
	name string
	data []byte
}

// archiveRecords writes v and returns its records in order.
func archiveRecords(t *testing.T, v any, name string) []record {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, v, name); err != nil {
		t.Fatal(err)
	}
	m := zipRecords(t, "", buf.Bytes())
	zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	var out []record
	for _, f := range zr.File {
		out = append(out, record{f.Name, m[f.Name]})
	}
	return out
}

// makeZip builds a zip of records; deflate selects compression.
func makeZip(t *testing.T, recs []record, deflate bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, r := range recs {
		method := zip.Store
		if deflate {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: r.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(r.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// replace returns recs with record name's data replaced (or dropped if
// data is nil, or appended if absent).
func replace(recs []record, name string, data []byte) []record {
	var out []record
	found := false
	for _, r := range recs {
		if r.name == name {
			found = true
			if data == nil {
				continue
			}
			r.data = data
		}
		out = append(out, r)
	}
	if !found && data != nil {
		out = append(out, record{name, data})
	}
	return out
}

func readBytes(b []byte) (any, error) { return Read(bytes.NewReader(b), int64(len(b))) }

// TestReadErrors checks that broken and unsupported checkpoints give clear
// errors: missing file, truncated archive, no data.pkl, unknown global,
// big-endian byteorder, missing or short storage records, views outside
// their storage, CRC mismatch, legacy format.
func TestReadErrors(t *testing.T) {
	recs := archiveRecords(t, smallGraph(), "x")
	valid := makeZip(t, recs, false)
	if _, err := readBytes(valid); err != nil {
		t.Fatalf("valid archive: %v", err)
	}
	pkl := func(body string) []byte { return []byte("\x80\x02" + body + ".") }
	storageTensor := func(key string, numel, size byte) string {
		return "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nShortStorage\nX\x01\x00\x00\x00" + key +
			"X\x03\x00\x00\x00cpuK" + string(numel) + "tQK\x00K" + string(size) + "\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR"
	}

	missing := filepath.Join(t.TempDir(), "no", "such.pth")
	_, err := Load(missing)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load of missing file: error %v does not name %s", err, missing)
	}

	corruptCRC := bytes.Clone(valid)
	i := bytes.Index(corruptCRC, recs[2].data) // first storage record payload
	corruptCRC[i] ^= 0xff

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty file", nil, "not a torch zip"},
		{"not a zip", []byte("hello world, this is not a zip archive at all"), "not a torch zip"},
		{"legacy format", []byte("\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."), "legacy"},
		{"truncated", valid[:len(valid)/2], "not a torch zip"},
		{"no data.pkl", makeZip(t, replace(recs, "x/data.pkl", nil), false), "no data.pkl"},
		{"unknown global", makeZip(t, replace(recs, "x/data.pkl", pkl("cos\nsystem\n)R")), false), "os.system"},
		{"unknown storage type", makeZip(t, replace(recs, "x/data.pkl", pkl("ctorch\nQInt8Storage\n")), false), "torch.QInt8Storage"},
		{"byteorder big", makeZip(t, replace(recs, "x/byteorder", []byte("big")), false), `byteorder "big"`},
		{"missing storage record", makeZip(t, replace(recs, "x/data.pkl", pkl(storageTensor("9", 6, 6))), false), "data/9 is missing"},
		{"short storage record", makeZip(t, replace(recs, "x/data.pkl", pkl(storageTensor("0", 60, 6))), false), "has 12 bytes"},
		{"view outside storage", makeZip(t, replace(recs, "x/data.pkl", pkl(storageTensor("0", 6, 7))), false), "exceeds storage"},
		{"CRC mismatch", corruptCRC, "checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := readBytes(tt.data)
			if err == nil {
				t.Fatalf("got %#v, want error containing %q", v, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}

	// Through Load the error names the file too, and unknown globals are
	// *GlobalError.
	p := filepath.Join(t.TempDir(), "bad.pth")
	os.WriteFile(p, makeZip(t, replace(recs, "x/data.pkl", pkl("cos\nsystem\n)R")), false), 0o644)
	_, err = Load(p)
	var ge *GlobalError
	if !errors.As(err, &ge) || ge.Module != "os" || !strings.Contains(err.Error(), p) {
		t.Errorf("Load(unknown global) = %v, want *GlobalError naming os.system and the path", err)
	}
}

// TestReadAccepts checks lenient cases: any archive folder name, records
// compressed with deflate, "little\n" byteorder, no byteorder record.
func TestReadAccepts(t *testing.T) {
	recs := archiveRecords(t, smallGraph(), "x")
	var renamed []record
	for _, r := range recs {
		renamed = append(renamed, record{"some other name/" + strings.TrimPrefix(r.name, "x/"), r.data})
	}
	want := describeGo(smallGraph())
	for name, data := range map[string][]byte{
		"renamed folder":    makeZip(t, renamed, false),
		"deflated":          makeZip(t, recs, true),
		"little newline":    makeZip(t, replace(recs, "x/byteorder", []byte("little\n")), false),
		"without byteorder": makeZip(t, replace(recs, "x/byteorder", nil), false),
	} {
		v, err := readBytes(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d := diffJSON("$", normalizeJSON(t, describeGo(v)), normalizeJSON(t, want)); d != "" {
			t.Errorf("%s: differs at %s", name, d)
		}
	}
}

// TestCorruptInputNeverPanics truncates a valid archive at every length
// and corrupts its data.pkl at every prefix and with random byte edits:
// Read must return an error or a valid graph, never panic.
func TestCorruptInputNeverPanics(t *testing.T) {
	recs := archiveRecords(t, smallGraph(), "x")
	valid := makeZip(t, recs, false)
	for n := 0; n < len(valid); n++ {
		if _, err := readNoPanic(t, valid[:n]); err == nil {
			t.Fatalf("archive truncated to %d of %d bytes read without error", n, len(valid))
		}
	}
	pkl := recs[0].data
	for n := 0; n < len(pkl); n++ {
		data := makeZip(t, replace(recs, "x/data.pkl", pkl[:n]), false)
		if _, err := readNoPanic(t, data); err == nil {
			t.Fatalf("data.pkl truncated to %d of %d bytes read without error", n, len(pkl))
		}
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		bad := bytes.Clone(pkl)
		for k := 0; k <= rng.Intn(3); k++ {
			bad[rng.Intn(len(bad))] = byte(rng.Intn(256))
		}
		readNoPanic(t, makeZip(t, replace(recs, "x/data.pkl", bad), false))
	}
}

// readNoPanic reads data, failing the test on a panic, and checks every
// tensor of a successful result is valid.
func readNoPanic(t *testing.T, data []byte) (v any, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic reading %d bytes: %v", len(data), r)
		}
	}()
	v, err = readBytes(data)
	if err == nil {
		walkTensors(v, func(x *Tensor) {
			if verr := x.Validate(); verr != nil {
				t.Fatalf("Read returned an invalid tensor: %v", verr)
			}
		}, map[any]bool{})
	}
	return v, err
}

func walkTensors(v any, f func(*Tensor), seen map[any]bool) {
	switch x := v.(type) {
	case *Tensor:
		f(x)
	case *Dict:
		if seen[x] {
			return
		}
		seen[x] = true
		for i := range x.Keys {
			walkTensors(x.Keys[i], f, seen)
			walkTensors(x.Values[i], f, seen)
		}
	case []any:
		if len(x) == 0 || seen[&x[0]] {
			return
		}
		seen[&x[0]] = true
		for _, e := range x {
			walkTensors(e, f, seen)
		}
	case Tuple:
		for _, e := range x {
			walkTensors(e, f, seen)
		}
	}
}

// FuzzRead checks Read never panics on arbitrary input (go test -fuzz=FuzzRead).
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := Write(&buf, smallGraph(), "x"); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		readBytes(data)
	})
}

// FuzzUnpickle checks the unpickler never panics (go test -fuzz=FuzzUnpickle).
func FuzzUnpickle(f *testing.F) {
	p := newPickler()
	if err := p.dump(richGraph()); err != nil {
		f.Fatal(err)
	}
	f.Add(p.out.Bytes())
	f.Add([]byte("\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00\x8f(K\x01\x90."))
	f.Fuzz(func(t *testing.T, data []byte) {
		unpickle(data, nil)
	})
}
