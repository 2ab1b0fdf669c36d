package torchbind

import "github.com/ludvae/ludvae/torchbind/pickle"

// DType is a tensor element type. The values equal the shim's LV_* codes and
// pickle.DType, so conversions are plain casts.
type DType int

// The element types ludvae uses.
const (
	Float32 DType = iota
	Float64
	Float16
	BFloat16
	Uint8
	Int8
	Int16
	Int32
	Int64
	Bool
)

var dtypeNames = [...]string{"float32", "float64", "float16", "bfloat16", "uint8", "int8", "int16", "int32", "int64", "bool"}
var dtypeSizes = [...]int{4, 8, 2, 2, 1, 1, 2, 4, 8, 1}

func (d DType) String() string {
	if d < 0 || int(d) >= len(dtypeNames) {
		return "dtype(?)"
	}
	return dtypeNames[d]
}

// Size is the number of bytes of one element.
func (d DType) Size() int { return dtypeSizes[d] }

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d <= BFloat16 }

func (d DType) pickle() pickle.DType { return pickle.DType(d) }
