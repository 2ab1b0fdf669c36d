package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// pyList is a list under construction: APPEND mutates it while the memo may
// already hold it, so it must be a pointer until the graph is finished.
type pyList struct{ items []any }

// pySet is a set or frozenset under construction.
type pySet struct{ items []any }

// unpickler is the pickle virtual machine. MARKs are kept as stack heights.
type unpickler struct {
	data  []byte
	pos   int
	stack []any
	marks []int // stack heights at each MARK
	memo  map[int]any

	// persistentLoad resolves a persistent id (BINPERSID/PERSID); nil
	// rejects them.
	persistentLoad func(pid any) (any, error)
}

var errStackUnderflow = errors.New("stack underflow")

// unpickle decodes one pickle from data and returns the finished object graph.
func unpickle(data []byte, persistentLoad func(any) (any, error)) (any, error) {
	u := &unpickler{data: data, memo: map[int]any{}, persistentLoad: persistentLoad}
	v, err := u.run()
	if err != nil {
		return nil, err
	}
	return finish(v)
}

func (u *unpickler) run() (any, error) {
	for {
		if u.pos >= len(u.data) {
			return nil, errors.New("data.pkl ends before STOP")
		}
		at := u.pos
		op := u.data[u.pos]
		u.pos++
		if op == opStop {
			if len(u.marks) > 0 {
				return nil, fmt.Errorf("data.pkl offset %d: STOP with an open MARK", at)
			}
			v, err := u.pop()
			if err != nil {
				return nil, fmt.Errorf("data.pkl offset %d: STOP: %w", at, err)
			}
			return v, nil
		}
		if err := u.step(op); err != nil {
			var ge *GlobalError
			if errors.As(err, &ge) {
				return nil, fmt.Errorf("data.pkl offset %d: %w", at, err)
			}
			return nil, fmt.Errorf("data.pkl offset %d: opcode 0x%02x: %w", at, op, err)
		}
	}
}

// --- stack helpers ---

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) floor() int {
	if len(u.marks) == 0 {
		return 0
	}
	return u.marks[len(u.marks)-1]
}

func (u *unpickler) pop() (any, error) {
	if len(u.stack) <= u.floor() {
		return nil, errStackUnderflow
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) <= u.floor() {
		return nil, errStackUnderflow
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark removes and returns the items pushed since the last MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errors.New("no MARK on the stack")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) popN(n int) ([]any, error) {
	if len(u.stack)-u.floor() < n {
		return nil, errStackUnderflow
	}
	items := append([]any(nil), u.stack[len(u.stack)-n:]...)
	u.stack = u.stack[:len(u.stack)-n]
	return items, nil
}

// --- input helpers ---

func (u *unpickler) read(n uint64) ([]byte, error) {
	if n > uint64(len(u.data)-u.pos) {
		return nil, fmt.Errorf("needs %d bytes, %d left", n, len(u.data)-u.pos)
	}
	b := u.data[u.pos : u.pos+int(n)]
	u.pos += int(n)
	return b, nil
}

func (u *unpickler) readUint(n int) (uint64, error) {
	b, err := u.read(uint64(n))
	if err != nil {
		return 0, err
	}
	var x uint64
	for i := n - 1; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x, nil
}

// readLine returns the bytes up to (not including) the next newline.
func (u *unpickler) readLine() ([]byte, error) {
	i := bytes.IndexByte(u.data[u.pos:], '\n')
	if i < 0 {
		return nil, errors.New("missing newline")
	}
	line := u.data[u.pos : u.pos+i]
	u.pos += i + 1
	return line, nil
}

// --- memo ---

func (u *unpickler) memoGet(i int) error {
	v, ok := u.memo[i]
	if !ok {
		return fmt.Errorf("memo key %d not found", i)
	}
	u.push(v)
	return nil
}

func (u *unpickler) memoPut(i int) error {
	if i < 0 {
		return fmt.Errorf("negative memo key %d", i)
	}
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[i] = v
	return nil
}

// step executes one opcode (other than STOP).
func (u *unpickler) step(op byte) error {
	switch op {
	case opProto:
		p, err := u.readUint(1)
		if err != nil {
			return err
		}
		if p > 5 {
			return fmt.Errorf("unsupported pickle protocol %d", p)
		}
	case opFrame:
		_, err := u.readUint(8)
		return err
	case opMark:
		u.marks = append(u.marks, len(u.stack))
	case opPop:
		if len(u.stack) > u.floor() {
			u.stack = u.stack[:len(u.stack)-1]
		} else {
			_, err := u.popMark() // Python pops the whole mark frame here
			return err
		}
	case opPopMark:
		_, err := u.popMark()
		return err
	case opDup:
		v, err := u.top()
		if err != nil {
			return err
		}
		u.push(v)

	case opNone:
		u.push(nil)
	case opNewTrue:
		u.push(true)
	case opNewFalse:
		u.push(false)

	case opInt:
		line, err := u.readLine()
		if err != nil {
			return err
		}
		switch string(line) {
		case "00":
			u.push(false)
			return nil
		case "01":
			u.push(true)
			return nil
		}
		return u.pushIntText(line)
	case opLong:
		line, err := u.readLine()
		if err != nil {
			return err
		}
		return u.pushIntText(bytes.TrimSuffix(line, []byte("L")))
	case opBinInt:
		x, err := u.readUint(4)
		if err != nil {
			return err
		}
		u.push(int64(int32(uint32(x))))
	case opBinInt1:
		x, err := u.readUint(1)
		if err != nil {
			return err
		}
		u.push(int64(x))
	case opBinInt2:
		x, err := u.readUint(2)
		if err != nil {
			return err
		}
		u.push(int64(x))
	case opLong1, opLong4:
		width := 1
		if op == opLong4 {
			width = 4
		}
		n, err := u.readUint(width)
		if err != nil {
			return err
		}
		if op == opLong4 && int32(uint32(n)) < 0 {
			return errors.New("LONG4 with negative byte count")
		}
		b, err := u.read(n)
		if err != nil {
			return err
		}
		v, err := decodeLong(b)
		if err != nil {
			return err
		}
		u.push(v)

	case opFloat:
		line, err := u.readLine()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(string(line), 64)
		if err != nil {
			return fmt.Errorf("bad FLOAT %q", line)
		}
		u.push(f)
	case opBinFloat:
		b, err := u.read(8)
		if err != nil {
			return err
		}
		u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))

	case opString:
		line, err := u.readLine()
		if err != nil {
			return err
		}
		s, err := unquotePyString(line)
		if err != nil {
			return err
		}
		u.push(s)
	case opBinString, opShortBinString, opBinUnicode, opShortBinUnicode, opBinUnicode8,
		opBinBytes, opShortBinBytes, opBinBytes8, opByteArray8:
		return u.pushCounted(op)
	case opUnicode:
		line, err := u.readLine()
		if err != nil {
			return err
		}
		s, err := decodeRawUnicodeEscape(line)
		if err != nil {
			return err
		}
		u.push(s)

	case opEmptyList:
		u.push(&pyList{})
	case opList:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(&pyList{items: items})
	case opAppend:
		v, err := u.pop()
		if err != nil {
			return err
		}
		return u.extendTop([]any{v})
	case opAppends:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		return u.extendTop(items)

	case opEmptyTuple:
		u.push(Tuple{})
	case opTuple:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(Tuple(items))
	case opTuple1, opTuple2, opTuple3:
		items, err := u.popN(int(op-opTuple1) + 1)
		if err != nil {
			return err
		}
		u.push(Tuple(items))

	case opEmptyDict:
		u.push(NewDict())
	case opDict:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		d := NewDict()
		if err := setItems(d, items); err != nil {
			return err
		}
		u.push(d)
	case opSetItem:
		kv, err := u.popN(2)
		if err != nil {
			return err
		}
		return u.setItemsTop(kv)
	case opSetItems:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		return u.setItemsTop(items)

	case opEmptySet:
		u.push(&pySet{})
	case opAddItems:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		t, err := u.top()
		if err != nil {
			return err
		}
		s, ok := t.(*pySet)
		if !ok {
			return fmt.Errorf("ADDITEMS on %s", typeName(t))
		}
		s.items = append(s.items, items...)
	case opFrozenSet:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(&pySet{items: items})

	case opGet:
		line, err := u.readLine()
		if err != nil {
			return err
		}
		i, err := strconv.Atoi(string(line))
		if err != nil {
			return fmt.Errorf("bad GET index %q", line)
		}
		return u.memoGet(i)
	case opBinGet, opLongBinGet:
		width := 1
		if op == opLongBinGet {
			width = 4
		}
		i, err := u.readUint(width)
		if err != nil {
			return err
		}
		return u.memoGet(int(i))
	case opPut:
		line, err := u.readLine()
		if err != nil {
			return err
		}
		i, err := strconv.Atoi(string(line))
		if err != nil {
			return fmt.Errorf("bad PUT index %q", line)
		}
		return u.memoPut(i)
	case opBinPut, opLongBinPut:
		width := 1
		if op == opLongBinPut {
			width = 4
		}
		i, err := u.readUint(width)
		if err != nil {
			return err
		}
		return u.memoPut(int(i))
	case opMemoize:
		return u.memoPut(len(u.memo))

	case opGlobal:
		mod, err := u.readLine()
		if err != nil {
			return err
		}
		name, err := u.readLine()
		if err != nil {
			return err
		}
		g, err := resolveGlobal(string(mod), string(name))
		if err != nil {
			return err
		}
		u.push(g)
	case opStackGlobal:
		mn, err := u.popN(2)
		if err != nil {
			return err
		}
		mod, ok1 := mn[0].(string)
		name, ok2 := mn[1].(string)
		if !ok1 || !ok2 {
			return errors.New("STACK_GLOBAL needs two strings")
		}
		g, err := resolveGlobal(mod, name)
		if err != nil {
			return err
		}
		u.push(g)

	case opReduce, opNewObj:
		fa, err := u.popN(2)
		if err != nil {
			return err
		}
		args, ok := fa[1].(Tuple)
		if !ok {
			return fmt.Errorf("call arguments are %s, not a tuple", typeName(fa[1]))
		}
		v, err := call(fa[0], args)
		if err != nil {
			return err
		}
		u.push(v)
	case opNewObjEx:
		fak, err := u.popN(3)
		if err != nil {
			return err
		}
		args, ok := fak[1].(Tuple)
		if !ok {
			return fmt.Errorf("NEWOBJ_EX arguments are %s, not a tuple", typeName(fak[1]))
		}
		if kw, ok := fak[2].(*Dict); !ok || kw.Len() > 0 {
			return errors.New("NEWOBJ_EX with keyword arguments is not supported")
		}
		v, err := call(fak[0], args)
		if err != nil {
			return err
		}
		u.push(v)
	case opBuild:
		state, err := u.pop()
		if err != nil {
			return err
		}
		t, err := u.top()
		if err != nil {
			return err
		}
		return build(t, state)

	case opBinPersID:
		pid, err := u.pop()
		if err != nil {
			return err
		}
		return u.persistent(pid)
	case opPersID:
		line, err := u.readLine()
		if err != nil {
			return err
		}
		return u.persistent(string(line))

	case opInst, opObj:
		return errors.New("INST/OBJ (protocol 0 class instances) are not supported")
	case opExt1, opExt2, opExt4:
		return errors.New("extension registry opcodes (EXT1/2/4) are not supported")
	default:
		return errors.New("unknown opcode")
	}
	return nil
}

func (u *unpickler) persistent(pid any) error {
	if u.persistentLoad == nil {
		return errors.New("persistent id without a loader")
	}
	v, err := u.persistentLoad(pid)
	if err != nil {
		return err
	}
	u.push(v)
	return nil
}

// pushCounted handles the length-prefixed string and bytes opcodes.
func (u *unpickler) pushCounted(op byte) error {
	width := 4
	switch op {
	case opShortBinString, opShortBinUnicode, opShortBinBytes:
		width = 1
	case opBinUnicode8, opBinBytes8, opByteArray8:
		width = 8
	}
	n, err := u.readUint(width)
	if err != nil {
		return err
	}
	if op == opBinString && int32(uint32(n)) < 0 {
		return errors.New("BINSTRING with negative length")
	}
	b, err := u.read(n)
	if err != nil {
		return err
	}
	switch op {
	case opBinString, opShortBinString:
		u.push(string(b)) // Python 2 str: raw bytes, as torch.load's default encoding gives
	case opBinUnicode, opShortBinUnicode, opBinUnicode8:
		if !utf8.Valid(b) {
			return errors.New("invalid UTF-8 in unicode string")
		}
		u.push(string(b))
	default:
		u.push(append([]byte{}, b...))
	}
	return nil
}

func (u *unpickler) pushIntText(s []byte) error {
	if n, err := strconv.ParseInt(string(s), 10, 64); err == nil {
		u.push(n)
		return nil
	}
	var b big.Int
	if _, ok := b.SetString(string(s), 10); ok {
		return fmt.Errorf("integer %s does not fit in int64", s)
	}
	return fmt.Errorf("bad integer %q", s)
}

func (u *unpickler) extendTop(items []any) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	switch l := t.(type) {
	case *pyList:
		l.items = append(l.items, items...)
	case *pySet:
		l.items = append(l.items, items...)
	default:
		return fmt.Errorf("APPEND to %s", typeName(t))
	}
	return nil
}

func (u *unpickler) setItemsTop(items []any) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	d, ok := t.(*Dict)
	if !ok {
		return fmt.Errorf("SETITEM on %s", typeName(t))
	}
	return setItems(d, items)
}

func setItems(d *Dict, items []any) error {
	if len(items)%2 != 0 {
		return errors.New("odd number of items for a dict")
	}
	for i := 0; i < len(items); i += 2 {
		switch items[i].(type) {
		case *pyList, *pySet, *Dict:
			return fmt.Errorf("unhashable dict key of type %s", typeName(items[i]))
		}
		d.Set(items[i], items[i+1])
	}
	return nil
}
