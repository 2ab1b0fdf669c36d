package job

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress shows a long job's advance: a live bar on a terminal, and on
// anything else (a log file, CI) a plain line at most every 10 % of the
// work or every interval, so logs stay readable.
type Progress struct {
	bar      *progressbar.ProgressBar
	w        io.Writer
	total    int
	what     string
	last     time.Time
	lastN    int
	start    time.Time
	startN   int
	interval time.Duration
	desc     string
}

// NewProgress starts a progress display of total units ("step", "img").
func NewProgress(w io.Writer, total int, label, unit string) *Progress {
	p := &Progress{w: w, total: total, what: label, start: time.Now(), last: time.Now(), interval: 30 * time.Second}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
		)
	}
	return p
}

// Start says where a resumed job begins.
func (p *Progress) Start(n int) {
	p.startN, p.lastN = n, n
	if p.bar != nil {
		p.bar.Set(n)
	}
}

// Set reports n units done, with a status text.
func (p *Progress) Set(n int, status string) {
	p.desc = status
	if p.bar != nil {
		if status != "" {
			p.bar.Describe(status)
		}
		p.bar.Set(n)
		return
	}
	tenth := max(p.total/10, 1)
	if n/tenth != p.lastN/tenth || time.Since(p.last) >= p.interval || n == p.total {
		rate := float64(n-p.startN) / time.Since(p.start).Seconds()
		eta := time.Duration(float64(p.total-n) / max(rate, 1e-9) * float64(time.Second)).Round(time.Second)
		fmt.Fprintf(p.w, "%s %d/%d (%.2f/s, ETA %v) %s\n", p.what, n, p.total, rate, eta, status)
		p.last, p.lastN = time.Now(), n
	}
}

// Interrupt ends the display early.
func (p *Progress) Interrupt() {
	if p.bar != nil {
		p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}

// Finish ends the display.
func (p *Progress) Finish() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}
