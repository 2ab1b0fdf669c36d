package run

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/ludvae/ludvae/internal/atomicfile"
)

// CSVLog appends one row per logged step to a run folder's log.csv
// (Folder.OpenLog): the step, the step's numbers, steps_per_s and time. On
// resume it keeps the rows up to the checkpoint's step and drops the later
// ones, which the run repeats.
type CSVLog struct {
	f *os.File
	w *csv.Writer
}

// OpenCSV (re)writes path with header and the rows of an earlier log up
// to step resumeStep, which it returns, and opens it to append to.
func OpenCSV(path string, header []string, resumeStep int) (*CSVLog, [][]string, error) {
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
	// Rewritten atomically: a kill in between leaves the old log whole.
	err := atomicfile.Write(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(header)
		cw.WriteAll(keep) // flushes
		return cw.Error()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("log: %w", err)
	}
	return &CSVLog{f: f, w: csv.NewWriter(f)}, keep, nil
}

// Write logs one step: its numbers in Go's shortest form, which reads
// back to the same float64, the rate to 3 decimals, the time in UTC.
func (l *CSVLog) Write(step int, values []float64, rate float64) error {
	row := []string{strconv.Itoa(step)}
	for _, v := range values {
		row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
	}
	row = append(row, strconv.FormatFloat(rate, 'f', 3, 64), time.Now().UTC().Format(time.RFC3339))
	l.w.Write(row)
	l.w.Flush()
	if err := l.w.Error(); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	return nil
}

// Close closes the file.
func (l *CSVLog) Close() { l.f.Close() }
