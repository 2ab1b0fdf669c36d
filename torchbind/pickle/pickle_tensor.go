package pickle

import (
	"fmt"
)

// How the pickler writes tensors and storages, exactly as torch.save does.

// storageKey returns the archive key of s, assigning "0", "1", ... in
// first-seen order.
func (p *pickler) storageKey(s *Storage) string {
	if k, ok := p.storageKeys[s]; ok {
		return k
	}
	k := fmt.Sprint(len(p.storages))
	p.storageKeys[s] = k
	p.storages = append(p.storages, s)
	return k
}

// saveTensor writes t exactly as torch.save does:
//
//	torch._utils._rebuild_tensor_v2(
//	    persistent_id(('storage', torch.<X>Storage, key, location, numel)),
//	    offset, size, stride, requires_grad, collections.OrderedDict())
func (p *pickler) saveTensor(t *Tensor) error {
	if p.fromMemo(t) {
		return nil
	}
	if err := t.Validate(); err != nil {
		return fmt.Errorf("tensor: %w", err)
	}
	s := t.Storage
	p.saveGlobal("torch._utils", "_rebuild_tensor_v2")
	p.op(opMark)
	if err := p.persistentID(s); err != nil {
		return err
	}
	p.saveInt(t.Offset)
	p.saveInts(t.Shape)
	p.saveInts(t.strides())
	if err := p.save(t.RequiresGrad, 0); err != nil {
		return err
	}
	// backward_hooks: an empty OrderedDict.
	p.saveGlobal("collections", "OrderedDict")
	p.op(opEmptyTuple, opReduce)
	p.memoize(nil)
	p.op(opTuple)
	p.memoize(nil)
	p.op(opReduce)
	p.memoize(t)
	return nil
}

// saveStorage writes a bare storage (torch.save of tensor.storage()): just
// its persistent id.
func (p *pickler) saveStorage(s *Storage) error {
	if !s.DType.Valid() {
		return fmt.Errorf("storage: invalid dtype %d", int(s.DType))
	}
	if len(s.Data)%s.DType.Size() != 0 {
		return fmt.Errorf("%s storage of %d bytes is not a whole number of elements", s.DType, len(s.Data))
	}
	return p.persistentID(s)
}

// persistentID writes BINPERSID of ('storage', torch.<X>Storage, key,
// location, numel), assigning s its record key.
func (p *pickler) persistentID(s *Storage) error {
	loc := s.Device
	if loc == "" {
		loc = "cpu"
	}
	p.op(opMark)
	if err := p.saveString(persistentStorageID); err != nil {
		return err
	}
	p.saveGlobal(moduleTorch, s.DType.StorageClass())
	if err := p.saveString(p.storageKey(s)); err != nil {
		return err
	}
	if err := p.saveString(loc); err != nil {
		return fmt.Errorf("storage device: %w", err)
	}
	p.saveInt(s.NumEl())
	p.op(opTuple)
	p.memoize(nil)
	p.op(opBinPersID)
	return nil
}

// saveInts writes a fresh tuple of ints.
func (p *pickler) saveInts(xs []int64) {
	if len(xs) == 0 {
		p.op(opEmptyTuple)
		return
	}
	if len(xs) > 3 {
		p.op(opMark)
	}
	for _, x := range xs {
		p.saveInt(x)
	}
	if len(xs) > 3 {
		p.op(opTuple)
	} else {
		p.op(opTuple1 + byte(len(xs)-1))
	}
	p.memoize(nil)
}
