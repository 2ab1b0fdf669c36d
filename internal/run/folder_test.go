package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
)

// testFiles names a test trainer's checkpoints.
var testFiles = CheckpointFiles{Pattern: "t_%08d.pth", NotCheckpoint: errors.New("not a test checkpoint")}

// TestOpenRefusesSecondTrainer: while another process holds a run folder
// (a real one, started for the test), Open is refused with ErrRunLocked
// naming that process's PID and --out, before it touches the folder; a
// second Open in this process is refused naming ours; SIGKILL of the holder
// leaves no stale lock.
func TestOpenRefusesSecondTrainer(t *testing.T) {
	dir := t.TempDir()
	leftover := filepath.Join(dir, ".config.json.tmp-77")
	cmd := testkit.StartHolder(t, "TestHolderProcess", "locked", "LUDVAE_TEST_RUN_DIR="+dir)
	// the holder's file in flight, which a refused start must not remove
	if err := os.WriteFile(leftover, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, testFiles, io.Discard)
	if !testkit.Refused(t, err, ErrRunLocked, fmt.Sprintf("PID %d", cmd.Process.Pid), "--out "+dir) {
		t.FailNow()
	}
	if _, err := os.Stat(leftover); err != nil {
		t.Errorf("a refused Open touched the holder's files: %v", err)
	}
	cmd.Process.Kill() // SIGKILL: no deferred unlock runs
	cmd.Wait()
	var log strings.Builder
	f, err := Open(dir, testFiles, &log)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	defer f.Close()
	if _, err := os.Stat(leftover); !os.IsNotExist(err) || !strings.Contains(log.String(), "removed 1 temporary file(s)") {
		t.Errorf("the killed holder's temporary file: %v; log %q", err, log.String())
	}
	_, err = Open(dir, testFiles, io.Discard)
	testkit.Refused(t, err, ErrRunLocked, fmt.Sprintf("PID %d", os.Getpid()))
	f.Close()
	f.Close() // harmless
	again, err := Open(dir, testFiles, io.Discard)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	again.Close()
	j, err := Join(dir, testFiles)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
}

// TestHolderProcess is TestOpenRefusesSecondTrainer's other process: it
// holds the folder until killed. Run on its own it does nothing.
func TestHolderProcess(t *testing.T) {
	dir := os.Getenv("LUDVAE_TEST_RUN_DIR")
	if dir == "" {
		return
	}
	_, err := Open(dir, testFiles, io.Discard)
	testkit.Hold("locked", err)
}

// TestOpenRemovesLeftovers: the temporary files a killed trainer left in
// the folder and its subfolders, in every spelling ludvae has used, are
// removed and listed; other files stay.
func TestOpenRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	leftovers := []string{".t_00000006.pth.tmp-123456", ".ckpt_00000006.pth.tmp-9", ".config.json.tmp987", ".loss.png.tmp55",
		filepath.Join("samples", ".step_00000006.png.tmp1")}
	kept := []string{"notes.txt", ".hidden", "t_00000006.pth", filepath.Join("samples", "step_00000006.png")}
	for _, f := range append(slices.Clone(leftovers), kept...) {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var log strings.Builder
	f, err := Open(dir, testFiles, &log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, n := range leftovers {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s survived (%v)", n, err)
		}
		if !strings.Contains(log.String(), filepath.Base(n)) {
			t.Errorf("the log does not list %s: %s", n, log.String())
		}
	}
	for _, n := range kept {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed: %v", n, err)
		}
	}
	if !strings.Contains(log.String(), fmt.Sprintf("removed %d temporary file(s)", len(leftovers))) {
		t.Errorf("log: %s", log.String())
	}
	if ck, err := f.Newest(); err != nil || ck != filepath.Join(dir, "t_00000006.pth") {
		t.Errorf("Newest: %q, %v", ck, err)
	}
}

// testConfig stands for a trainer's configuration.
type testConfig struct {
	Data     string  `json:"data"`
	LR       float64 `json:"lr"`
	Steps    int     `json:"steps"`
	Override bool    `json:"-"`
}

// TestWriteConfig: config.json is the configuration as encoding/json
// writes a struct that embeds it beside an "overrides" field (byte for
// byte, so the format of earlier versions stays); a resumed run keeps the
// recorded overrides and adds its own, a new run starts without history.
func TestWriteConfig(t *testing.T) {
	f, err := Open(t.TempDir(), testFiles, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type record struct {
		testConfig
		Overrides []Override `json:"overrides,omitempty"`
	}
	want := func(r record) string {
		b, _ := json.MarshalIndent(r, "", "  ")
		return string(b) + "\n"
	}
	got := func() string {
		b, err := os.ReadFile(f.Path(ConfigName))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	c := testConfig{Data: "d", LR: 1e-4, Steps: 3, Override: true}
	o1 := Override{Step: 3, Flag: "--lr", Old: "0.0001", New: "0.002"}
	o2 := Override{Step: 5, Flag: "--data", Old: "d", New: "e"}
	steps := []struct {
		resumed bool
		added   []Override
		want    record
	}{
		{false, nil, record{testConfig: c}},
		{true, []Override{o1}, record{c, []Override{o1}}},
		{true, nil, record{c, []Override{o1}}},
		{true, []Override{o2}, record{c, []Override{o1, o2}}},
		{false, nil, record{testConfig: c}},
	}
	for i, s := range steps {
		if err := f.WriteConfig(c, s.resumed, s.added); err != nil {
			t.Fatal(err)
		}
		if g, w := got(), want(s.want); g != w {
			t.Errorf("start %d: config.json\n%s\nwant\n%s", i, g, w)
		}
	}
	if err := f.WriteConfig([]int{1}, false, nil); err == nil {
		t.Error("a configuration that is not a JSON object was written")
	}
}

// TestAccept: a changed setting is refused with ErrChangedRun naming --out,
// the checkpoint's step and each flag with its old and new value; two
// spellings of one path are no change; --override accepts the changes,
// prints them and returns them for config.json.
func TestAccept(t *testing.T) {
	dir := t.TempDir()
	f, err := Open(filepath.Join(dir, "run"), testFiles, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	settings := []Setting[testConfig]{
		{Flag: "--data", Get: func(c *testConfig) string { return c.Data }, Path: true},
		{Flag: "--lr", Get: func(c *testConfig) string { return fmt.Sprint(c.LR) }},
	}
	wd, _ := os.Getwd()
	saved := testConfig{Data: "photos", LR: 1e-4, Steps: 3}
	same := testConfig{Data: filepath.Join(wd, "photos"), LR: 1e-4, Steps: 9}
	if ch := Changes(settings, &saved, &same, 3); len(ch) != 0 {
		t.Errorf("another spelling of the same folder and other steps: changes %+v", ch)
	}
	if acc, err := f.Accept(3, nil, false, io.Discard); acc != nil || err != nil {
		t.Errorf("no change: %v, %v", acc, err)
	}
	now := testConfig{Data: "other", LR: 2e-3}
	ch := Changes(settings, &saved, &now, 3)
	wantCh := []Override{{3, "--data", "photos", "other"}, {3, "--lr", "0.0001", "0.002"}}
	if !slices.Equal(ch, wantCh) {
		t.Fatalf("changes %+v, want %+v", ch, wantCh)
	}
	_, err = f.Accept(3, ch, false, io.Discard)
	for _, w := range []string{"--out " + f.Dir, "step 3", "--data photos in the run, other in this command", "--lr 0.0001 in the run, 0.002 in this command", "--override"} {
		if !errors.Is(err, ErrChangedRun) || !strings.Contains(err.Error(), w) {
			t.Errorf("refusal %v lacks %q", err, w)
		}
	}
	var log strings.Builder
	acc, err := f.Accept(3, ch, true, &log)
	if err != nil || !slices.Equal(acc, ch) {
		t.Errorf("--override: %+v, %v", acc, err)
	}
	if !strings.Contains(log.String(), "--lr 0.0001 in the run, 0.002 in this command") {
		t.Errorf("--override's log: %q", log.String())
	}
}

// TestOpenLog: log.csv starts with its header; reopened for a resume at
// step 2 it keeps the rows of steps 1 and 2, drops the later ones (which
// the run repeats) and appends after them.
func TestOpenLog(t *testing.T) {
	f, err := Open(t.TempDir(), testFiles, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	header := []string{"step", "loss", "steps_per_s", "time"}
	l, kept, err := f.OpenLog(header, 0)
	if err != nil || len(kept) != 0 {
		t.Fatalf("new log: kept %v, %v", kept, err)
	}
	for s := 1; s <= 3; s++ {
		if err := l.Write(s, []float64{1.0 / float64(s)}, 2); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	l, kept, err = f.OpenLog(header, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || kept[0][1] != "1" || kept[1][1] != "0.5" {
		t.Errorf("kept %v, want the rows of steps 1 and 2", kept)
	}
	if err := l.Write(3, []float64{0.25}, 2); err != nil {
		t.Fatal(err)
	}
	l.Close()
	b, err := os.ReadFile(f.Path(LogName))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		c := strings.Split(line, ",")
		got = append(got, c[0]+":"+c[1])
	}
	if want := []string{"step:loss", "1:1", "2:0.5", "3:0.25"}; !slices.Equal(got, want) {
		t.Errorf("log.csv %v, want %v", got, want)
	}
}

// TestAbandon: a start refused before it trains leaves nothing it made: a
// folder Open made goes with its lock, log and config.json; an existing
// folder keeps its config.json as Open found it (and a folder without one
// stays without).
func TestAbandon(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	f, err := Open(dir, testFiles, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.WriteConfig(testConfig{Data: "a"}, false, nil); err != nil {
		t.Fatal(err)
	}
	l, _, err := f.OpenLog([]string{"step"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	f.Abandon()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		ents, _ := os.ReadDir(dir)
		t.Fatalf("the abandoned new folder is still there: %v (%v)", ents, err)
	}

	// An existing run: its record survives a refused start that rewrote it.
	f, err = Open(dir, testFiles, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.WriteConfig(testConfig{Data: "a"}, false, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before, _ := os.ReadFile(filepath.Join(dir, ConfigName))
	f, err = Open(dir, testFiles, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.WriteConfig(testConfig{Data: "b"}, true, nil); err != nil {
		t.Fatal(err)
	}
	f.Abandon()
	f.Abandon() // harmless
	if after, _ := os.ReadFile(filepath.Join(dir, ConfigName)); string(after) != string(before) {
		t.Errorf("config.json after the abandoned start:\n%s\nwant\n%s", after, before)
	}
	// A folder that had no record keeps none; the folder itself stays.
	os.Remove(filepath.Join(dir, ConfigName))
	f, err = Open(dir, testFiles, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteConfig(testConfig{Data: "c"}, false, nil)
	f.Abandon()
	if _, err := os.Stat(filepath.Join(dir, ConfigName)); !os.IsNotExist(err) {
		t.Errorf("config.json after an abandoned start in a folder without one: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("an existing folder was removed: %v", err)
	}
}
