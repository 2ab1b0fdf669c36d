package pickle

import (
	"math"
	"testing"
)

// TestDict checks insertion order, in-place replacement, key normalization
// (Go int -> int64), unhashable-in-Go keys (tuples, bytes), Delete, and
// that Get notices keys appended directly to Keys.
func TestDict(t *testing.T) {
	d := NewDict()
	d.Set("b", 1)
	d.Set("a", 2)
	d.Set(3, "three")
	d.Set(Tuple{int64(1), "x"}, "tuple")
	d.Set([]byte("k"), "bytes")
	d.Set("b", 10) // replace keeps position
	if d.Len() != 5 || d.Keys[0] != "b" || d.Values[0] != 10 {
		t.Fatalf("keys %v values %v", d.Keys, d.Values)
	}
	for _, c := range []struct {
		k    any
		want any
	}{
		{"a", 2}, {int64(3), "three"}, {3, "three"}, {int32(3), "three"},
		{Tuple{1, "x"}, "tuple"}, {[]byte("k"), "bytes"},
	} {
		if v, ok := d.Get(c.k); !ok || v != c.want {
			t.Errorf("Get(%#v) = %v, %v; want %v", c.k, v, ok, c.want)
		}
	}
	for _, k := range []any{"zz", 4, Tuple{1}, 3.0, []byte("j"), nil} {
		if _, ok := d.Get(k); ok {
			t.Errorf("Get(%#v) found a value", k)
		}
	}
	d.Delete("a")
	if _, ok := d.Get("a"); ok || d.Len() != 4 {
		t.Errorf("Delete failed: %v", d.Keys)
	}
	if v, _ := d.Get(3); v != "three" {
		t.Errorf("index stale after Delete: Get(3) = %v", v)
	}
	d.Keys = append(d.Keys, "direct")
	d.Values = append(d.Values, "appended")
	if v, ok := d.Get("direct"); !ok || v != "appended" {
		t.Errorf("directly appended key not found: %v %v", v, ok)
	}
	lit := &Dict{Keys: []any{"x", int64(1)}, Values: []any{1, 2}, Ordered: true}
	if v, ok := lit.Get(1); !ok || v != 2 {
		t.Errorf("literal dict Get(1) = %v, %v", v, ok)
	}
	nan := NewDict()
	nan.Set(math.NaN(), 1)
	nan.Set(math.NaN(), 2)
	if nan.Len() != 2 {
		t.Errorf("NaN keys should never match, len = %d", nan.Len())
	}
	if !NewOrderedDict().Ordered || NewDict().Ordered {
		t.Error("constructors set Ordered wrongly")
	}
}
