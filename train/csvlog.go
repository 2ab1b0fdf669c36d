package train

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"time"
)

// csvLog appends one row per logged step to RUNDIR/log.csv. On resume it
// drops rows past the checkpoint's step, which the resumed run repeats.
type csvLog struct {
	f    *os.File
	w    *csv.Writer
	rows []stepStats
}

var csvHeader = []string{"step", "loss", "rec", "kl", "kl_weight", "lr", "steps_per_s", "time"}

func openCSV(path string, resumeStep int) (*csvLog, error) {
	l := &csvLog{}
	if f, err := os.Open(path); err == nil {
		recs, _ := csv.NewReader(bufio.NewReader(f)).ReadAll()
		f.Close()
		for _, r := range recs[min(1, len(recs)):] {
			st, ok := parseRow(r)
			if ok && st.step <= resumeStep {
				l.rows = append(l.rows, st)
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	l.f, l.w = f, csv.NewWriter(f)
	l.w.Write(csvHeader)
	for _, st := range l.rows {
		l.w.Write(formatRow(st, 0))
	}
	l.w.Flush()
	return l, l.w.Error()
}

func formatRow(st stepStats, rate float64) []string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return []string{strconv.Itoa(st.step), g(st.total), g(st.rec), g(st.kl), g(st.klWeight), g(st.lr),
		strconv.FormatFloat(rate, 'f', 3, 64), time.Now().UTC().Format(time.RFC3339)}
}

func parseRow(r []string) (stepStats, bool) {
	if len(r) < 6 {
		return stepStats{}, false
	}
	var st stepStats
	var err error
	if st.step, err = strconv.Atoi(r[0]); err != nil {
		return st, false
	}
	vals := []*float64{&st.total, &st.rec, &st.kl, &st.klWeight, &st.lr}
	for i, p := range vals {
		*p, _ = strconv.ParseFloat(r[i+1], 64)
	}
	st.finite = true
	return st, true
}

// Write logs one step.
func (l *csvLog) Write(st stepStats, rate float64) error {
	l.rows = append(l.rows, st)
	l.w.Write(formatRow(st, rate))
	l.w.Flush()
	if err := l.w.Error(); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	return nil
}

// Close closes the file.
func (l *csvLog) Close() { l.f.Close() }
