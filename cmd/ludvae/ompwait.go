package main

import (
	"os"
	"syscall"
	"testing"
)

// passiveWaitCommands run their model beside goroutines that decode and
// encode images: OpenMP threads that spin while they wait for work take
// the cores those need, and on a shared machine spin against other jobs.
var passiveWaitCommands = map[string]bool{"synth": true}

// ompPassive starts the command again in this process with
// OMP_WAIT_POLICY=PASSIVE when it is one of passiveWaitCommands and the
// environment sets no wait policy: libgomp reads it only when it loads,
// before main runs, so it cannot be set from here. A synthesis of 2K photos
// by a small model ran 1.6–1.8 times as fast with it on a shared 2-core
// machine (docs/performance.md). OMP_WAIT_POLICY=ACTIVE keeps spinning.
// It returns only if the command is not one of them, the policy is set,
// this is a test binary (whose arguments are not ludvae's), or the exec
// failed (the command then runs as it is).
func ompPassive(args []string) {
	if len(args) < 2 || !passiveWaitCommands[args[1]] || testing.Testing() {
		return
	}
	if _, set := os.LookupEnv("OMP_WAIT_POLICY"); set {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), "OMP_WAIT_POLICY=PASSIVE")
	_ = syscall.Exec(exe, args, env) // returns only on failure
}
