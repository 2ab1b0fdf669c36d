package torchbind

import (
	"fmt"

	"github.com/ludvae/ludvae/torchbind/pickle"
)

// Dict is an ordered dictionary as torch.save writes them; values may be
// *Tensor, numbers, strings, lists, tuples and nested dicts.
type Dict = pickle.Dict

// Tuple is a Python tuple.
type Tuple = pickle.Tuple

// NewDict returns an empty ordered dictionary.
func NewDict() *Dict { return pickle.NewDict() }

// Save writes v in PyTorch's zip-pickle format, so that Python's torch.load
// reads it. Tensors are copied to the CPU. The file is written to a temporary
// name and renamed, so an existing file at path survives any failure. Its
// scopes are its own thread's, so it may run beside the runtime's work: a
// trainer saves from another goroutine while a step it abandoned still
// computes (run.StepGate), which only reads the tensors saved, as Save does.
func Save(path string, v any) error {
	var pv any
	if err := Try(func() { pv = toPickle(v) }); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := pickle.Save(path, pv); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// Load reads a file written by torch.save (or Save). Tensors come back on the
// CPU, outside any scope (the caller closes them); views that shared a
// storage in the file share memory again.
func Load(path string) (any, error) {
	pv, err := pickle.Load(path)
	if err != nil {
		return nil, err
	}
	var v any
	storages := map[*pickle.Storage]*Tensor{}
	defer func() {
		for _, base := range storages {
			base.Close() // the views keep the memory alive
		}
	}()
	if err := Try(func() { v = fromPickle(pv, storages) }); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return v, nil
}

// LoadDict reads a file whose top-level object is a dict (a state dict).
func LoadDict(path string) (*Dict, error) {
	v, err := Load(path)
	if err != nil {
		return nil, err
	}
	d, ok := v.(*Dict)
	if !ok {
		return nil, fmt.Errorf("load %s: top-level object is %T, expected a dict", path, v)
	}
	return d, nil
}

func toPickle(v any) any {
	switch x := v.(type) {
	case *Tensor:
		var pt *pickle.Tensor
		// In a scope: the detached view and the host copy (a real copy of a
		// CUDA tensor) are freed here, not whenever a finalizer runs.
		WithScope(func(*Scope) {
			NoGrad(func() {
				c := x.Detach().To(x.DType(), CPU).Contiguous()
				pt = pickle.NewTensor(c.DType().pickle(), c.Shape(), c.Bytes())
			})
		})
		pt.RequiresGrad = x.RequiresGrad()
		return pt
	case *Dict:
		d := pickle.NewDict()
		d.Ordered = x.Ordered
		for i, k := range x.Keys {
			d.Set(k, toPickle(x.Values[i]))
		}
		return d
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = toPickle(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = toPickle(e)
		}
		return l
	case Tuple:
		l := make(Tuple, len(x))
		for i, e := range x {
			l[i] = toPickle(e)
		}
		return l
	}
	return v
}

func fromPickle(v any, storages map[*pickle.Storage]*Tensor) any {
	switch x := v.(type) {
	case *pickle.Tensor:
		return tensorFromPickle(x, storages)
	case *pickle.Dict:
		d := pickle.NewDict()
		d.Ordered = x.Ordered
		for i, k := range x.Keys {
			d.Set(k, fromPickle(x.Values[i], storages))
		}
		return d
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = fromPickle(e, storages)
		}
		return l
	case pickle.Tuple:
		l := make(Tuple, len(x))
		for i, e := range x {
			l[i] = fromPickle(e, storages)
		}
		return l
	}
	return v
}

// tensorFromPickle rebuilds a stored view over its (possibly shared) storage.
func tensorFromPickle(p *pickle.Tensor, storages map[*pickle.Storage]*Tensor) *Tensor {
	base, ok := storages[p.Storage]
	if !ok {
		s := p.Storage
		n := int64(len(s.Data) / s.DType.Size())
		base = FromBytes(DType(s.DType), []int64{n}, s.Data).Persist()
		storages[p.Storage] = base
	}
	t := base.AsStrided(p.Shape, p.Stride, p.Offset).Persist()
	if p.RequiresGrad && DType(p.DType).IsFloat() {
		t.SetRequiresGrad(true)
	}
	return t
}

// CloseAll frees every tensor in a value read by Load (nested dicts, lists
// and tuples included).
func CloseAll(v any) {
	switch x := v.(type) {
	case *Tensor:
		x.Close()
	case *Dict:
		for _, e := range x.Values {
			CloseAll(e)
		}
	case []any:
		for _, e := range x {
			CloseAll(e)
		}
	case Tuple:
		for _, e := range x {
			CloseAll(e)
		}
	}
}
