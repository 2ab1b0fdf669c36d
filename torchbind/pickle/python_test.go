package pickle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
)

// requireTorch fails (never skips) the test unless Python imports torch
// and numpy: the build is expected to install python3-torch.
func requireTorch(t *testing.T) {
	t.Helper()
	testkit.Require(t, "torch", "numpy")
}

// runPython runs script with Python and returns its stdout.
func runPython(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	return []byte(testkit.RunPython(t, script, args...))
}

// pyDescribe is a Python prelude defining describe(v), a canonical JSON-able
// description of a torch.load result that describeGo mirrors in Go.
// Storages are numbered in first-seen order, so equal numbers mean shared
// storage (compared by the C storage pointer, i.e. data_ptr identity).
const pyDescribe = `
import sys, json, struct, hashlib, collections, torch

def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.cpu().numpy().tobytes()

def fdesc(x):
    if x != x:
        return "nan"
    return struct.pack(">d", x).hex()

class Describer:
    def __init__(self):
        self.storages = {}
    def storage_id(self, s):
        key = s._storage._cdata if hasattr(s, "_storage") else s._cdata
        return self.storages.setdefault(key, len(self.storages))
    def d(self, v):
        if v is None: return ["none"]
        if isinstance(v, bool): return ["bool", v]
        if isinstance(v, int): return ["int", str(v)]
        if isinstance(v, float): return ["float", fdesc(v)]
        if isinstance(v, str): return ["str", v]
        if isinstance(v, (bytes, bytearray)): return ["bytes", bytes(v).hex()]
        if isinstance(v, torch.device): return ["str", str(v)]
        if isinstance(v, torch.Tensor):
            return ["tensor", {
                "dtype": str(v.dtype).replace("torch.", ""),
                "shape": [str(x) for x in v.shape],
                "stride": [str(x) for x in v.stride()],
                "offset": str(v.storage_offset()),
                "storage": self.storage_id(v.storage()),
                "storage_numel": str(len(v.storage())),
                "requires_grad": v.requires_grad,
                "sha256": hashlib.sha256(tensor_bytes(v)).hexdigest(),
            }]
        if isinstance(v, torch.UntypedStorage):
            return ["storage", {"dtype": "uint8", "numel": str(v.nbytes()), "storage": self.storage_id(v),
                                "sha256": hashlib.sha256(bytes(v.tolist())).hexdigest()}]
        if isinstance(v, torch.storage.TypedStorage):
            t = torch.tensor([], dtype=v.dtype).set_(v)
            return ["storage", {"dtype": str(v.dtype).replace("torch.", ""), "numel": str(len(v)),
                                "storage": self.storage_id(v), "sha256": hashlib.sha256(tensor_bytes(t)).hexdigest()}]
        if isinstance(v, collections.OrderedDict):
            out = ["odict", [[self.d(k), self.d(x)] for k, x in v.items()]]
            md = getattr(v, "_metadata", None)
            if md is not None:
                out.append(self.d(md))
            return out
        if isinstance(v, dict): return ["dict", [[self.d(k), self.d(x)] for k, x in v.items()]]
        if isinstance(v, list): return ["list", [self.d(x) for x in v]]
        if isinstance(v, tuple): return ["tuple", [self.d(x) for x in v]]
        if isinstance(v, (set, frozenset)): return ["list", [self.d(x) for x in v]]
        raise TypeError("cannot describe %r" % type(v))

def describe(v):
    return Describer().d(v)
`

// describeGo mirrors pyDescribe's describe for a Go object graph.
func describeGo(v any) any {
	return (&goDescriber{ids: map[*Storage]int{}}).d(v)
}

type goDescriber struct{ ids map[*Storage]int }

func (g *goDescriber) d(v any) any {
	switch x := v.(type) {
	case nil:
		return []any{"none"}
	case bool:
		return []any{"bool", x}
	case int:
		return []any{"int", strconv.Itoa(x)}
	case int64:
		return []any{"int", strconv.FormatInt(x, 10)}
	case float32:
		return g.d(float64(x))
	case float64:
		if math.IsNaN(x) {
			return []any{"float", "nan"}
		}
		return []any{"float", fmt.Sprintf("%016x", math.Float64bits(x))}
	case string:
		return []any{"str", x}
	case []byte:
		return []any{"bytes", hex.EncodeToString(x)}
	case *Storage:
		sum := sha256.Sum256(x.Data)
		return []any{"storage", map[string]any{
			"dtype":   x.DType.String(),
			"numel":   strconv.FormatInt(x.NumEl(), 10),
			"storage": g.id(x),
			"sha256":  hex.EncodeToString(sum[:]),
		}}
	case *Tensor:
		id := g.id(x.Storage)
		sum := sha256.Sum256(x.Contiguous())
		return []any{"tensor", map[string]any{
			"dtype":         x.DType.String(),
			"shape":         int64Strings(x.Shape),
			"stride":        int64Strings(x.strides()),
			"offset":        strconv.FormatInt(x.Offset, 10),
			"storage":       id,
			"storage_numel": strconv.FormatInt(x.Storage.NumEl(), 10),
			"requires_grad": x.RequiresGrad,
			"sha256":        hex.EncodeToString(sum[:]),
		}}
	case *Dict:
		items := []any{}
		for i := range x.Keys {
			items = append(items, []any{g.d(x.Keys[i]), g.d(x.Values[i])})
		}
		if !x.Ordered {
			return []any{"dict", items}
		}
		out := []any{"odict", items}
		if st, ok := x.State.(*Dict); ok {
			if md, ok := st.Get("_metadata"); ok {
				out = append(out, g.d(md))
			}
		}
		return out
	case []any:
		items := []any{}
		for _, e := range x {
			items = append(items, g.d(e))
		}
		return []any{"list", items}
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		items := []any{}
		for _, k := range keys {
			items = append(items, []any{g.d(k), g.d(x[k])})
		}
		return []any{"dict", items}
	case int32:
		return g.d(int64(x))
	case uint8:
		return g.d(int64(x))
	case Tuple:
		items := []any{}
		for _, e := range x {
			items = append(items, g.d(e))
		}
		return []any{"tuple", items}
	}
	panic(fmt.Sprintf("describeGo: unexpected %T", v))
}

// id numbers storages in first-seen order.
func (g *goDescriber) id(s *Storage) int {
	id, ok := g.ids[s]
	if !ok {
		id = len(g.ids)
		g.ids[s] = id
	}
	return id
}

func int64Strings(xs []int64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = strconv.FormatInt(x, 10)
	}
	return out
}

// normalizeJSON round-trips v through encoding/json so Go and Python
// descriptions compare with reflect.DeepEqual.
func normalizeJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// diffJSON returns a description of the first difference between a and b.
func diffJSON(path string, a, b any) string {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok {
			return fmt.Sprintf("%s: %v vs %v", path, short(a), short(b))
		}
		for i := 0; i < len(x) && i < len(y); i++ {
			if d := diffJSON(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
				return d
			}
		}
		if len(x) != len(y) {
			return fmt.Sprintf("%s: length %d vs %d", path, len(x), len(y))
		}
		return ""
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: %v vs %v", path, short(a), short(b))
		}
		for k := range x {
			if d := diffJSON(path+"."+k, x[k], y[k]); d != "" {
				return d
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				return fmt.Sprintf("%s.%s: missing vs %v", path, k, short(y[k]))
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Sprintf("%s: %v vs %v", path, short(a), short(b))
	}
	return ""
}

func short(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// sameDescription fails the test if the Go and Python descriptions differ.
func sameDescription(t *testing.T, what string, goDesc any, pyJSON []byte) {
	t.Helper()
	var py any
	if err := json.Unmarshal(pyJSON, &py); err != nil {
		t.Fatalf("%s: bad JSON from python: %v\n%s", what, err, pyJSON)
	}
	g := normalizeJSON(t, goDesc)
	if d := diffJSON("$", g, py); d != "" {
		t.Errorf("%s: Go and Python disagree (Go vs Python) at %s", what, d)
	}
}

// countTensors counts tensors in a description (to check tests saw some).
func countTensors(desc any) int {
	n := 0
	switch x := desc.(type) {
	case []any:
		if len(x) == 2 && x[0] == "tensor" {
			return 1
		}
		for _, e := range x {
			n += countTensors(e)
		}
	}
	return n
}
