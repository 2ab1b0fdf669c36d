package layout

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Layout{"auto": Auto, "NCHW": NCHW, "nhwc": NHWC, "channels-last": NHWC, "blocked": Blocked} {
		if got, err := Parse("--layout", in); err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Parse("--layout", "nwhc"); err == nil || !strings.Contains(err.Error(), `--layout "nwhc"`) {
		t.Errorf("Parse(nwhc) error %v, want one naming --layout and the value", err)
	}
}

// clock is the time the timings read in these tests (now): only a
// sleeper moves it, so what is chosen does not depend on how busy the
// machine is (real sleeps of 10 ms took over 60 ms under load).
var clock atomic.Int64

func init() { now = func() time.Time { return time.Unix(0, clock.Load()) } }

// sleeper times each layout as if it slept: NCHW takes nchw, NHWC nhwc.
func sleeper(nchw, nhwc time.Duration, calls map[Layout]int) Timer {
	return func(l Layout) error {
		calls[l]++
		if l == NCHW {
			clock.Add(int64(nchw))
		} else {
			clock.Add(int64(nhwc))
		}
		return nil
	}
}

// TestParseDense: commands whose networks run only in NCHW or NHWC refuse
// blocked, naming the flag and what they accept, and parse the rest as
// Parse does.
func TestParseDense(t *testing.T) {
	for in, want := range map[string]Layout{"": Auto, "auto": Auto, "NCHW": NCHW, "channels-last": NHWC} {
		if got, err := ParseDense("--layout", in); err != nil || got != want {
			t.Errorf("ParseDense(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseDense("--layout", "blocked"); err == nil || !strings.Contains(err.Error(), "--layout blocked") || !strings.Contains(err.Error(), "auto, nchw or nhwc") {
		t.Errorf("ParseDense(blocked) = %v", err)
	}
	if _, err := ParseDense("--layout", "nwhc"); err == nil || !strings.Contains(err.Error(), `--layout "nwhc"`) {
		t.Errorf("ParseDense(nwhc) = %v, want Parse's error", err)
	}
}

// TestChooseAmongCandidates: with Blocked among the candidates, Auto times
// all three and keeps the fastest, each timing in the choice and the log;
// a cached choice of two layouts, taken before blocked was a candidate, is
// timed again; forcing a layout that is not a candidate is refused.
func TestChooseAmongCandidates(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "layout.json")
	key := Key{CPU: "Test CPU", Task: "train", Shape: "f8"}
	three := []Layout{NCHW, NHWC, Blocked}
	costs := map[Layout]time.Duration{NCHW: 30 * time.Millisecond, NHWC: 40 * time.Millisecond, Blocked: 20 * time.Millisecond}
	calls := map[Layout]int{}
	run := func(l Layout) error { calls[l]++; clock.Add(int64(costs[l])); return nil }
	// a choice cached from the two dense layouts only
	old, err := Choose(Auto, key, Options{Cache: cache}, run)
	if err != nil || old.Layout != NCHW || old.BlockedMs != 0 || calls[Blocked] != 0 {
		t.Fatalf("two candidates: %+v, %v, calls %v", old, err, calls)
	}
	calls = map[Layout]int{}
	c, err := Choose(Auto, key, Options{Cache: cache, Candidates: three}, run)
	if err != nil || c.Layout != Blocked || c.Cached || calls[NCHW] != 3 || calls[NHWC] != 3 || calls[Blocked] != 3 {
		t.Fatalf("three candidates: %+v, %v, calls %v; want blocked timed now, 3 calls each", c, err, calls)
	}
	if c.Ms(Blocked) < 20 || c.Ms(NCHW) < 30 || c.Ms(NHWC) < 40 {
		t.Errorf("timings %+v", c)
	}
	if s := c.String(); !strings.Contains(s, "layout blocked: nchw ") || !strings.Contains(s, ", blocked 20.0 ms") {
		t.Errorf("log line %q does not name the choice and the three timings", s)
	}
	calls = map[Layout]int{}
	if again, err := Choose(Auto, key, Options{Cache: cache, Candidates: three}, run); err != nil || !again.Cached || again.Layout != Blocked || len(calls) != 0 {
		t.Errorf("again: %+v, %v, calls %v; want the cached blocked", again, err, calls)
	}
	// a new process's dense-only caller does not take the cached blocked choice
	forget(cache, key)
	calls = map[Layout]int{}
	if d, err := Choose(Auto, key, Options{Cache: cache}, run); err != nil || d.Layout != NCHW || calls[NCHW] == 0 {
		t.Errorf("dense candidates after a blocked choice: %+v, %v, calls %v", d, err, calls)
	}
	if _, err := Choose(Blocked, key, Options{Cache: cache}, run); err == nil || !strings.Contains(err.Error(), `"blocked"`) {
		t.Errorf("forcing blocked without it among the candidates: %v, want a refusal", err)
	}
	if f, err := Choose(Blocked, key, Options{Cache: cache, Candidates: three}, run); err != nil || !f.Forced || f.Layout != Blocked {
		t.Errorf("forcing blocked: %+v, %v", f, err)
	}
}

// TestChooseTimesCloseLayoutsLonger: layouts within 5 % of each other get
// two more timed rounds each (noise decides such a race as much as the
// layouts do); layouts 10 % apart get none.
func TestChooseTimesCloseLayoutsLonger(t *testing.T) {
	for _, tc := range []struct {
		nhwc  time.Duration // NCHW takes 100 ms
		calls int
	}{{103 * time.Millisecond, 5}, {110 * time.Millisecond, 3}, {97 * time.Millisecond, 5}} {
		calls := map[Layout]int{}
		c, err := Choose(Auto, Key{Shape: "close"}, Options{Cache: filepath.Join(t.TempDir(), "l.json")}, sleeper(100*time.Millisecond, tc.nhwc, calls))
		if err != nil {
			t.Fatal(err)
		}
		want := NCHW
		if tc.nhwc < 100*time.Millisecond {
			want = NHWC
		}
		if c.Layout != want || calls[NCHW] != tc.calls || calls[NHWC] != tc.calls {
			t.Errorf("nchw 100 ms, nhwc %v: chose %s after %v calls; want %s after %d each", tc.nhwc, c.Layout, calls, want, tc.calls)
		}
	}
}

func TestChooseTimesCachesAndForces(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "sub", "layout.json")
	key := Key{CPU: "Test CPU", Capability: "AVX2", Threads: 2, Libtorch: "1.13.1", Task: "train", Shape: "f8-l1-b2x16"}
	calls := map[Layout]int{}
	// NCHW is 40 ms slower; far beyond any scheduling noise.
	c, err := Choose(Auto, key, Options{Cache: cache, Warmup: 1, Iters: 2}, sleeper(50*time.Millisecond, 10*time.Millisecond, calls))
	if err != nil {
		t.Fatal(err)
	}
	if c.Layout != NHWC || c.Cached || c.NCHWMs < 50 || c.NHWCMs < 10 || c.NHWCMs >= c.NCHWMs {
		t.Fatalf("choice %+v, want nhwc timed now with nchw ≥ 50 ms > nhwc ≥ 10 ms", c)
	}
	if calls[NCHW] != 3 || calls[NHWC] != 3 {
		t.Errorf("iterations %v, want 1 warm-up and 2 timed of each", calls)
	}
	if s := c.String(); !strings.Contains(s, "layout nhwc") || !strings.Contains(s, "nchw ") || !strings.Contains(s, "timed now") {
		t.Errorf("log line %q does not name the choice and both timings", s)
	}
	// The file is the cache's JSON, with no temporary file left beside it.
	b, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	var f cacheFile
	if err := json.Unmarshal(b, &f); err != nil || f.Choices[key.String()].Layout != NHWC {
		t.Fatalf("cache %s: %v %+v", b, err, f)
	}
	if ents, _ := os.ReadDir(filepath.Dir(cache)); len(ents) != 1 {
		t.Errorf("cache folder holds %d entries, want layout.json alone", len(ents))
	}
	// The same key: read back, nothing timed.
	calls = map[Layout]int{}
	again, err := Choose(Auto, key, Options{Cache: cache}, sleeper(0, 0, calls))
	if err != nil || !again.Cached || again.Layout != NHWC || again.NCHWMs != c.NCHWMs || len(calls) != 0 {
		t.Errorf("second choice %+v, %v, calls %v: want the cached one, nothing timed", again, err, calls)
	}
	if !strings.Contains(again.String(), "cached") {
		t.Errorf("log line %q does not say it was cached", again.String())
	}
	// Another shape is timed anew, and both stay in the cache.
	other := key
	other.Shape = "f8-l1-b2x64"
	calls = map[Layout]int{}
	o, err := Choose(Auto, other, Options{Cache: cache}, sleeper(10*time.Millisecond, 50*time.Millisecond, calls))
	if err != nil || o.Layout != NCHW || o.Cached || calls[NCHW] == 0 {
		t.Errorf("other shape: %+v, %v, calls %v; want nchw timed now", o, err, calls)
	}
	if m := readCache(cache); len(m) != 2 || m[key.String()].Layout != NHWC || m[other.String()].Layout != NCHW {
		t.Errorf("cache holds %+v, want both shapes", m)
	}
	// --layout nchw or nhwc: no timing at all.
	for _, l := range []Layout{NCHW, NHWC} {
		calls = map[Layout]int{}
		f, err := Choose(l, Key{Shape: "never timed"}, Options{Cache: cache}, sleeper(0, 0, calls))
		if err != nil || f.Layout != l || !f.Forced || len(calls) != 0 {
			t.Errorf("forced %s: %+v, %v, calls %v", l, f, err, calls)
		}
	}
}

// TestChooseRetimesBusyTiming: a choice timed on busy cores (load average
// above the cores) is cached, and timed again by the first run that finds
// the cores idle; while they stay busy, or where the system gives no load
// average, the cached choice stands.
func TestChooseRetimesBusyTiming(t *testing.T) {
	load := func(l float64, ok bool) func() (float64, int, bool) {
		return func() (float64, int, bool) { return l, 2, ok }
	}
	cases := []struct {
		name      string
		first     float64 // load when first timed
		now       float64 // load at the second run
		nowOK     bool
		wantTimed bool // the second run times again
	}{
		{"timed idle, idle now", 1.5, 0.5, true, false},
		{"timed idle, busy now", 1.5, 9, true, false},
		{"timed busy, busy now", 6, 3, true, false},
		{"timed busy, idle now", 6, 1.2, true, true},
		{"timed busy, no load average now", 6, 0, false, false},
		{"timed busy, exactly the cores now", 6, 2, true, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cache := filepath.Join(t.TempDir(), "layout.json")
			key := Key{CPU: "Test CPU", Task: "train", Shape: fmt.Sprintf("busy-%d", i)}
			// Under load NCHW came out faster; on idle cores NHWC is.
			c, err := Choose(Auto, key, Options{Cache: cache, Load: load(tc.first, true)}, sleeper(10*time.Millisecond, 30*time.Millisecond, map[Layout]int{}))
			if err != nil || c.Layout != NCHW || c.Load != tc.first || c.CPUs != 2 {
				t.Fatalf("first choice %+v, %v: want nchw with load %.1f on 2 cores", c, err, tc.first)
			}
			if got := strings.Contains(c.String(), "busy cores"); got != (tc.first > 2) {
				t.Errorf("log line %q: says busy %v, want %v", c.String(), got, tc.first > 2)
			}
			forget(cache, key)
			calls := map[Layout]int{}
			again, err := Choose(Auto, key, Options{Cache: cache, Load: load(tc.now, tc.nowOK)}, sleeper(30*time.Millisecond, 10*time.Millisecond, calls))
			if err != nil {
				t.Fatal(err)
			}
			if timed := len(calls) > 0; timed != tc.wantTimed {
				t.Fatalf("second run timed %v (calls %v), want %v; choice %+v", timed, calls, tc.wantTimed, again)
			}
			if !tc.wantTimed {
				if !again.Cached || again.Layout != NCHW {
					t.Errorf("second choice %+v, want the cached nchw", again)
				}
				return
			}
			if again.Cached || again.Layout != NHWC || !strings.Contains(again.String(), "was taken at load 6.0 on 2 cores") {
				t.Errorf("re-timed choice %+v (%q), want nhwc timed now, naming the busy timing", again, again.String())
			}
			if m := readCache(cache); m[key.String()].Layout != NHWC || m[key.String()].busy() {
				t.Errorf("cache after re-timing holds %+v, want the idle nhwc timing", m[key.String()])
			}
		})
	}
}

// forget drops this process's memory of key's choice in cache, as a new
// process would start.
func forget(cache string, key Key) {
	mu.Lock()
	defer mu.Unlock()
	for k := range seen {
		if strings.HasPrefix(k, cache+"\x00"+key.String()+"\x00") {
			delete(seen, k)
		}
	}
}

// TestChoosePrepareWrapsEachIteration: the network is converted to the
// layout before each timed call and restored after it.
func TestChoosePrepareWrapsEachIteration(t *testing.T) {
	var log []string
	cur := Layout("")
	prep := func(l Layout) (func(), error) {
		cur = l
		log = append(log, "prepare "+string(l))
		return func() { cur = ""; log = append(log, "done") }, nil
	}
	run := func(l Layout) error {
		if cur != l {
			t.Errorf("run(%s) with the network in %q", l, cur)
		}
		return nil
	}
	if _, err := Choose(Auto, Key{}, Options{Cache: filepath.Join(t.TempDir(), "l.json"), Warmup: 1, Iters: 1, Prepare: prep}, run); err != nil {
		t.Fatal(err)
	}
	want := "prepare nchw,done,prepare nhwc,done,prepare nchw,done,prepare nhwc,done"
	if got := strings.Join(log, ","); got != want {
		t.Errorf("calls %s, want %s", got, want)
	}
}

// TestChooseUnwritableCache: a cache that cannot be written costs a timing,
// not the run.
func TestChooseUnwritableCache(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := map[Layout]int{}
	c, err := Choose(Auto, Key{}, Options{Cache: filepath.Join(blocker, "layout.json")}, sleeper(time.Millisecond, 0, calls))
	if err != nil || c.Layout == "" || calls[NCHW] == 0 {
		t.Errorf("unwritable cache: %+v, %v", c, err)
	}
	// A garbled cache is measured again and rewritten.
	garbled := filepath.Join(dir, "layout.json")
	if err := os.WriteFile(garbled, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := Choose(Auto, Key{}, Options{Cache: garbled}, sleeper(0, time.Millisecond, calls)); err != nil || c.Cached {
		t.Errorf("garbled cache: %+v, %v", c, err)
	}
	if m := readCache(garbled); len(m) != 1 {
		t.Errorf("garbled cache not rewritten: %v", m)
	}
}

func TestCachePathUsesUserCacheDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	if got, want := CachePath(), filepath.Join(dir, "ludvae", "layout.json"); got != want {
		t.Errorf("CachePath() = %q, want %q", got, want)
	}
}

func TestParseCPUInfo(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13  64-Core Processor\n" +
		"flags\t\t: fpu sse avx fma avx2 bmi2 avx512f avx512bw avx512_bf16\n\nprocessor\t: 1\nmodel name\t: other\nflags\t: amx_tile\n"
	name, flags := parseCPUInfo(strings.NewReader(info))
	if name != "AMD EPYC 7B13 64-Core Processor" || flags != "avx avx2 fma avx512f avx512_bf16" {
		t.Errorf("parseCPUInfo = %q, %q", name, flags)
	}
	if name, flags := parseCPUInfo(strings.NewReader("")); name == "" || flags != "" {
		t.Errorf("no cpuinfo: %q, %q; want GOARCH and no flags", name, flags)
	}
}

type device bool

func (d device) IsCUDA() bool { return bool(d) }

// ChooseOn: auto on CUDA is channels-last without timing; on the CPU it
// times as Choose does; a forced layout is kept on both. Each logs one
// line naming the choice.
func TestChooseOn(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "layout.json")
	key := Key{CPU: "Test CPU", Threads: 2, Task: "synth", Shape: "f8-l1-in1x16x16"}
	o := Options{Cache: cache, Warmup: 1, Iters: 1}
	for _, tc := range []struct {
		cuda  bool
		want  Layout
		got   Layout
		timed bool
		log   string
	}{
		{true, Auto, NHWC, false, "layout nhwc (CUDA: channels-last, note)\n"},
		{true, NCHW, NCHW, false, "layout nchw (--layout), one tile\n"},
		{false, Auto, NCHW, true, "layout nchw: nchw "},
		{false, NHWC, NHWC, false, "layout nhwc (--layout), one tile\n"},
	} {
		calls := map[Layout]int{}
		var log strings.Builder
		c, err := ChooseOn(device(tc.cuda), tc.want, key, o, sleeper(time.Millisecond, 40*time.Millisecond, calls), "one tile", "note", &log)
		if err != nil {
			t.Fatal(err)
		}
		if c.Layout != tc.got || (calls[NCHW]+calls[NHWC] > 0) != tc.timed || !strings.HasPrefix(log.String(), tc.log) {
			t.Errorf("cuda %v, --layout %s: got %s after %v timings, log %q; want %s, timed %v, log %q…", tc.cuda, tc.want, c.Layout, calls, log.String(), tc.got, tc.timed, tc.log)
		}
	}
}

// TimingImage is a fixed image for a seed: the same pixels twice, others
// for another seed, all in [0, 1).
func TestTimingImage(t *testing.T) {
	a, b, c := TimingImage(8, 3), TimingImage(8, 3), TimingImage(8, 7)
	if a.W != 8 || a.H != 8 || len(a.Pix) != 3*64 {
		t.Fatalf("image %d×%d with %d values, want 8×8×3", a.W, a.H, len(a.Pix))
	}
	same := 0
	for i, v := range a.Pix {
		if v != b.Pix[i] {
			t.Fatalf("pixel %d differs between two images of seed 3: %g, %g", i, v, b.Pix[i])
		}
		if v < 0 || v >= 1 {
			t.Fatalf("pixel %d = %g outside [0, 1)", i, v)
		}
		if v == c.Pix[i] {
			same++
		}
	}
	if same == len(a.Pix) {
		t.Error("seeds 3 and 7 gave the same image")
	}
}
