package pickle

import (
	"bytes"
	"math"
)

// Tuple is a Python tuple.
type Tuple []any

// Dict is an insertion-ordered Python dict. Both dict and
// collections.OrderedDict decode to *Dict; Ordered records which one it was
// and decides which one Write produces.
//
// Keys and Values are parallel slices and may be read directly or built as a
// literal; to change an existing entry use Set or Delete, since Get and Set
// keep an index of the keys that only follows appends.
type Dict struct {
	Keys   []any
	Values []any
	// Ordered is true for a collections.OrderedDict.
	Ordered bool
	// State is the attribute state pickled with an OrderedDict (restored by
	// the BUILD opcode), or nil. A module's state_dict carries a plain dict
	// {"_metadata": OrderedDict{...}} here. Write writes it back (only for
	// Ordered dicts, as plain Python dicts have no attributes).
	State any

	index   map[any]int // normalized hashable key -> position in Keys
	indexed int         // Keys[:indexed] are in index
}

// NewDict returns an empty plain dict.
func NewDict() *Dict { return &Dict{} }

// NewOrderedDict returns an empty collections.OrderedDict.
func NewOrderedDict() *Dict { return &Dict{Ordered: true} }

// Len returns the number of entries.
func (d *Dict) Len() int { return len(d.Keys) }

// Get returns the value stored under k. Go ints of any size are looked up as
// int64 and float32 as float64.
func (d *Dict) Get(k any) (any, bool) {
	if i := d.find(normalizeKey(k)); i >= 0 {
		return d.Values[i], true
	}
	return nil, false
}

// Set stores v under k, replacing an existing entry in place (keeping its
// position) or appending a new one. Go ints are stored as int64 and float32
// as float64.
func (d *Dict) Set(k, v any) {
	k = normalizeKey(k)
	if i := d.find(k); i >= 0 {
		d.Values[i] = v
		return
	}
	d.Keys = append(d.Keys, k)
	d.Values = append(d.Values, v)
}

// Delete removes the entry for k, if any, keeping the order of the others.
func (d *Dict) Delete(k any) {
	i := d.find(normalizeKey(k))
	if i < 0 {
		return
	}
	d.Keys = append(d.Keys[:i], d.Keys[i+1:]...)
	d.Values = append(d.Values[:i], d.Values[i+1:]...)
	d.index, d.indexed = nil, 0
}

// find returns the position of the normalized key k, or -1.
func (d *Dict) find(k any) int {
	if len(d.Values) < len(d.Keys) {
		// A hand-built literal with missing values; make it consistent.
		d.Values = append(d.Values, make([]any, len(d.Keys)-len(d.Values))...)
	}
	if !hashable(k) {
		for i, x := range d.Keys {
			if keyEqual(x, k) {
				return i
			}
		}
		return -1
	}
	for attempt := 0; attempt < 2; attempt++ {
		if d.index == nil || d.indexed > len(d.Keys) {
			d.index, d.indexed = make(map[any]int, len(d.Keys)), 0
		}
		for ; d.indexed < len(d.Keys); d.indexed++ {
			x := d.Keys[d.indexed]
			if hashable(x) {
				if _, dup := d.index[x]; !dup {
					d.index[x] = d.indexed
				}
			}
		}
		i, ok := d.index[k]
		if !ok {
			return -1
		}
		if keyEqual(d.Keys[i], k) {
			return i
		}
		d.index = nil // Keys were edited directly; rebuild once.
	}
	return -1
}

// normalizeKey converts Go convenience types to the types the decoder uses.
func normalizeKey(k any) any {
	switch x := k.(type) {
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x)
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
	case float32:
		return float64(x)
	}
	return k
}

// hashable reports whether k can be a Go map key with Python equality
// semantics (NaN excluded: it never equals itself).
func hashable(k any) bool {
	switch x := k.(type) {
	case nil, bool, int64, string:
		return true
	case float64:
		return !math.IsNaN(x)
	}
	return false
}

// keyEqual compares two normalized keys.
func keyEqual(a, b any) bool {
	switch x := a.(type) {
	case Tuple:
		y, ok := b.(Tuple)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !keyEqual(normalizeKey(x[i]), normalizeKey(y[i])) {
				return false
			}
		}
		return true
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		return false // unhashable in Python
	}
	switch b.(type) {
	case Tuple, []byte, []any:
		return false
	}
	defer func() { _ = recover() }() // other incomparable dynamic types
	return a == b
}
