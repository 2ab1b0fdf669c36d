package torchbind

// #include <stdlib.h>
// #include "ludvae.h"
import "C"

import (
	"runtime"
	"unsafe"

	"github.com/ludvae/ludvae/internal/pathguard"
)

// ScriptModule is a TorchScript module: built from Go (parameters, buffers,
// submodules, methods from TorchScript source) and saved for Python's
// torch.jit.load, or loaded from a file.
type ScriptModule struct {
	h handle
}

// NewScriptModule returns an empty module whose class is qualifiedName
// (for example "__torch__.ludvae.Generator").
func NewScriptModule(qualifiedName string) *ScriptModule {
	cs := C.CString(qualifiedName)
	defer C.free(unsafe.Pointer(cs))
	var out C.lv_jit
	check("script module", C.lv_jit_new(cs, &out))
	return newScript(out)
}

// LoadScriptModule reads a module saved by torch.jit.save or Save onto d.
// The file is checked to be a regular file first (libtorch would wait in
// open(2) on a named pipe).
func LoadScriptModule(path string, d Device) (m *ScriptModule, err error) {
	f, err := pathguard.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	f.Close()
	err = Try(func() {
		cs := C.CString(path)
		defer C.free(unsafe.Pointer(cs))
		var out C.lv_jit
		check("load script module", C.lv_jit_load(cs, C.int(d.Type), C.int(d.Index), &out))
		m = newScript(out)
	})
	return m, err
}

func newScript(h C.lv_jit) *ScriptModule {
	m := &ScriptModule{}
	m.h.store(unsafe.Pointer(h))
	runtime.SetFinalizer(m, (*ScriptModule).Close)
	return m
}

func (m *ScriptModule) ptr() C.lv_jit {
	h := m.h.load()
	if h == nil {
		fail("script module", "use of a closed module")
	}
	return C.lv_jit(h)
}

// Close frees the module; it is idempotent.
func (m *ScriptModule) Close() {
	if h := m.h.swap(nil); h != nil {
		C.lv_jit_free(C.lv_jit(h))
	}
}

// RegisterParameter adds a parameter (a detached copy of t's handle) named name.
func (m *ScriptModule) RegisterParameter(name string, t *Tensor) { m.register(name, t, true) }

// RegisterBuffer adds a buffer named name.
func (m *ScriptModule) RegisterBuffer(name string, t *Tensor) { m.register(name, t, false) }

func (m *ScriptModule) register(name string, t *Tensor, param bool) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	check("register "+name, C.lv_jit_register(m.ptr(), cs, t.ptr(), cbool(param)))
	runtime.KeepAlive(m)
	runtime.KeepAlive(t)
}

// Define compiles TorchScript source (one or more `def` methods taking self).
func (m *ScriptModule) Define(source string) {
	cs := C.CString(source)
	defer C.free(unsafe.Pointer(cs))
	check("define", C.lv_jit_define(m.ptr(), cs))
	runtime.KeepAlive(m)
}

// Save writes the module for torch.jit.load.
func (m *ScriptModule) Save(path string) error {
	return Try(func() {
		cs := C.CString(path)
		defer C.free(unsafe.Pointer(cs))
		check("save "+path, C.lv_jit_save(m.ptr(), cs))
		runtime.KeepAlive(m)
	})
}

// Call runs a method with the tensors and then the floats as positional
// arguments; the method must return a Tensor.
func (m *ScriptModule) Call(method string, tensors []*Tensor, floats ...float64) *Tensor {
	cs := C.CString(method)
	defer C.free(unsafe.Pointer(cs))
	hs := handles(tensors)
	var hp *C.lv_tensor
	if len(hs) > 0 {
		hp = &hs[0]
	}
	var dp *C.double
	if len(floats) > 0 {
		dp = (*C.double)(unsafe.Pointer(&floats[0]))
	}
	var out C.lv_tensor
	check("call "+method, C.lv_jit_call(m.ptr(), cs, hp, C.int(len(hs)), dp, C.int(len(floats)), &out))
	runtime.KeepAlive(m)
	runtime.KeepAlive(tensors)
	return wrap(out)
}
