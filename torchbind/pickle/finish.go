package pickle

import (
	"fmt"
)

// maxDepth bounds the nesting finish and the pickler follow.
const maxDepth = 10000

// finish converts the unpickler's mutable containers into the public value
// types: *pyList and *pySet become []any. Shared containers stay shared and
// cycles through lists and dicts are preserved.
func finish(v any) (any, error) {
	f := &finisher{lists: map[*pyList][]any{}, sets: map[*pySet][]any{}, tuples: map[*any]Tuple{}, dicts: map[*Dict]bool{}}
	return f.conv(v, 0)
}

// finisher converts every container once, keyed by identity, so a graph
// that shares substructure (which the memo makes cheap to encode) cannot
// blow up exponentially.
type finisher struct {
	lists  map[*pyList][]any
	sets   map[*pySet][]any
	tuples map[*any]Tuple // keyed by the address of the first element
	dicts  map[*Dict]bool
}

func (f *finisher) conv(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("object graph nested deeper than %d", maxDepth)
	}
	switch x := v.(type) {
	case *pyList:
		return convItems(f, f.lists, x, x.items, depth)
	case *pySet:
		return convItems(f, f.sets, x, x.items, depth)
	case Tuple:
		if len(x) == 0 {
			return x, nil
		}
		if out, ok := f.tuples[&x[0]]; ok {
			return out, nil
		}
		out := make(Tuple, len(x))
		for i, it := range x {
			c, err := f.conv(it, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		f.tuples[&x[0]] = out
		return out, nil
	case *Dict:
		if f.dicts[x] {
			return x, nil
		}
		f.dicts[x] = true
		for i := range x.Keys {
			k, err := f.conv(x.Keys[i], depth+1)
			if err != nil {
				return nil, err
			}
			val, err := f.conv(x.Values[i], depth+1)
			if err != nil {
				return nil, err
			}
			x.Keys[i], x.Values[i] = k, val
		}
		if x.State != nil {
			s, err := f.conv(x.State, depth+1)
			if err != nil {
				return nil, err
			}
			x.State = s
		}
		x.index, x.indexed = nil, 0 // keys changed representation
		return x, nil
	case global, storageClass:
		return nil, fmt.Errorf("result contains a bare %s, which has no Go representation", typeName(v))
	}
	return v, nil
}

// typeName describes a decoded value's Python type for error messages.
func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case *pyList, []any:
		return "list"
	case *pySet:
		return "set"
	case Tuple:
		return "tuple"
	case *Dict:
		if x.Ordered {
			return "collections.OrderedDict"
		}
		return "dict"
	case *Tensor:
		return "torch.Tensor"
	case *Storage:
		return "torch storage"
	case global:
		return x.String()
	case storageClass:
		return "torch." + x.dtype.StorageClass()
	}
	return fmt.Sprintf("%T", v)
}

// convItems converts a list's or a set's items into one []any, made once
// per object (seen holds it before its items are converted, so a list
// that contains itself refers to itself).
func convItems[K comparable](f *finisher, seen map[K][]any, key K, items []any, depth int) (any, error) {
	if out, ok := seen[key]; ok {
		return out, nil
	}
	out := make([]any, len(items))
	seen[key] = out
	for i, it := range items {
		c, err := f.conv(it, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}
