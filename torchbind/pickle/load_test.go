package pickle

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// torchFiles lists the real torch.save outputs checked into testdata.
func torchFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"../../testdata/official", "../../testdata/reference"} {
		m, err := filepath.Glob(filepath.Join(dir, "*.pth"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/official/*.pth or testdata/reference/*.pth files found")
	}
	sort.Strings(files)
	return files
}

// TestLoadTorchFiles loads every checked-in torch.save file and compares it,
// tensor by tensor (dtype, shape, stride, offset, storage sharing and the
// SHA-256 of the contiguous bytes), with what torch.load itself sees.
func TestLoadTorchFiles(t *testing.T) {
	t.Parallel()
	requireTorch(t)
	files := torchFiles(t)
	out := runPython(t, pyDescribe+`
print(json.dumps({p: describe(torch.load(p)) for p in sys.argv[1:]}))
`, files...)
	var py map[string]json.RawMessage
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("bad JSON from python: %v", err)
	}
	for _, f := range files {
		v, err := Load(f)
		if err != nil {
			t.Errorf("Load(%s): %v", f, err)
			continue
		}
		desc := describeGo(v)
		if n := countTensors(desc); n == 0 {
			t.Errorf("%s: no tensors loaded", f)
		} else {
			t.Logf("%s: %d tensors match torch.load", f, n)
		}
		sameDescription(t, f, desc, py[f])
	}
}

// TestRewriteMatchesTorch re-writes each checked-in file with Write and
// checks that data.pkl and every storage record are byte-identical to what
// torch.save produced: the pickler reproduces torch's opcodes and memo use.
func TestRewriteMatchesTorch(t *testing.T) {
	for _, f := range torchFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			v, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimSuffix(filepath.Base(f), ".pth")
			var buf bytes.Buffer
			if err := Write(&buf, v, name); err != nil {
				t.Fatal(err)
			}
			orig := zipRecords(t, f, nil)
			ours := zipRecords(t, "", buf.Bytes())
			for rec, want := range orig {
				got, ok := ours[rec]
				if !ok {
					t.Errorf("record %s missing from rewrite", rec)
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("record %s differs: %d bytes vs torch's %d", rec, len(got), len(want))
				}
			}
			for rec := range ours {
				if _, ok := orig[rec]; !ok && rec != name+"/byteorder" {
					t.Errorf("rewrite has extra record %s", rec)
				}
			}
		})
	}
}

// zipRecords returns every record of a zip file (path) or buffer (data).
func zipRecords(t *testing.T, path string, data []byte) map[string][]byte {
	t.Helper()
	var zr *zip.Reader
	if path != "" {
		rc, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		zr = &rc.Reader
	} else {
		var err error
		if zr, err = zip.NewReader(bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = b
	}
	return out
}
