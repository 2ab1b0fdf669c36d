package train

import (
	"strconv"

	"github.com/ludvae/ludvae/internal/run"
)

// lossLog is the LUD-VAE trainer's log, whose rows the loss plot draws.
type lossLog struct {
	*run.CSVLog
	rows []stepStats
}

var lossHeader = []string{"step", "loss", "rec", "kl", "kl_weight", "lr", "steps_per_s", "time"}

func openLossLog(f *run.Folder, resumeStep int) (*lossLog, error) {
	l, kept, err := f.OpenLog(lossHeader, resumeStep)
	if err != nil {
		return nil, err
	}
	ll := &lossLog{CSVLog: l}
	for _, r := range kept {
		if st, ok := parseRow(r); ok {
			ll.rows = append(ll.rows, st)
		}
	}
	return ll, nil
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
func (l *lossLog) Write(st stepStats, rate float64) error {
	l.rows = append(l.rows, st)
	return l.CSVLog.Write(st.step, []float64{st.total, st.rec, st.kl, st.klWeight, st.lr}, rate)
}
