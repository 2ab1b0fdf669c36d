// Package torchbind is ludvae's binding to libtorch: tensors, autograd, the
// Adam optimizer, serialization in PyTorch's zip format, TorchScript modules
// and the fused kernels of the LUD-VAE method.
//
// Go sees only the C header shim/ludvae.h; the shim (bin/libludvae_shim.so,
// built by `make shim`) is compiled against whatever libtorch is present, CPU
// or CUDA, so the same Go binary runs against either.
//
// # Errors
//
// Tensor operations panic with a *Error carrying libtorch's message, so that
// model code reads like the mathematics. Every public entry point of ludvae
// (a training step, Translate, Load, Save) runs its body under Try, which turns
// such a panic back into an ordinary error, or under Do when the body also
// calls functions that return errors: those are returned as they are, never
// re-raised as panics, so errors.Is and errors.As see their causes.
//
// # Runtime
//
// A Runtime owns libtorch's state for one piece of work: an OS thread of its
// own on which Do runs the work, with the thread count, precision and cuDNN
// benchmark mode it applies when it starts and restores when it closes. The
// commands create one each; code that runs outside one (tests, small tools)
// works as well, on whatever thread its goroutine has.
//
// # Memory
//
// libtorch memory is invisible to Go's garbage collector. Tensors are released
// deterministically: either explicitly with Close, or all at once by closing
// the Scope they were created in. Scopes stack per OS thread, so a scope takes
// only the tensors its own goroutine makes. Finalizers only catch what was
// forgotten.
package torchbind

// Go's build cache keys this package by its own directory's files, so it
// does not see a change to shim/ludvae.h alone: a change to the header
// (its op codes above all) comes with a change to the Go files that use it.

// #cgo CFLAGS: -I${SRCDIR}/shim
// #cgo LDFLAGS: -L${SRCDIR}/../bin -lludvae_shim -Wl,-rpath,${SRCDIR}/../bin
// #include "ludvae.h"
import "C"
