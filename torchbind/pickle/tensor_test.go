package pickle

import (
	"bytes"
	"strings"
	"testing"
)

// TestDType checks sizes, names and storage classes of every DType.
func TestDType(t *testing.T) {
	tests := []struct {
		dt      DType
		size    int
		name    string
		storage string
	}{
		{Float32, 4, "float32", "FloatStorage"},
		{Float64, 8, "float64", "DoubleStorage"},
		{Float16, 2, "float16", "HalfStorage"},
		{BFloat16, 2, "bfloat16", "BFloat16Storage"},
		{Uint8, 1, "uint8", "ByteStorage"},
		{Int8, 1, "int8", "CharStorage"},
		{Int16, 2, "int16", "ShortStorage"},
		{Int32, 4, "int32", "IntStorage"},
		{Int64, 8, "int64", "LongStorage"},
		{Bool, 1, "bool", "BoolStorage"},
	}
	for _, tt := range tests {
		if tt.dt.Size() != tt.size || tt.dt.String() != tt.name || tt.dt.StorageClass() != tt.storage {
			t.Errorf("%d: got %d %s %s", tt.dt, tt.dt.Size(), tt.dt, tt.dt.StorageClass())
		}
		if dt, ok := dtypeForStorageClass(tt.storage); !ok || dt != tt.dt {
			t.Errorf("dtypeForStorageClass(%s) = %v, %v", tt.storage, dt, ok)
		}
	}
	if dt, ok := dtypeForStorageClass("UntypedStorage"); !ok || dt != Uint8 {
		t.Errorf("UntypedStorage -> %v, %v; want uint8", dt, ok)
	}
	if bad := DType(99); bad.Valid() || bad.Size() != 0 || bad.String() != "DType(99)" {
		t.Errorf("invalid DType: %v %d %s", bad.Valid(), bad.Size(), bad)
	}
}

// gather is the obvious reference for Contiguous: visit indices in
// row-major order and copy each element.
func gather(t *Tensor) []byte {
	es := int64(t.DType.Size())
	var out []byte
	idx := make([]int64, len(t.Shape))
	n := t.NumEl()
	st := t.strides()
	for i := int64(0); i < n; i++ {
		pos := t.Offset
		for d := range idx {
			pos += idx[d] * st[d]
		}
		out = append(out, t.Storage.Data[pos*es:(pos+1)*es]...)
		for d := len(idx) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < t.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	if out == nil {
		out = []byte{}
	}
	return out
}

// TestContiguous compares Contiguous with a per-element gather for
// transposes, slices with offsets, expanded (stride 0) views, size-1 dims
// with arbitrary strides, permutations, 0-dim and empty tensors.
func TestContiguous(t *testing.T) {
	st := &Storage{DType: Int16, Data: patternBytes(Int16, 120)}
	tests := []struct {
		name          string
		shape, stride []int64
		offset        int64
		contiguous    bool
	}{
		{"contiguous", []int64{2, 3, 4}, []int64{12, 4, 1}, 0, true},
		{"nil stride", []int64{4, 5}, nil, 3, true},
		{"offset", []int64{3, 4}, []int64{4, 1}, 7, true},
		{"transpose", []int64{4, 3}, []int64{1, 4}, 0, false},
		{"slice", []int64{2, 2}, []int64{4, 1}, 6, false},
		{"step", []int64{3, 2}, []int64{10, 3}, 1, false},
		{"expand", []int64{5, 4}, []int64{0, 1}, 2, false},
		{"size-1 dims", []int64{1, 4, 1}, []int64{99, 1, 7}, 0, true},
		{"permute 4d", []int64{2, 3, 4, 5}, []int64{1, 40, 10, 2}, 0, false},
		{"inner block", []int64{3, 2, 5}, []int64{20, 5, 1}, 0, false},
		{"0-dim", []int64{}, []int64{}, 11, true},
		{"empty", []int64{0, 3}, []int64{3, 1}, 0, true},
		{"empty huge stride", []int64{3, 0}, []int64{1000, 1}, 0, true},
	}
	for _, tt := range tests {
		x := &Tensor{DType: Int16, Shape: tt.shape, Stride: tt.stride, Offset: tt.offset, Storage: st}
		if err := x.Validate(); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := x.IsContiguous(); got != tt.contiguous {
			t.Errorf("%s: IsContiguous = %v", tt.name, got)
		}
		if got, want := x.Contiguous(), gather(x); !bytes.Equal(got, want) {
			t.Errorf("%s: Contiguous = %v, want %v", tt.name, got, want)
		}
	}
	x := NewTensor(Uint8, []int64{2, 2}, []byte{1, 2, 3, 4})
	c := x.Contiguous()
	c[0] = 9
	if x.Storage.Data[0] != 1 {
		t.Error("Contiguous aliases the storage")
	}
}

// TestValidate checks malformed views are rejected with a reason.
func TestValidate(t *testing.T) {
	st := &Storage{DType: Float32, Data: make([]byte, 24)}
	tests := []struct {
		name string
		t    *Tensor
		want string
	}{
		{"no storage", &Tensor{DType: Float32, Shape: []int64{1}}, "no storage"},
		{"dtype mismatch", &Tensor{DType: Int32, Shape: []int64{1}, Storage: st}, "views a float32 storage"},
		{"rank mismatch", &Tensor{DType: Float32, Shape: []int64{1}, Stride: []int64{1, 1}, Storage: st}, "rank"},
		{"negative size", &Tensor{DType: Float32, Shape: []int64{-1}, Storage: st}, "negative size"},
		{"negative stride", &Tensor{DType: Float32, Shape: []int64{2}, Stride: []int64{-1}, Storage: st}, "negative stride"},
		{"negative offset", &Tensor{DType: Float32, Shape: []int64{1}, Offset: -1, Storage: st}, "negative storage offset"},
		{"past end", &Tensor{DType: Float32, Shape: []int64{7}, Storage: st}, "exceeds storage"},
		{"offset past end", &Tensor{DType: Float32, Shape: []int64{}, Offset: 6, Storage: st}, "exceeds storage"},
		{"huge stride", &Tensor{DType: Float32, Shape: []int64{2, 2}, Stride: []int64{1 << 62, 1}, Storage: st}, "exceeds storage"},
		{"overflowing shape", &Tensor{DType: Float32, Shape: []int64{1 << 40, 1 << 40}, Stride: []int64{0, 0}, Storage: st}, "too many"},
		{"ragged storage", &Tensor{DType: Float32, Shape: []int64{1}, Storage: &Storage{DType: Float32, Data: make([]byte, 5)}}, "whole number"},
		{"invalid dtype", &Tensor{DType: 42, Shape: []int64{1}, Storage: st}, "invalid dtype"},
	}
	for _, tt := range tests {
		err := tt.t.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want error containing %q", tt.name, err, tt.want)
		}
	}
}

// TestNewTensor checks NewTensor's layout and its panic on a data size
// mismatch.
func TestNewTensor(t *testing.T) {
	x := NewTensor(Int32, []int64{2, 3}, make([]byte, 24))
	if x.Storage.Device != "cpu" || x.Storage.DType != Int32 || !x.IsContiguous() || x.NumEl() != 6 {
		t.Errorf("NewTensor = %+v", x)
	}
	if got := x.Stride; len(got) != 2 || got[0] != 3 || got[1] != 1 {
		t.Errorf("stride = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewTensor with wrong data size did not panic")
		}
	}()
	NewTensor(Int32, []int64{2, 3}, make([]byte, 23))
}
