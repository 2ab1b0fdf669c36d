package job

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAheadInOrderAndBounded: results come in index order whatever order
// the goroutines finish in, and no more than prefetch+1 are produced
// ahead of the consumer (prefetch waiting in line, one being handed over).
func TestAheadInOrderAndBounded(t *testing.T) {
	const prefetch = 3
	var started, taken atomic.Int64
	produce := func(i int) int {
		started.Add(1)
		time.Sleep(time.Duration((7*i)%5) * time.Millisecond) // finish out of order
		return i * i
	}
	want := 5
	for got := range Ahead(t.Context(), 5, 40, prefetch, produce) {
		if got != want*want {
			t.Fatalf("got %d, want %d (out of order)", got, want*want)
		}
		want++
		taken.Add(1)
		time.Sleep(2 * time.Millisecond)
		if ahead := started.Load() - taken.Load(); ahead > prefetch+1 {
			t.Fatalf("%d produced ahead of the consumer, prefetch %d", ahead, prefetch)
		}
	}
	if want != 41 {
		t.Fatalf("stopped at %d, want 41", want)
	}
}

// TestAheadCancel: cancelling the context closes the channel without
// producing the rest.
func TestAheadCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var produced atomic.Int64
	ch := Ahead(ctx, 0, 1_000_000, 2, func(i int) int { produced.Add(1); return i })
	<-ch
	cancel()
	for range ch {
	}
	if n := produced.Load(); n > 10 {
		t.Fatalf("%d produced after cancel, want a handful", n)
	}
}

// TestProgressPlainLines: on a writer that is not a terminal, progress is a
// plain line every tenth of the work and at the end, not one per unit.
func TestProgressPlainLines(t *testing.T) {
	var b strings.Builder
	p := NewProgress(&b, 100, "synth", "img")
	for i := 1; i <= 100; i++ {
		p.Set(i, "")
	}
	p.Finish()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 10 || !strings.HasPrefix(lines[0], "synth 10/100 ") || !strings.HasPrefix(lines[9], "synth 100/100 ") {
		t.Fatalf("want 10 lines from 10/100 to 100/100, got %d:\n%s", len(lines), b.String())
	}
}
