package torchbind

import (
	"sync/atomic"
	"unsafe"
)

// handle holds a shim pointer that Close and a finalizer may race to free:
// swap hands it to exactly one of them.
type handle struct{ p unsafe.Pointer }

func (h *handle) load() unsafe.Pointer                 { return atomic.LoadPointer(&h.p) }
func (h *handle) store(p unsafe.Pointer)               { atomic.StorePointer(&h.p, p) }
func (h *handle) swap(p unsafe.Pointer) unsafe.Pointer { return atomic.SwapPointer(&h.p, p) }
