package torchbind

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
)

const signalsHelperEnv = "LUDVAE_SIGNALS_HELPER"

// TestIgnoredSignalsHelper is the process TestIgnoredSignalsStayIgnored
// starts: it prints whether Go sees SIGHUP and SIGINT ignored.
func TestIgnoredSignalsHelper(t *testing.T) {
	if os.Getenv(signalsHelperEnv) != "1" {
		return
	}
	NumThreads() // libtorch is loaded and used
	fmt.Printf("SIGHUP ignored %v, SIGINT ignored %v\n", signal.Ignored(syscall.SIGHUP), signal.Ignored(syscall.SIGINT))
}

// TestIgnoredSignalsStayIgnored: a process linked with libtorch that is
// started with SIGHUP and SIGINT ignored (env --ignore-signal, as nohup
// ignores SIGHUP) sees them ignored, and one started without sees them
// not ignored. Debian 13's libtorch 2.6 loads UCX, which installs its own
// SIGHUP handler (signals.c).
func TestIgnoredSignalsStayIgnored(t *testing.T) {
	env, err := exec.LookPath("env")
	if err != nil {
		t.Fatal("env (coreutils) not found")
	}
	for _, c := range []struct {
		ignore []string
		want   string
	}{
		{[]string{"--ignore-signal=HUP", "--ignore-signal=INT"}, "SIGHUP ignored true, SIGINT ignored true"},
		{[]string{"--ignore-signal=HUP"}, "SIGHUP ignored true, SIGINT ignored false"},
		{[]string{"--default-signal=HUP", "--default-signal=INT"}, "SIGHUP ignored false, SIGINT ignored false"},
	} {
		cmd := testkit.Subprocess("TestIgnoredSignalsHelper", signalsHelperEnv+"=1")
		cmd.Args = append(append([]string{env}, c.ignore...), cmd.Args...)
		cmd.Path = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("env %v: %v\n%s", c.ignore, err, out)
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("env %v: want %q, got:\n%s", c.ignore, c.want, out)
		}
	}
}
