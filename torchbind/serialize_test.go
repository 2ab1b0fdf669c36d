package torchbind

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// digest lists "key dtype shape sha256(row-major bytes)" for every tensor of
// a flat dict, sorted by key: the same text Python prints for the file.
func digest(t *testing.T, d *Dict) string {
	t.Helper()
	var lines []string
	mustTry(t, func() {
		for i, k := range d.Keys {
			x, ok := d.Values[i].(*Tensor)
			if !ok {
				continue
			}
			h := sha256.Sum256(x.Bytes())
			lines = append(lines, fmt.Sprintf("%v %v %v %s", k, x.DType(), shapeString(x.Shape()), hex.EncodeToString(h[:])))
		}
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

const pyDigest = `
import sys, hashlib, torch
names = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
         torch.bfloat16: "bfloat16", torch.uint8: "uint8", torch.int8: "int8", torch.int16: "int16",
         torch.int32: "int32", torch.int64: "int64", torch.bool: "bool"}
d = torch.load(sys.argv[1])
lines = []
for k, v in d.items():
    if torch.is_tensor(v):
        b = v.contiguous().view(torch.uint8).numpy().tobytes() if v.dim() else v.reshape(1).view(torch.uint8).numpy().tobytes()
        lines.append("%s %s [%s] %s" % (k, names[v.dtype], " ".join(str(s) for s in v.shape), hashlib.sha256(b).hexdigest()))
print("\n".join(sorted(lines)))
`

// TestLoadReferenceFiles loads every tensor of the authors' reference files
// and checks each byte against what Python's torch.load reads.
func TestLoadReferenceFiles(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../testdata/*/*.pth")
	if len(files) < 3 {
		t.Fatalf("expected the reference .pth files in ../testdata, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d, err := LoadDict(f)
			if err != nil {
				t.Fatal(err)
			}
			defer CloseAll(d)
			if got, want := digest(t, d), runPython(t, pyDigest, f); got != want {
				t.Fatalf("tensors differ from torch.load's:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestSaveReadByTorch writes tensors of every dtype (and a strided view)
// and checks Python's torch.load reads the same bytes.
func TestSaveReadByTorch(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "all.pth")
	d := NewDict()
	mustTry(t, func() {
		g := NewGenerator(5, CPU)
		defer g.Close()
		base := Randn([]int64{3, 4, 5}, Options{DType: Float64}, g)
		for _, dt := range []DType{Float32, Float64, Float16, BFloat16, Uint8, Int8, Int16, Int32, Int64, Bool} {
			d.Set("t_"+dt.String(), base.MulScalar(10).ToDType(dt).Persist())
		}
		d.Set("view", base.Permute(2, 0, 1).Narrow(0, 1, 2).Persist())
		d.Set("scalar", Scalar(1.25).Persist())
		d.Set("empty", Zeros([]int64{0, 3}, Options{}).Persist())
		d.Set("step", int64(12))
		d.Set("name", "ludvae")
		if err := Save(path, d); err != nil {
			t.Fatal(err)
		}
	})
	defer CloseAll(d)
	if got, want := digest(t, d), runPython(t, pyDigest, path); got != want {
		t.Fatalf("torch.load reads\n%s\nwe wrote\n%s", want, got)
	}
	if got := runPython(t, `import sys, torch; d = torch.load(sys.argv[1]); print(d["step"], d["name"], type(d).__name__)`, path); got != "12 ludvae dict" {
		t.Fatalf("python read %q", got)
	}
}

// TestLoadSharedViews reads a file where two tensors view one storage and
// checks the views share memory again.
func TestLoadSharedViews(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "views.pth")
	runPython(t, `
import sys, torch
b = torch.arange(12.).reshape(3, 4)
torch.save({"base": b, "col": b[:, 1], "t": b.t()}, sys.argv[1])
`, path)
	d, err := LoadDict(path)
	if err != nil {
		t.Fatal(err)
	}
	defer CloseAll(d)
	mustTry(t, func() {
		get := func(k string) *Tensor { v, _ := d.Get(k); return v.(*Tensor) }
		if got := get("col").Float64s(); got[0] != 1 || got[2] != 9 {
			t.Fatalf("column view %v", got)
		}
		if got := get("t"); !equalInts(got.Shape(), []int64{4, 3}) || got.Float64s()[1] != 4 {
			t.Fatalf("transposed view %v %v", got.Shape(), got.Float64s())
		}
		get("base").Fill(7)
		if get("col").Float64s()[0] != 7 {
			t.Fatal("views do not share the storage")
		}
	})
}

// TestSaveLeavesNoHandles: saving makes a detached host copy of every
// tensor (a real copy of a CUDA one) and frees it at once rather than
// leaving it to a finalizer.
func TestSaveLeavesNoHandles(t *testing.T) {
	g := NewGenerator(1, CPU)
	defer g.Close()
	d := NewDict()
	for i := range 4 {
		d.Set(fmt.Sprint("w", i), Randn([]int64{8, 3}, Options{}, g).SetRequiresGrad(true))
	}
	defer CloseAll(d)
	before := LiveTensors()
	if err := Save(filepath.Join(t.TempDir(), "d.pth"), d); err != nil {
		t.Fatal(err)
	}
	// Finalizers of other tests' leftovers can only lower the count.
	if after := LiveTensors(); after > before {
		t.Errorf("live tensors %d before Save, %d after", before, after)
	}
}
