package torchbind

// #include <stdlib.h>
// #include "ludvae.h"
import "C"

import (
	"errors"
	"fmt"
)

// Error is an exception raised inside libtorch (or a misuse detected by the
// binding), carrying libtorch's message.
type Error struct {
	Op  string // the binding function that failed
	Msg string
}

func (e *Error) Error() string {
	if e.Op == "" {
		return "torch: " + e.Msg
	}
	return "torch: " + e.Op + ": " + e.Msg
}

// check panics with an *Error when a shim call failed, freeing the message.
func check(op string, e C.lv_err) {
	if e == nil {
		return
	}
	msg := C.GoString(e)
	C.lv_err_free(e)
	panic(&Error{Op: op, Msg: msg})
}

// fail panics with an *Error for a misuse caught on the Go side.
func fail(op, format string, args ...any) {
	panic(&Error{Op: op, Msg: fmt.Sprintf(format, args...)})
}

// Try runs f and returns the *Error that an operation inside it panicked
// with, or nil. Other panics propagate unchanged: they are bugs.
func Try(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*Error); ok {
				err = e
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}

// IsError reports whether err is (or wraps) a libtorch error.
func IsError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
