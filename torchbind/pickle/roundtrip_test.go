package pickle

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
)

// patternBytes returns n deterministic bytes that are valid elements of dt.
func patternBytes(dt DType, n int) []byte {
	b := make([]byte, n*dt.Size())
	for i := range b {
		b[i] = byte(i*37 + 11 + int(dt)*5)
		if dt == Bool {
			b[i] = byte(i % 2)
		}
	}
	return b
}

func float32Bytes(xs ...float32) []byte {
	b := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func float64Bytes(xs ...float64) []byte {
	b := make([]byte, 8*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

// richGraph builds an object graph exercising every value kind Write
// supports, including views sharing one storage.
func richGraph() *Dict {
	base := NewTensor(Float32, []int64{3, 4}, float32Bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11))
	view := &Tensor{DType: Float32, Shape: []int64{4, 3}, Stride: []int64{1, 4}, Storage: base.Storage}             // base.t()
	slice := &Tensor{DType: Float32, Shape: []int64{2, 2}, Stride: []int64{4, 1}, Offset: 6, Storage: base.Storage} // base[1:, 2:]
	expand := &Tensor{DType: Float64, Shape: []int64{2, 3}, Stride: []int64{0, 1},
		Storage: &Storage{DType: Float64, Data: float64Bytes(1, 2, 3), Device: "cpu"}}
	grad := NewTensor(Float32, []int64{2}, float32Bytes(1, 2))
	grad.RequiresGrad = true

	dtypes := NewDict()
	for dt := Float32; dt <= Bool; dt++ {
		dtypes.Set(dt.String(), NewTensor(dt, []int64{2, 3}, patternBytes(dt, 6)))
	}

	ints := NewDict()
	ints.Set(1, "one")
	ints.Set(int64(-2), "minus two")
	ints.Set(int64(1)<<40, "big")
	ints.Set(int64(math.MinInt64), "min")

	od := NewOrderedDict()
	od.Set("z", 1)
	od.Set("a", 2)
	od.Set(int64(3), "three")
	od.Set(Tuple{int64(1), "x"}, "tuple key")

	meta := NewOrderedDict()
	inner := NewDict()
	inner.Set("version", 1)
	meta.Set("", inner)
	state := NewDict()
	state.Set("_metadata", meta)
	module := NewOrderedDict()
	module.Set("weight", NewTensor(Float32, []int64{1}, float32Bytes(0.5)))
	module.State = state

	var numbers []any
	for _, n := range []int64{0, 1, 255, 256, 65535, 65536, -1, -128, -129, -256, -257,
		math.MaxInt32, math.MaxInt32 + 1, math.MinInt32, math.MinInt32 - 1, 1 << 40, -1 << 40,
		math.MaxInt64, math.MinInt64} {
		numbers = append(numbers, n)
	}
	numbers = append(numbers, 1.5, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1),
		1e300, 5e-324, float32(0.25), int(7), int32(-9), uint8(200))

	long := make([]any, 2500)
	for i := range long {
		long[i] = int64(i * i)
	}
	wide := NewDict()
	for i := 0; i < 1500; i++ {
		wide.Set(int64(i), float64(i)/3)
	}
	shared := []any{"shared"}

	d := NewDict()
	d.Set("base", base)
	d.Set("view", view)
	d.Set("slice", slice)
	d.Set("expand", expand)
	d.Set("grad", grad)
	d.Set("empty", NewTensor(Float64, []int64{0, 3}, nil))
	d.Set("scalar", NewTensor(Float64, nil, float64Bytes(3.5)))
	d.Set("dtypes", dtypes)
	d.Set("ints", ints)
	d.Set("od", od)
	d.Set("module", module)
	d.Set("numbers", numbers)
	d.Set("strings", []any{"", "ascii", "üñíçødé", "日本語", "😀", "line\nbreak", "quote'\"\\"})
	d.Set("bytes", []any{[]byte{}, []byte{0, 1, 128, 255}, []byte("hello")})
	d.Set("consts", []any{true, false, nil})
	d.Set("tuples", Tuple{Tuple{}, Tuple{1}, Tuple{1, 2}, Tuple{1, 2, 3}, Tuple{1, 2, 3, 4, 5}})
	d.Set("nested", []any{[]any{[]any{}}, NewDict(), Tuple{[]any{1}, NewDict()}})
	d.Set("long", long)
	d.Set("wide", wide)
	d.Set("shared", []any{shared, shared})
	d.Set("gomap", map[string]any{"b": 1, "a": 2})
	d.Set("storage", base.Storage)
	d.Set("bytestorage", &Storage{DType: Uint8, Data: []byte{1, 2, 3}})
	return d
}

// TestPythonLoadsGoWrite writes a rich object graph from Go and has torch.load
// read it back: structure, dict vs OrderedDict (with _metadata), int keys,
// big and negative ints, NaN/Inf, unicode, bytes, tensors of every dtype,
// non-contiguous and expanded views, storage sharing, empty and 0-dim tensors.
func TestPythonLoadsGoWrite(t *testing.T) {
	t.Parallel()
	requireTorch(t)
	g := richGraph()
	path := filepath.Join(t.TempDir(), "rich.pth")
	if err := Save(path, g); err != nil {
		t.Fatal(err)
	}
	// weights_only=False: the graph holds Python objects (bytes(),
	// frozenset, ...) outside the allowlist of torch 2.6's default
	// weights-only torch.load, which refuses them in torch.save's own files
	// too; torch 1.13 has the same argument, defaulting to False.
	out := runPython(t, pyDescribe+`
obj = torch.load(sys.argv[1], weights_only=False)
ptr = lambda k: obj[k].storage().data_ptr()
print(json.dumps({
    "desc": describe(obj),
    "view_shares_base": ptr("base") == ptr("view"),
    "storage_shares_base": ptr("base") == obj["storage"].data_ptr(),
    "slice_shares_base": ptr("base") == ptr("slice"),
    "scalar_shares_base": ptr("base") == ptr("scalar"),
    "view_contiguous": obj["view"].is_contiguous(),
    "view_is_transpose": bool(torch.equal(obj["view"], obj["base"].t())),
    "slice_value": obj["slice"].tolist(),
    "module_metadata": type(obj["module"]._metadata).__name__ + repr(list(obj["module"]._metadata.items())),
    "int_keys": [type(k).__name__ for k in obj["ints"]],
    "od_type": type(obj["od"]).__name__,
    "dict_type": type(obj).__name__,
    "gomap_keys": list(obj["gomap"]),
}))
`, path)
	var py struct {
		Desc             json.RawMessage
		ViewSharesBase   bool        `json:"view_shares_base"`
		StorageShares    bool        `json:"storage_shares_base"`
		SliceSharesBase  bool        `json:"slice_shares_base"`
		ScalarSharesBase bool        `json:"scalar_shares_base"`
		ViewContiguous   bool        `json:"view_contiguous"`
		ViewIsTranspose  bool        `json:"view_is_transpose"`
		SliceValue       [][]float64 `json:"slice_value"`
		ModuleMetadata   string      `json:"module_metadata"`
		IntKeys          []string    `json:"int_keys"`
		ODType           string      `json:"od_type"`
		DictType         string      `json:"dict_type"`
		GomapKeys        []string    `json:"gomap_keys"`
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("bad JSON from python: %v\n%s", err, out)
	}
	sameDescription(t, "torch.load of Go-written file", describeGo(g), py.Desc)
	if !py.StorageShares {
		t.Error("bare storage does not share base's storage")
	}
	if !py.ViewSharesBase || !py.SliceSharesBase || py.ScalarSharesBase {
		t.Errorf("storage sharing lost: view %v slice %v scalar %v", py.ViewSharesBase, py.SliceSharesBase, py.ScalarSharesBase)
	}
	if py.ViewContiguous || !py.ViewIsTranspose {
		t.Errorf("view should be the non-contiguous transpose of base (contiguous=%v transpose=%v)", py.ViewContiguous, py.ViewIsTranspose)
	}
	if want := [][]float64{{6, 7}, {10, 11}}; !jsonEqual(py.SliceValue, want) {
		t.Errorf("slice = %v, want %v", py.SliceValue, want)
	}
	// (type and items, not the OrderedDict's repr, which Python 3.12 changed)
	if want := "OrderedDict[('', {'version': 1})]"; py.ModuleMetadata != want {
		t.Errorf("module _metadata = %s, want %s", py.ModuleMetadata, want)
	}
	if !jsonEqual(py.IntKeys, []string{"int", "int", "int", "int"}) {
		t.Errorf("int keys came back as %v", py.IntKeys)
	}
	if py.ODType != "OrderedDict" || py.DictType != "dict" {
		t.Errorf("types: od %s, top %s", py.ODType, py.DictType)
	}
	if !jsonEqual(py.GomapKeys, []string{"a", "b"}) {
		t.Errorf("map[string]any keys = %v, want sorted", py.GomapKeys)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// pyMakeCheckpoint builds, in Python, a structure equivalent to richGraph plus
// a module state_dict (OrderedDict with _metadata) and an Adam optimizer
// state_dict after one step.
const pyMakeCheckpoint = `
def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Linear(4, 2))

def make_objects():
    m = make_model()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    m(torch.randn(2, 2, 6, 6)).square().sum().backward()
    opt.step()
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    dts = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.uint8,
           torch.int8, torch.int16, torch.int32, torch.int64, torch.bool]
    return m, opt, {
        "model": m.state_dict(),
        "optim": opt.state_dict(),
        "param": torch.nn.Parameter(torch.ones(2, 2)),
        "base": base, "view": base.t(), "slice": base[1:, 2:],
        "expand": torch.arange(3.0, dtype=torch.float64).expand(2, 3),
        "empty": torch.zeros(0, 3), "scalar": torch.tensor(3.5, dtype=torch.float64),
        "dtypes": {str(dt): (torch.arange(6) % 2).to(dt).reshape(2, 3) for dt in dts},
        "ints": {1: "one", -2: "minus two", 2**40: "big", -2**63: "min"},
        "numbers": [0, 255, 65536, -129, 2**31, -2**31 - 1, 2**63 - 1, 1.5, -0.0,
                    float("nan"), float("inf"), float("-inf"), 5e-324],
        "strings": ["", "üñíçødé", "日本語", "😀"],
        "bytes": [b"", b"\x00\x01\x80\xff", bytearray(b"ab")],
        "consts": [True, False, None],
        "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4, 5)],
        "od": collections.OrderedDict([("z", 1), ("a", 2), ((1, "x"), "tuple key")]),
        "size": torch.Size([2, 3]),
        "device": torch.device("cpu"),
        "set": {1, 2}, "frozenset": frozenset([3]),
        "long": list(range(2500)),
        "wide": {i: i / 3 for i in range(1500)},
        "storage": base.storage(),
        "untyped": torch.arange(5, dtype=torch.uint8).storage().untyped(),
    }
`

// TestGoLoadsPythonWrite has torch.save write an equivalent structure (with a
// real module state_dict, whose _metadata needs BUILD, and an Adam
// state_dict), loads it in Go and compares; then re-saves it from Go and
// checks torch.load still sees the same thing and load_state_dict accepts it.
func TestGoLoadsPythonWrite(t *testing.T) {
	t.Parallel()
	requireTorch(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "from_python.pth")
	out := runPython(t, pyDescribe+pyMakeCheckpoint+`
m, opt, obj = make_objects()
torch.save(obj, sys.argv[1])
print(json.dumps(describe(obj)))
`, src)
	v, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	sameDescription(t, "Go Load of torch.save file", describeGo(v), out)

	top := v.(*Dict)
	model, _ := top.Get("model")
	md, ok := model.(*Dict)
	if !ok || !md.Ordered {
		t.Fatalf("model state_dict is %T (ordered=%v), want ordered *Dict", model, ok && md.Ordered)
	}
	st, ok := md.State.(*Dict)
	if !ok {
		t.Fatalf("model state_dict State = %#v, want dict with _metadata", md.State)
	}
	if meta, ok := st.Get("_metadata"); !ok {
		t.Error("state_dict State lacks _metadata")
	} else if m, ok := meta.(*Dict); !ok || !m.Ordered || m.Len() != 4 {
		t.Errorf("_metadata = %#v, want OrderedDict of 4 modules", meta)
	}
	optim, _ := top.Get("optim")
	state, _ := optim.(*Dict).Get("state")
	if s, ok := state.(*Dict); !ok || s.Len() == 0 {
		t.Fatalf("optimizer state = %#v", state)
	} else if _, ok := s.Keys[0].(int64); !ok {
		t.Errorf("optimizer state keys are %T, want int64", s.Keys[0])
	}
	param, _ := top.Get("param")
	if p, ok := param.(*Tensor); !ok || !p.RequiresGrad {
		t.Errorf("parameter = %#v, want tensor with RequiresGrad", param)
	}

	// Re-save from Go; torch must read the same structure and accept the
	// state dicts.
	dst := filepath.Join(dir, "from_go.pth")
	if err := Save(dst, v); err != nil {
		t.Fatal(err)
	}
	// weights_only=False as in TestPythonLoadsGoWrite.
	out2 := runPython(t, pyDescribe+pyMakeCheckpoint+`
obj = torch.load(sys.argv[1], weights_only=False)
m, opt, _ = make_objects()
m.load_state_dict(obj["model"])
opt.load_state_dict(obj["optim"])
print(json.dumps({"desc": describe(obj), "metadata": repr(obj["model"]._metadata)}))
`, dst)
	var py2 struct {
		Desc     json.RawMessage
		Metadata string
	}
	if err := json.Unmarshal(out2, &py2); err != nil {
		t.Fatalf("bad JSON from python: %v\n%s", err, out2)
	}
	// Sets, torch.Size and torch.device decode to lists, tuples and strings,
	// so compare the re-saved file against the Go view of the original.
	sameDescription(t, "torch.load of Go re-save", describeGo(v), py2.Desc)
	if py2.Metadata == "" || py2.Metadata[:11] != "OrderedDict" {
		t.Errorf("re-saved _metadata = %q", py2.Metadata)
	}
}
