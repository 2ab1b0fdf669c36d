package pickle

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"unicode/utf8"
)

// pickler writes an object graph as protocol 2, the way Python's pickler
// does inside torch.save: it memoizes (BINPUT/LONG_BINPUT) every string,
// tuple, list, dict, global and reduced object, and re-references them with
// BINGET/LONG_BINGET.
type pickler struct {
	out      bytes.Buffer
	memo     map[any]int
	nextMemo int

	storageKeys map[*Storage]string
	storages    []*Storage // in key order "0", "1", ...

	tuplesOpen map[*any]bool // tuples being written, to reject cycles
}

// Memo keys: values of distinct types never collide in the memo map.
type (
	memoString string
	memoGlobal struct{ module, name string }
	memoList   struct {
		first *any
		n     int
	}
	memoTuple struct {
		first *any
		n     int
	}
	memoBytes struct {
		first *byte
		n     int
	}
)

// pickleBatchSize is the number of items per APPENDS/SETITEMS, as in CPython.
const pickleBatchSize = 1000

func newPickler() *pickler {
	return &pickler{
		memo:        map[any]int{},
		storageKeys: map[*Storage]string{},
		tuplesOpen:  map[*any]bool{},
	}
}

// dump writes PROTO 2, v, STOP.
func (p *pickler) dump(v any) error {
	p.out.Write([]byte{opProto, 2})
	if err := p.save(v, 0); err != nil {
		return err
	}
	p.out.WriteByte(opStop)
	return nil
}

func (p *pickler) op(b ...byte) { p.out.Write(b) }

func (p *pickler) uint32le(n uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], n)
	p.out.Write(b[:])
}

// memoize stores the top of the stack under key (nil: a fresh object that
// is never referenced again, as Python's memo would still number it).
func (p *pickler) memoize(key any) {
	i := p.nextMemo
	p.nextMemo++
	if key != nil {
		p.memo[key] = i
	}
	if i < 256 {
		p.op(opBinPut, byte(i))
	} else {
		p.op(opLongBinPut)
		p.uint32le(uint32(i))
	}
}

// fromMemo writes a memo reference for key if it was memoized.
func (p *pickler) fromMemo(key any) bool {
	i, ok := p.memo[key]
	if !ok {
		return false
	}
	if i < 256 {
		p.op(opBinGet, byte(i))
	} else {
		p.op(opLongBinGet)
		p.uint32le(uint32(i))
	}
	return true
}

func (p *pickler) save(v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("object graph nested deeper than %d (cyclic?)", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		p.op(opNone)
	case bool:
		if x {
			p.op(opNewTrue)
		} else {
			p.op(opNewFalse)
		}
	case int64:
		p.saveInt(x)
	case int:
		p.saveInt(int64(x))
	case int8:
		p.saveInt(int64(x))
	case int16:
		p.saveInt(int64(x))
	case int32:
		p.saveInt(int64(x))
	case uint8:
		p.saveInt(int64(x))
	case uint16:
		p.saveInt(int64(x))
	case uint32:
		p.saveInt(int64(x))
	case uint:
		if uint64(x) > math.MaxInt64 {
			return fmt.Errorf("uint %d does not fit in int64", x)
		}
		p.saveInt(int64(x))
	case uint64:
		if x > math.MaxInt64 {
			return fmt.Errorf("uint64 %d does not fit in int64", x)
		}
		p.saveInt(int64(x))
	case float64:
		p.saveFloat(x)
	case float32:
		p.saveFloat(float64(x))
	case string:
		return p.saveString(x)
	case []byte:
		return p.saveBytes(x)
	case Tuple:
		return p.saveTuple(x, depth)
	case []any:
		return p.saveList(x, depth)
	case *Dict:
		if x == nil {
			p.op(opNone)
			return nil
		}
		return p.saveDict(x, depth)
	case map[string]any:
		return p.saveStringMap(len(x), slices.Sorted(maps.Keys(x)), func(k string) any { return x[k] }, depth)
	case map[string]*Tensor:
		return p.saveStringMap(len(x), slices.Sorted(maps.Keys(x)), func(k string) any { return x[k] }, depth)
	case *Storage:
		if x == nil {
			p.op(opNone)
			return nil
		}
		return p.saveStorage(x)
	case *Tensor:
		if x == nil {
			p.op(opNone)
			return nil
		}
		return p.saveTensor(x)
	default:
		return fmt.Errorf("cannot pickle Go value of type %T", v)
	}
	return nil
}

func (p *pickler) saveInt(n int64) {
	switch {
	case n >= 0 && n <= 0xff:
		p.op(opBinInt1, byte(n))
	case n >= 0 && n <= 0xffff:
		p.op(opBinInt2, byte(n), byte(n>>8))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		p.op(opBinInt)
		p.uint32le(uint32(int32(n)))
	default:
		b := encodeLong(n)
		p.op(opLong1, byte(len(b)))
		p.out.Write(b)
	}
}

func (p *pickler) saveFloat(f float64) {
	var b [9]byte
	b[0] = opBinFloat
	binary.BigEndian.PutUint64(b[1:], math.Float64bits(f))
	p.out.Write(b[:])
}

func (p *pickler) saveString(s string) error {
	if p.fromMemo(memoString(s)) {
		return nil
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("string %q is not valid UTF-8 (use []byte for bytes)", s)
	}
	if uint64(len(s)) > math.MaxUint32 {
		return fmt.Errorf("string of %d bytes is too long for protocol 2", len(s))
	}
	p.op(opBinUnicode)
	p.uint32le(uint32(len(s)))
	p.out.WriteString(s)
	p.memoize(memoString(s))
	return nil
}

func (p *pickler) saveGlobal(module, name string) {
	key := memoGlobal{module, name}
	if p.fromMemo(key) {
		return
	}
	p.op(opGlobal)
	p.out.WriteString(module + "\n" + name + "\n")
	p.memoize(key)
}

// saveBytes writes bytes as Python's protocol 2 pickler does:
// _codecs.encode(latin1 text, "latin1"), or bytes() when empty.
func (p *pickler) saveBytes(b []byte) error {
	var key any
	if len(b) > 0 {
		key = memoBytes{&b[0], len(b)}
		if p.fromMemo(key) {
			return nil
		}
	}
	if len(b) == 0 {
		p.saveGlobal("__builtin__", "bytes")
		p.op(opEmptyTuple, opReduce)
		p.memoize(nil)
		return nil
	}
	p.saveGlobal("_codecs", "encode")
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	if err := p.saveString(string(r)); err != nil {
		return err
	}
	if err := p.saveString("latin1"); err != nil {
		return err
	}
	p.op(opTuple2)
	p.memoize(nil)
	p.op(opReduce)
	p.memoize(key)
	return nil
}

func (p *pickler) saveTuple(t Tuple, depth int) error {
	if len(t) == 0 {
		p.op(opEmptyTuple)
		return nil
	}
	key := memoTuple{&t[0], len(t)}
	if p.fromMemo(key) {
		return nil
	}
	if p.tuplesOpen[key.first] {
		return fmt.Errorf("recursive tuple cannot be pickled")
	}
	p.tuplesOpen[key.first] = true
	defer delete(p.tuplesOpen, key.first)
	if len(t) > 3 {
		p.op(opMark)
	}
	for _, it := range t {
		if err := p.save(it, depth+1); err != nil {
			return err
		}
	}
	if len(t) > 3 {
		p.op(opTuple)
	} else {
		p.op(opTuple1 + byte(len(t)-1))
	}
	p.memoize(key)
	return nil
}

func (p *pickler) saveList(l []any, depth int) error {
	var key any
	if len(l) > 0 {
		key = memoList{&l[0], len(l)}
		if p.fromMemo(key) {
			return nil
		}
	}
	p.op(opEmptyList)
	p.memoize(key)
	return p.batch(len(l), exactBatches, opAppend, opAppends, func(i int) error {
		return p.save(l[i], depth+1)
	})
}

// batchStyle selects how CPython's C pickler splits container items into
// MARK ... APPENDS/SETITEMS batches of pickleBatchSize.
type batchStyle int

const (
	// exactBatches is batch_list_exact/batch_dict_exact (list and dict):
	// one item uses APPEND/SETITEM; otherwise every batch is a MARK batch,
	// and a dict whose size is a multiple of the batch size ends with an
	// empty MARK SETITEMS (lists do not).
	exactBatches batchStyle = iota
	exactDictBatches
	// iterBatches is batch_dict over an iterator (OrderedDict's reduce):
	// a batch of one item uses SETITEM.
	iterBatches
)

// batch writes n items (emitted by item) in CPython's batches.
func (p *pickler) batch(n int, style batchStyle, single, multi byte, item func(int) error) error {
	emit := func(from, to int) error {
		for i := from; i < to; i++ {
			if err := item(i); err != nil {
				return err
			}
		}
		return nil
	}
	switch {
	case n == 0:
		return nil
	case n == 1 && style != iterBatches:
		if err := emit(0, 1); err != nil {
			return err
		}
		p.op(single)
		return nil
	}
	for start := 0; ; start += pickleBatchSize {
		end := min(start+pickleBatchSize, n)
		if style == iterBatches && end-start <= 1 {
			if end-start == 1 {
				if err := emit(start, end); err != nil {
					return err
				}
				p.op(single)
			}
			return nil
		}
		p.op(opMark)
		if err := emit(start, end); err != nil {
			return err
		}
		p.op(multi)
		full := end-start == pickleBatchSize
		if style == exactBatches && end == n || !full {
			return nil
		}
	}
}

func (p *pickler) saveDict(d *Dict, depth int) error {
	if p.fromMemo(d) {
		return nil
	}
	if len(d.Values) != len(d.Keys) {
		return fmt.Errorf("dict has %d keys but %d values", len(d.Keys), len(d.Values))
	}
	if d.State != nil && !d.Ordered {
		return fmt.Errorf("a plain dict cannot carry attribute State (set Ordered)")
	}
	if d.Ordered {
		p.saveGlobal("collections", "OrderedDict")
		p.op(opEmptyTuple, opReduce)
	} else {
		p.op(opEmptyDict)
	}
	p.memoize(d)
	style := exactDictBatches
	if d.Ordered {
		style = iterBatches
	}
	if err := p.saveItems(len(d.Keys), style, func(i int) (any, any) { return d.Keys[i], d.Values[i] }, depth); err != nil {
		return err
	}
	if d.State != nil {
		if err := p.save(d.State, depth+1); err != nil {
			return err
		}
		p.op(opBuild)
	}
	return nil
}

func (p *pickler) saveStringMap(n int, keys []string, get func(string) any, depth int) error {
	p.op(opEmptyDict)
	p.memoize(nil)
	return p.saveItems(n, exactDictBatches, func(i int) (any, any) { return keys[i], get(keys[i]) }, depth)
}

// saveItems writes SETITEM/SETITEMS batches for the dict on top of the stack.
func (p *pickler) saveItems(n int, style batchStyle, item func(int) (any, any), depth int) error {
	return p.batch(n, style, opSetItem, opSetItems, func(i int) error {
		k, v := item(i)
		if err := checkKey(k); err != nil {
			return err
		}
		if err := p.save(k, depth+1); err != nil {
			return err
		}
		return p.save(v, depth+1)
	})
}

// checkKey rejects keys Python cannot hash.
func checkKey(k any) error {
	switch x := k.(type) {
	case []any, *Dict, map[string]any, map[string]*Tensor:
		return fmt.Errorf("dict key of type %T is unhashable in Python", k)
	case Tuple:
		for _, e := range x {
			if err := checkKey(e); err != nil {
				return err
			}
		}
	}
	return nil
}
