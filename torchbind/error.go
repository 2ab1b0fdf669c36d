package torchbind

// #include <stdlib.h>
// #include "ludvae.h"
import "C"

import (
	"errors"
	"fmt"
)

// Error is an exception raised inside libtorch (or a misuse detected by the
// binding), carrying libtorch's message. Code that panics with an Error
// because of a Go error it met keeps that error as Err, so errors.Is and
// errors.As see through it (Unwrap).
type Error struct {
	Op  string // the binding function that failed
	Msg string // libtorch's message, or the binding's
	Err error  // the cause, if the failure is a Go error
}

func (e *Error) Error() string {
	msg := e.Msg
	if e.Err != nil {
		if msg != "" {
			msg += ": "
		}
		msg += e.Err.Error()
	}
	if e.Op == "" {
		return "torch: " + msg
	}
	return "torch: " + e.Op + ": " + msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

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

// Do runs f as Try does and returns f's own error when nothing panicked:
// the body of an entry point that both calls operations, which panic with
// *Error, and functions that return errors, which it returns as they are
// (never re-raised as panics, so their chain of causes stays whole).
func Do(f func() error) (err error) {
	if perr := Try(func() { err = f() }); perr != nil {
		return perr
	}
	return err
}

// IsError reports whether err is (or wraps) a libtorch error.
func IsError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
