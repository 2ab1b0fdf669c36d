// Package interrupt is how every long ludvae command stops on a signal.
//
// Context returns a context that SIGINT, SIGTERM or SIGHUP cancels; the
// command's long phases (a store build, the rendezvous of a distributed
// job, training, synthesis, a merge, prepare's copy) poll it and stop
// within moments, saving what the command's documentation promises (a
// checkpoint of the steps done, a truthful manifest). main then exits with
// ExitCode (130, the shells' code for Ctrl-C) whichever of the three
// signals it was. A second signal exits at once, with ExitCode, without
// waiting for the save.
//
// SIGHUP is handled only when it was not ignored when the process started:
// under nohup (which ignores it) a closed terminal still leaves the
// command running, as nohup promises (a library that installs a SIGHUP
// handler as it loads, as Debian 13's libtorch does through UCX, cannot
// undo that: torchbind/signals.c). SIGINT is always handled, even when
// a non-interactive shell started the command in the background with
// SIGINT ignored: an explicit `kill -INT` then still stops it cleanly.
//
// Only a command that polls the context calls Context: installing the
// handler turns off the signals' default action (ending the process), so a
// command that never looks at the context would ignore them.
//
// Work that cannot poll in time (a training step inside libtorch, which
// takes seconds for a large model on the CPU) may, under Context alone
// (Ends), save what it promises from another goroutine and end the process
// itself with Exit, which says what main would have said.
package interrupt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ExitCode is the exit status of a command stopped by a signal.
const ExitCode = 130

var (
	once   sync.Once
	ctx    context.Context
	mu     sync.Mutex
	caught os.Signal
)

// Signals are the signals Context handles in this process: SIGINT,
// SIGTERM, and SIGHUP unless it was ignored at start (nohup).
func Signals() []os.Signal {
	sigs := []os.Signal{syscall.SIGINT, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}

// Context returns the process's interrupt context, installing the signal
// handler on the first call. The first signal cancels it; the second ends
// the process at once with ExitCode.
func Context() context.Context {
	once.Do(func() {
		sigs := Signals() // before Notify, which un-ignores SIGHUP
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, sigs...)
		c, cancel := context.WithCancel(context.WithValue(context.Background(), endsKey{}, true))
		ctx = c
		go func() {
			s := <-ch
			mu.Lock()
			caught = s
			mu.Unlock()
			cancel()
			s = <-ch
			fmt.Fprintf(os.Stderr, "\nludvae: second signal (%v): exiting at once\n", s)
			os.Exit(ExitCode)
		}()
	})
	return ctx
}

// endsKey marks the process's interrupt context (Ends).
type endsKey struct{}

// Ends reports whether ctx is the process's interrupt context, or made from
// it: work under it that cannot stop within moments may end the process
// with Exit once it has saved what it promises. A context of a test or of
// a library caller is not: its work always returns.
func Ends(ctx context.Context) bool {
	v, _ := ctx.Value(endsKey{}).(bool)
	return v
}

// Exit ends the process as a command stopped by a signal ends: err on
// standard error after "ludvae <command>: " ("interrupted by SIGTERM" for
// the context's own error), then ExitCode. main calls it when a command
// returns after a signal; work that cannot return in time calls it itself.
func Exit(err error) {
	if sig := Caught(); sig != nil && errors.Is(err, context.Canceled) {
		err = fmt.Errorf("interrupted by %s", Name(sig))
	}
	cmd := "ludvae"
	if len(os.Args) > 1 {
		cmd += " " + os.Args[1]
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", cmd, err)
	os.Exit(ExitCode)
}

// Caught returns the signal that cancelled Context, or nil.
func Caught() os.Signal {
	mu.Lock()
	defer mu.Unlock()
	return caught
}

// Name is a signal's name as kill(1) spells it ("SIGINT").
func Name(s os.Signal) string {
	if n, ok := s.(syscall.Signal); ok {
		if name := unix.SignalName(n); name != "" {
			return name
		}
	}
	return s.String()
}
