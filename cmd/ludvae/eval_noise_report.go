package main

import (
	"fmt"
	"io"
	"math"

	"github.com/ludvae/ludvae/synth/noisestats"
)

// printNoiseTable writes the statistics as a table: one row per statistic,
// one column per source (real first); synthetic cells show the value and,
// in parentheses, its difference from the real one.
func printNoiseTable(w io.Writer, pairs int, names []string, stats []*noisestats.Stats, cmps []noisestats.Comparison, fields []noisestats.Field) {
	const labelW, cellW = 24, 22
	chans := []string{"R", "G", "B"}
	fmt.Fprintf(w, "noise = degraded − clean over %d image(s), %d pixels per channel; std in grey levels (0–255), KL in nats\n\n",
		pairs, stats[0].Pixels)
	fmt.Fprintf(w, "%-*s", labelW, "statistic")
	for _, n := range names {
		fmt.Fprintf(w, "  %*s", cellW, n)
	}
	fmt.Fprintln(w)
	row := func(label string, prec int, get func(s int) float64, diff bool) {
		vals := make([]float64, len(names))
		defined := false
		for s := range names {
			vals[s] = get(s)
			defined = defined || !math.IsNaN(vals[s])
		}
		if !defined {
			return
		}
		fmt.Fprintf(w, "%-*s", labelW, label)
		for s, v := range vals {
			cell := fmtNum(v, prec)
			if diff && s > 0 {
				cell += " (" + fmtSigned(v-vals[0], prec) + ")"
			}
			fmt.Fprintf(w, "  %*s", cellW, cell)
		}
		fmt.Fprintln(w)
	}
	section := func(title string) { fmt.Fprintf(w, "%s\n", title) }

	section("-- noise level")
	for c := range chans {
		row("mean "+chans[c], 3, func(s int) float64 { return stats[s].Mean[c] }, true)
	}
	for c := range chans {
		row("std "+chans[c], 3, func(s int) float64 { return stats[s].Std[c] }, true)
	}
	row("std all", 3, func(s int) float64 { return stats[s].StdAll }, true)

	section("-- std per clean-intensity bin")
	edges := noisestats.BinEdges(stats[0].Config.Bins)
	for c := range chans {
		for b := 0; b < stats[0].Config.Bins; b++ {
			label := fmt.Sprintf("std %s [%.3f,%.3f)", chans[c], edges[b], edges[b+1])
			if b == stats[0].Config.Bins-1 {
				label = fmt.Sprintf("std %s [%.3f,%.3f]", chans[c], edges[b], edges[b+1])
			}
			row(label, 3, func(s int) float64 { return stats[s].BinStd[c][b] }, true)
		}
	}

	section("-- spatial correlation")
	for lag := 1; lag <= noisestats.MaxLag; lag++ {
		for c := range chans {
			row(fmt.Sprintf("corr horiz lag %d %s", lag, chans[c]), 4, func(s int) float64 { return stats[s].CorrH[c][lag-1] }, true)
			row(fmt.Sprintf("corr vert lag %d %s", lag, chans[c]), 4, func(s int) float64 { return stats[s].CorrV[c][lag-1] }, true)
		}
		row(fmt.Sprintf("corr lag %d mean", lag), 4, func(s int) float64 { return stats[s].CorrMean(lag) }, true)
	}

	section("-- KL(real‖synthetic) of noise histograms")
	for c := range chans {
		row("KL "+chans[c], 4, func(s int) float64 { return cmps[s].KL[c] }, false)
	}
	row("KL all", 4, func(s int) float64 { return cmps[s].KLAll }, false)

	section("-- the literature's metrics, per image then averaged (lower is closer)")
	row("AKLD (DANet)", 4, func(s int) float64 { return fields[s].AKLD }, false)
	row("KLD (NAFlow, 256 bins)", 4, func(s int) float64 { return fields[s].KLD }, false)

	section("-- summary (difference synthetic − real in parentheses)")
	row("std all", 3, func(s int) float64 { return cmps[s].SynthStd }, true)
	row("std curve RMSE vs real", 3, func(s int) float64 { return cmps[s].StdCurveRMSE }, false)
	row("corr lag 1 mean", 4, func(s int) float64 { return cmps[s].SynthCorr1 }, true)
	row("corr lag 2 mean", 4, func(s int) float64 { return cmps[s].SynthCorr2 }, true)
	row("KL all", 4, func(s int) float64 { return cmps[s].KLAll }, false)
	row("AKLD", 4, func(s int) float64 { return fields[s].AKLD }, false)
	row("KLD", 4, func(s int) float64 { return fields[s].KLD }, false)
}

func fmtNum(v float64, prec int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func fmtSigned(v float64, prec int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%+.*f", prec, v)
}

// noiseDoc is the --json output of `ludvae eval noise`: the noisestats
// types under their json tags.
type noiseDoc struct {
	Pairs    int               `json:"pairs"`
	Config   noisestats.Config `json:"config"`
	BinEdges []float64         `json:"bin_edges"`
	Sources  []noiseSourceDoc  `json:"sources"`
}

type noiseSourceDoc struct {
	Name  string        `json:"name"`
	Dir   string        `json:"dir"`
	Stats noiseStatsDoc `json:"stats"`
	Real  *noiseVsReal  `json:"vs_real,omitempty"`
}

// noiseStatsDoc is a source's statistics and their correlation per lag
// averaged over channels and directions.
type noiseStatsDoc struct {
	*noisestats.Stats
	CorrMean []float64 `json:"corr_mean"`
}

// noiseVsReal is a synthetic source against the real noise: the
// comparison of the pooled statistics and the literature's metrics
// averaged over images.
type noiseVsReal struct {
	noisestats.Comparison
	noisestats.Field
}

func noiseDocument(pairs int, cfg noisestats.Config, names, dirs []string, stats []*noisestats.Stats, cmps []noisestats.Comparison, fields []noisestats.Field) noiseDoc {
	doc := noiseDoc{Pairs: pairs, Config: cfg, BinEdges: noisestats.BinEdges(cfg.Bins)}
	for s, st := range stats {
		src := noiseSourceDoc{Name: names[s], Dir: dirs[s], Stats: noiseStatsDoc{Stats: st}}
		for lag := 1; lag <= noisestats.MaxLag; lag++ {
			src.Stats.CorrMean = append(src.Stats.CorrMean, st.CorrMean(lag))
		}
		if s > 0 {
			src.Real = &noiseVsReal{cmps[s], fields[s]}
		}
		doc.Sources = append(doc.Sources, src)
	}
	return doc
}
