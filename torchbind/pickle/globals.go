package pickle

import (
	"errors"
	"fmt"
	"strings"
)

// GlobalError reports a pickled global (a class or function reference) that
// the unpickler does not support. The unpickler never imports or runs code;
// it only understands the globals torch.save emits for tensors and the common
// containers.
type GlobalError struct {
	Module, Name string
}

// Error returns "unsupported global module.name".
func (e *GlobalError) Error() string {
	return fmt.Sprintf("unsupported global %s.%s", e.Module, e.Name)
}

// global is a resolved, supported callable.
type global struct{ module, name string }

func (g global) String() string { return g.module + "." + g.name }

// storageClass is a torch.<X>Storage class reference (or torch.UntypedStorage).
type storageClass struct{ dtype DType }

// Supported callables, by canonical module.name.
const (
	gRebuildTensor      = "torch._utils._rebuild_tensor"
	gRebuildTensorV2    = "torch._utils._rebuild_tensor_v2"
	gRebuildParameter   = "torch._utils._rebuild_parameter"
	gRebuildParamState  = "torch._utils._rebuild_parameter_with_state"
	gOrderedDict        = "collections.OrderedDict"
	gTorchSize          = "torch.Size"
	gTorchDevice        = "torch.device"
	gSet                = "builtins.set"
	gFrozenSet          = "builtins.frozenset"
	gBytes              = "builtins.bytes"
	gByteArray          = "builtins.bytearray"
	gCodecsEncode       = "_codecs.encode"
	moduleBuiltins      = "builtins"
	moduleBuiltinPy2    = "__builtin__"
	moduleTorch         = "torch"
	storageSuffix       = "Storage"
	persistentStorageID = "storage"
)

var supportedGlobals = map[string]bool{
	gRebuildTensor: true, gRebuildTensorV2: true, gRebuildParameter: true,
	gRebuildParamState: true, gOrderedDict: true, gTorchSize: true,
	gTorchDevice: true, gSet: true, gFrozenSet: true, gBytes: true,
	gByteArray: true, gCodecsEncode: true,
}

// resolveGlobal maps a GLOBAL/STACK_GLOBAL reference to a value the
// unpickler can call, or a *GlobalError.
func resolveGlobal(module, name string) (any, error) {
	if module == moduleTorch && strings.HasSuffix(name, storageSuffix) {
		if dt, ok := dtypeForStorageClass(name); ok {
			return storageClass{dt}, nil
		}
		return nil, &GlobalError{module, name}
	}
	canon := module
	if module == moduleBuiltinPy2 {
		canon = moduleBuiltins // protocol < 3 pickles name builtins this way
	}
	if module == "torch.storage" && name == "UntypedStorage" {
		return storageClass{Uint8}, nil
	}
	g := global{canon, name}
	if !supportedGlobals[g.String()] {
		return nil, &GlobalError{module, name}
	}
	return g, nil
}

// call applies a REDUCE or NEWOBJ of callable f to args.
func call(f any, args Tuple) (any, error) {
	g, ok := f.(global)
	if !ok {
		return nil, fmt.Errorf("cannot call %s", typeName(f))
	}
	v, err := callGlobal(g, args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g, err)
	}
	return v, nil
}

func callGlobal(g global, args Tuple) (any, error) {
	switch g.String() {
	case gRebuildTensorV2:
		if len(args) < 6 || len(args) > 7 {
			return nil, fmt.Errorf("want 6 or 7 arguments, got %d", len(args))
		}
		t, err := rebuildTensor(args[:4])
		if err != nil {
			return nil, err
		}
		rg, ok := args[4].(bool)
		if !ok {
			return nil, fmt.Errorf("requires_grad is %s, not bool", typeName(args[4]))
		}
		t.RequiresGrad = rg
		return t, nil // backward_hooks and metadata are dropped
	case gRebuildTensor:
		if len(args) != 4 {
			return nil, fmt.Errorf("want 4 arguments, got %d", len(args))
		}
		return rebuildTensor(args)
	case gRebuildParameter, gRebuildParamState:
		want := 3
		if g.String() == gRebuildParamState {
			want = 4
		}
		if len(args) != want {
			return nil, fmt.Errorf("want %d arguments, got %d", want, len(args))
		}
		t, ok := args[0].(*Tensor)
		if !ok {
			return nil, fmt.Errorf("data is %s, not a tensor", typeName(args[0]))
		}
		rg, ok := args[1].(bool)
		if !ok {
			return nil, fmt.Errorf("requires_grad is %s, not bool", typeName(args[1]))
		}
		p := *t
		p.RequiresGrad = rg
		return &p, nil
	case gOrderedDict:
		d := NewOrderedDict()
		switch len(args) {
		case 0:
		case 1:
			items, ok := sequence(args[0])
			if !ok {
				return nil, fmt.Errorf("argument is %s, not a sequence of pairs", typeName(args[0]))
			}
			for _, it := range items {
				kv, ok := sequence(it)
				if !ok || len(kv) != 2 {
					return nil, errors.New("item is not a (key, value) pair")
				}
				if err := setItems(d, kv); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("want at most 1 argument, got %d", len(args))
		}
		return d, nil
	case gTorchSize:
		if len(args) == 0 {
			return Tuple{}, nil
		}
		dims, err := int64s(args[0])
		if err != nil || len(args) != 1 {
			return nil, fmt.Errorf("want one tuple of ints, got %d arguments", len(args))
		}
		t := make(Tuple, len(dims))
		for i, d := range dims {
			t[i] = d
		}
		return t, nil
	case gTorchDevice:
		return device(args)
	case gSet, gFrozenSet:
		switch len(args) {
		case 0:
			return &pySet{}, nil
		case 1:
			items, ok := sequence(args[0])
			if !ok {
				return nil, fmt.Errorf("argument is %s, not a sequence", typeName(args[0]))
			}
			return &pySet{items: append([]any(nil), items...)}, nil
		}
		return nil, fmt.Errorf("want at most 1 argument, got %d", len(args))
	case gBytes, gByteArray, gCodecsEncode:
		return toBytes(args)
	}
	return nil, &GlobalError{g.module, g.name}
}

// rebuildTensor builds a tensor from (storage, storage_offset, size, stride).
func rebuildTensor(args Tuple) (*Tensor, error) {
	st, ok := args[0].(*Storage)
	if !ok {
		return nil, fmt.Errorf("storage argument is %s", typeName(args[0]))
	}
	off, ok := args[1].(int64)
	if !ok {
		return nil, fmt.Errorf("storage_offset is %s, not int", typeName(args[1]))
	}
	shape, err := int64s(args[2])
	if err != nil {
		return nil, fmt.Errorf("size: %w", err)
	}
	stride, err := int64s(args[3])
	if err != nil {
		return nil, fmt.Errorf("stride: %w", err)
	}
	t := &Tensor{DType: st.DType, Shape: shape, Stride: stride, Offset: off, Storage: st}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// sequence returns the elements of a tuple or list under construction.
func sequence(v any) ([]any, bool) {
	switch x := v.(type) {
	case Tuple:
		return x, true
	case *pyList:
		return x.items, true
	}
	return nil, false
}

func int64s(v any) ([]int64, error) {
	items, ok := sequence(v)
	if !ok {
		return nil, fmt.Errorf("%s is not a tuple of ints", typeName(v))
	}
	out := make([]int64, len(items))
	for i, it := range items {
		n, ok := it.(int64)
		if !ok {
			return nil, fmt.Errorf("element %d is %s, not int", i, typeName(it))
		}
		out[i] = n
	}
	return out, nil
}

// device turns torch.device arguments ("cuda:0") or ("cuda", 0) into a string.
func device(args Tuple) (string, error) {
	if len(args) == 0 || len(args) > 2 {
		return "", fmt.Errorf("want 1 or 2 arguments, got %d", len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return "", fmt.Errorf("device type is %s, not str", typeName(args[0]))
	}
	if len(args) == 2 && args[1] != nil {
		i, ok := args[1].(int64)
		if !ok {
			return "", fmt.Errorf("device index is %s, not int", typeName(args[1]))
		}
		s = fmt.Sprintf("%s:%d", s, i)
	}
	return s, nil
}

// toBytes implements bytes(...), bytearray(...) and _codecs.encode(str, enc),
// the ways protocols 0-2 spell bytes objects.
func toBytes(args Tuple) ([]byte, error) {
	switch len(args) {
	case 0:
		return []byte{}, nil
	case 1:
		switch x := args[0].(type) {
		case []byte:
			return append([]byte{}, x...), nil
		case string:
			return []byte(x), nil // _codecs.encode(str) defaults to UTF-8
		}
		return nil, fmt.Errorf("argument is %s", typeName(args[0]))
	case 2:
		s, ok1 := args[0].(string)
		enc, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, errors.New("want (str, encoding)")
		}
		switch strings.ToLower(strings.ReplaceAll(enc, "_", "-")) {
		case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1":
			out := make([]byte, 0, len(s))
			for _, r := range s {
				if r > 0xff { // includes U+FFFD from invalid UTF-8
					return nil, errors.New("string is not Latin-1")
				}
				out = append(out, byte(r))
			}
			return out, nil
		case "utf-8", "utf8":
			return []byte(s), nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", enc)
	}
	return nil, fmt.Errorf("want at most 2 arguments, got %d", len(args))
}

// build applies BUILD (setstate) with state to obj.
func build(obj, state any) error {
	switch x := obj.(type) {
	case *Dict:
		// An OrderedDict's instance __dict__, e.g. a module state_dict's
		// {"_metadata": ...}.
		x.State = state
		return nil
	case *Tensor:
		return nil // tensor attribute state is not represented
	}
	return fmt.Errorf("BUILD on %s is not supported", typeName(obj))
}
