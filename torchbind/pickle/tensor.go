package pickle

import (
	"errors"
	"fmt"
	"math"
)

// Storage is a flat buffer of elements that one or more tensors view.
// Tensors read from one file that share a storage record share one *Storage,
// and Write writes each distinct *Storage once, so sharing survives a round
// trip.
type Storage struct {
	DType  DType
	Data   []byte // little-endian raw elements, len = numel*DType.Size()
	Device string // "cpu", "cuda:0", ... as recorded in the file; written as given ("cpu" if empty)
}

// NumEl returns the number of elements in the storage.
func (s *Storage) NumEl() int64 {
	size := s.DType.Size()
	if size == 0 {
		return 0
	}
	return int64(len(s.Data) / size)
}

// Tensor is a tensor as stored in the file: a view (shape, stride, offset, all
// in elements) into a storage.
type Tensor struct {
	DType  DType
	Shape  []int64
	Stride []int64 // in elements; nil means contiguous (row-major) for Shape
	Offset int64   // storage offset in elements
	// Storage is shared between views of the same storage (kept shared on
	// read and on write).
	Storage *Storage
	// RequiresGrad is the recorded requires_grad flag (also set for
	// tensors saved as torch.nn.Parameter).
	RequiresGrad bool
}

// NewTensor makes a contiguous tensor owning data, on device "cpu".
// It panics if len(data) is not the product of shape times dt.Size().
func NewTensor(dt DType, shape []int64, data []byte) *Tensor {
	n, err := numel(shape)
	if err != nil {
		panic("pickle: NewTensor: " + err.Error())
	}
	if !dt.Valid() || int64(len(data)) != n*int64(dt.Size()) {
		panic(fmt.Sprintf("pickle: NewTensor: %d bytes of data for %s tensor of shape %v", len(data), dt, shape))
	}
	return &Tensor{
		DType:   dt,
		Shape:   append([]int64{}, shape...),
		Stride:  ContiguousStrides(shape),
		Storage: &Storage{DType: dt, Data: data, Device: "cpu"},
	}
}

// ContiguousStrides returns the row-major strides (in elements) of shape.
func ContiguousStrides(shape []int64) []int64 {
	st := make([]int64, len(shape))
	acc := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		if shape[i] > 1 {
			acc *= shape[i]
		}
	}
	return st
}

// numel returns the product of shape, rejecting negative sizes and overflow.
func numel(shape []int64) (int64, error) {
	for _, s := range shape {
		if s < 0 {
			return 0, fmt.Errorf("negative size in shape %v", shape)
		}
	}
	for _, s := range shape {
		if s == 0 {
			return 0, nil
		}
	}
	n := int64(1)
	for _, s := range shape {
		if n > math.MaxInt64/s {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n *= s
	}
	return n, nil
}

// NumEl returns the number of elements of the view (the product of Shape).
// It returns 0 for an invalid shape.
func (t *Tensor) NumEl() int64 {
	n, err := numel(t.Shape)
	if err != nil {
		return 0
	}
	return n
}

func (t *Tensor) strides() []int64 {
	if t.Stride == nil {
		return ContiguousStrides(t.Shape)
	}
	return t.Stride
}

// IsContiguous reports whether the view is row-major contiguous (dimensions of
// size one are ignored, as torch does).
func (t *Tensor) IsContiguous() bool {
	if t.NumEl() == 0 {
		return true
	}
	st := t.strides()
	if len(st) != len(t.Shape) {
		return false
	}
	expect := int64(1)
	for i := len(t.Shape) - 1; i >= 0; i-- {
		if t.Shape[i] == 1 {
			continue
		}
		if st[i] != expect {
			return false
		}
		expect *= t.Shape[i]
	}
	return true
}

// Validate checks that the view is well formed and lies inside its storage.
// Tensors returned by Read are always valid.
func (t *Tensor) Validate() error {
	if !t.DType.Valid() {
		return fmt.Errorf("invalid dtype %d", int(t.DType))
	}
	if t.Storage == nil {
		return errors.New("tensor has no storage")
	}
	if t.Storage.DType != t.DType {
		return fmt.Errorf("%s tensor views a %s storage", t.DType, t.Storage.DType)
	}
	if len(t.Storage.Data)%t.DType.Size() != 0 {
		return fmt.Errorf("%s storage of %d bytes is not a whole number of elements", t.DType, len(t.Storage.Data))
	}
	st := t.strides()
	if len(st) != len(t.Shape) {
		return fmt.Errorf("shape %v and stride %v differ in rank", t.Shape, st)
	}
	n, err := numel(t.Shape)
	if err != nil {
		return err
	}
	if t.Offset < 0 {
		return fmt.Errorf("negative storage offset %d", t.Offset)
	}
	for _, s := range st {
		if s < 0 {
			return fmt.Errorf("negative stride in %v", st)
		}
	}
	if n == 0 {
		return nil
	}
	if n > math.MaxInt64/int64(t.DType.Size()) {
		return fmt.Errorf("shape %v has too many bytes", t.Shape)
	}
	// Largest element index reached by the view, computed without overflow:
	// every partial sum must stay below the storage size.
	limit := t.Storage.NumEl()
	last := t.Offset
	for i, s := range t.Shape {
		if s <= 1 || st[i] == 0 {
			continue
		}
		if st[i] > (limit-last)/(s-1) {
			last = limit
			break
		}
		last += (s - 1) * st[i]
	}
	if last >= limit {
		return fmt.Errorf("view (shape %v, stride %v, offset %d) exceeds storage of %d elements", t.Shape, st, t.Offset, limit)
	}
	return nil
}

// Contiguous returns the tensor's elements in row-major order as raw bytes
// (materializing strided views). The result never aliases the storage.
// It panics if the view is invalid (see Validate).
func (t *Tensor) Contiguous() []byte {
	if err := t.Validate(); err != nil {
		panic("pickle: Tensor.Contiguous: " + err.Error())
	}
	es := int64(t.DType.Size())
	n := t.NumEl()
	out := make([]byte, n*es)
	if n == 0 {
		return out
	}
	data := t.Storage.Data
	if t.IsContiguous() {
		copy(out, data[t.Offset*es:])
		return out
	}
	shape, st := t.Shape, t.strides()
	// Fold the innermost dimensions that are laid out contiguously into one
	// block copied at a time.
	k := len(shape)
	block := int64(1)
	for k > 0 && (shape[k-1] == 1 || st[k-1] == block) {
		block *= shape[k-1]
		k--
	}
	idx := make([]int64, k)
	pos := t.Offset
	bl := block * es
	for o := int64(0); o < int64(len(out)); o += bl {
		copy(out[o:o+bl], data[pos*es:pos*es+bl])
		for d := k - 1; d >= 0; d-- {
			idx[d]++
			pos += st[d]
			if idx[d] < shape[d] {
				break
			}
			pos -= idx[d] * st[d]
			idx[d] = 0
		}
	}
	return out
}
