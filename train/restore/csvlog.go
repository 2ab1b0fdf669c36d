package restore

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"time"
)

// csvLog appends one row per logged step to RUNDIR/log.csv: step, loss,
// lr, steps_per_s, time. On resume it keeps the rows up to the
// checkpoint's step and drops the later ones, which the run repeats.
type csvLog struct {
	f *os.File
	w *csv.Writer
}

var csvHeader = []string{"step", "loss", "lr", "steps_per_s", "time"}

func openCSV(path string, resumeStep int) (*csvLog, error) {
	var keep [][]string
	if f, err := os.Open(path); err == nil {
		recs, _ := csv.NewReader(bufio.NewReader(f)).ReadAll()
		f.Close()
		for _, r := range recs[min(1, len(recs)):] {
			if s, err := strconv.Atoi(r[0]); err == nil && s <= resumeStep {
				keep = append(keep, r)
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	l := &csvLog{f: f, w: csv.NewWriter(f)}
	l.w.Write(csvHeader)
	l.w.WriteAll(keep)
	return l, l.w.Error()
}

// Write logs one step.
func (l *csvLog) Write(step int, loss, lr, rate float64) error {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	l.w.Write([]string{strconv.Itoa(step), g(loss), g(lr), strconv.FormatFloat(rate, 'f', 3, 64), time.Now().UTC().Format(time.RFC3339)})
	l.w.Flush()
	if err := l.w.Error(); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	return nil
}

// Close closes the file.
func (l *csvLog) Close() { l.f.Close() }
