// Package tbtest holds what tests share that needs torchbind, which
// testkit (standard library only, for the tests of every package,
// torchbind's among them) cannot import.
package tbtest

import (
	"testing"

	tb "github.com/ludvae/ludvae/torchbind"
)

// Runtime is a runtime of the settings that settings returns (a trainer
// configuration's RuntimeSettings), closed when the test ends; an error
// fails the test.
func Runtime(t testing.TB, settings func() (tb.Settings, error)) *tb.Runtime {
	t.Helper()
	s, err := settings()
	if err != nil {
		t.Fatal(err)
	}
	rt, err := tb.NewRuntime(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	return rt
}
