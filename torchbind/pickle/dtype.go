package pickle

import "fmt"

// DType names a storage element type as PyTorch's storage classes do.
type DType int

// The element types PyTorch checkpoints store through typed storage classes
// (torch.FloatStorage, torch.DoubleStorage, ...).
const (
	Float32  DType = iota // torch.float32, torch.FloatStorage
	Float64               // torch.float64, torch.DoubleStorage
	Float16               // torch.float16, torch.HalfStorage
	BFloat16              // torch.bfloat16, torch.BFloat16Storage
	Uint8                 // torch.uint8, torch.ByteStorage
	Int8                  // torch.int8, torch.CharStorage
	Int16                 // torch.int16, torch.ShortStorage
	Int32                 // torch.int32, torch.IntStorage
	Int64                 // torch.int64, torch.LongStorage
	Bool                  // torch.bool, torch.BoolStorage
)

type dtypeInfo struct {
	name    string // "float32"
	size    int    // bytes per element
	storage string // storage class in module torch, "FloatStorage"
}

var dtypeInfos = [...]dtypeInfo{
	Float32:  {"float32", 4, "FloatStorage"},
	Float64:  {"float64", 8, "DoubleStorage"},
	Float16:  {"float16", 2, "HalfStorage"},
	BFloat16: {"bfloat16", 2, "BFloat16Storage"},
	Uint8:    {"uint8", 1, "ByteStorage"},
	Int8:     {"int8", 1, "CharStorage"},
	Int16:    {"int16", 2, "ShortStorage"},
	Int32:    {"int32", 4, "IntStorage"},
	Int64:    {"int64", 8, "LongStorage"},
	Bool:     {"bool", 1, "BoolStorage"},
}

// Valid reports whether d is one of the declared DType constants.
func (d DType) Valid() bool { return d >= 0 && int(d) < len(dtypeInfos) }

// Size returns the number of bytes per element, or 0 for an invalid DType.
func (d DType) Size() int {
	if !d.Valid() {
		return 0
	}
	return dtypeInfos[d].size
}

// String returns the torch dtype name without the "torch." prefix, e.g. "float32".
func (d DType) String() string {
	if !d.Valid() {
		return fmt.Sprintf("DType(%d)", int(d))
	}
	return dtypeInfos[d].name
}

// StorageClass returns the name of the storage class in module torch that
// torch.save records for d, e.g. "FloatStorage", or "" for an invalid DType.
func (d DType) StorageClass() string {
	if !d.Valid() {
		return ""
	}
	return dtypeInfos[d].storage
}

// dtypeForStorageClass maps a storage class name in module torch to its DType.
// torch.UntypedStorage (torch 2.x, raw bytes) maps to Uint8, as torch.load does.
func dtypeForStorageClass(name string) (DType, bool) {
	if name == "UntypedStorage" {
		return Uint8, true
	}
	for i, info := range dtypeInfos {
		if info.storage == name {
			return DType(i), true
		}
	}
	return 0, false
}
