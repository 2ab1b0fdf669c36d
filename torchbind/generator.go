package torchbind

// #include "ludvae.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// Generator is a seeded libtorch random-number generator (Philox on CUDA,
// mt19937 on the CPU). Its state can be saved and restored, which is how a
// resumed training run draws the same numbers as an uninterrupted one.
type Generator struct {
	h handle
}

// NewGenerator returns a generator for device d seeded with seed.
func NewGenerator(seed uint64, d Device) *Generator {
	var out C.lv_generator
	check("generator", C.lv_generator_new(C.uint64_t(seed), C.int(d.Type), C.int(d.Index), &out))
	g := &Generator{}
	g.h.store(unsafe.Pointer(out))
	runtime.SetFinalizer(g, (*Generator).Close)
	return g
}

func (g *Generator) ptr() C.lv_generator {
	if g == nil {
		return nil
	}
	h := g.h.load()
	if h == nil {
		fail("generator", "use of a closed generator")
	}
	return C.lv_generator(h)
}

func keepAlive(g *Generator) { runtime.KeepAlive(g) }

// Close frees the generator; it is idempotent.
func (g *Generator) Close() {
	if g == nil {
		return
	}
	if h := g.h.swap(nil); h != nil {
		C.lv_generator_free(C.lv_generator(h))
	}
}
