package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strings"
	"time"
)

// The chart: one panel for cold start, one for warm latency; one row per
// contender with every sample as a dot (at most maxDots, evenly spaced
// quantiles), the p25–p75 box and the median. The time axis is
// logarithmic: the Node peer is an order of magnitude away from the rest.

const (
	svgWidth   = 760
	labelW     = 120
	plotRight  = 680
	rowH       = 26
	panelTop   = 34
	maxDots    = 150
	panelGap   = 46
	axisHeight = 26
)

type chartRow struct {
	Label string
	S     sample
	Color string
}

var contenderColor = map[string]string{
	cFunction:     "#1f77b4",
	cFloorRuntime: "#2ca02c",
	cFloorLibs:    "#17becf",
	cFloorSDK:     "#9467bd",
	cFloorCall:    "#ff7f0e",
	"floor sum":   "#8c564b",
	cPeer:         "#d62728",
}

func renderSVG(rep *report) []byte {
	var panels [][]chartRow
	var titles []string
	if rep.Cold != nil {
		var rows []chartRow
		for _, name := range coldContenders {
			if s := rep.Cold.Wall[name]; len(s) > 0 {
				rows = append(rows, chartRow{name, s, contenderColor[name]})
			}
		}
		if len(rep.Cold.LibsPlusCall) > 0 {
			rows = append(rows, chartRow{"floor sum", rep.Cold.LibsPlusCall, contenderColor["floor sum"]})
		}
		panels = append(panels, rows)
		titles = append(titles, fmt.Sprintf("Cold start: exec → first ResetDisks dry-run result (%d rounds)", rep.Config.ColdRounds))
	}
	if rep.Warm != nil {
		var rows []chartRow
		for _, name := range warmContenders {
			if s := rep.Warm[name]; len(s) > 0 {
				rows = append(rows, chartRow{name, s, contenderColor[name]})
			}
		}
		panels = append(panels, rows)
		titles = append(titles, fmt.Sprintf("Warm latency per invocation (floor-sdk: per call), %d × %d each", rep.Config.WarmRounds, rep.Config.WarmPerRound))
	}
	height := 10 + 16
	for _, p := range panels {
		height += panelTop + len(p)*rowH + 4 + axisHeight + panelGap - 20
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	y := 10
	for i, rows := range panels {
		y = drawPanel(&b, titles[i], rows, y)
	}
	fmt.Fprintf(&b, `<text x="10" y="%d" fill="#666" font-size="10">dots: samples · box: p25–p75 · bar: median · floor sum: floor-libs + floor-sdk's first call (timed inside its main) of the same round · log scale · written by cmd/bench</text>`+"\n", height-8)
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func drawPanel(b *bytes.Buffer, title string, rows []chartRow, y int) int {
	fmt.Fprintf(b, `<text x="10" y="%d" font-weight="bold" font-size="13">%s</text>`+"\n", y+16, esc(title))
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		lo = math.Min(lo, float64(r.S.min()))
		hi = math.Max(hi, float64(r.S.max()))
	}
	if !(lo > 0) || math.IsInf(lo, 0) {
		return y + panelTop
	}
	// Axis from the decade-ish step below lo to the step above hi.
	lo, hi = niceFloor(lo), niceCeil(hi)
	x := func(d float64) float64 {
		return labelW + (plotRight-labelW)*(math.Log10(d)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
	}
	top := y + panelTop
	for i, r := range rows {
		cy := float64(top + i*rowH + rowH/2)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", labelW-8, cy, esc(r.Label))
		s := r.S.sorted()
		q1, med, q3 := float64(s.q(0.25)), float64(s.q(0.5)), float64(s.q(0.75))
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s" fill-opacity="0.18" stroke="%s"/>`+"\n",
			x(q1), cy-8, math.Max(x(q3)-x(q1), 1), 16, r.Color, r.Color)
		n := len(s)
		step := 1
		if n > maxDots {
			step = (n + maxDots - 1) / maxDots
		}
		for j := 0; j < n; j += step {
			jitter := float64((j*7919)%11-5) * 1.1
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="1.8" fill="%s" fill-opacity="0.45"/>`+"\n", x(float64(s[j])), cy+jitter, r.Color)
		}
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#000" stroke-width="2"/>`+"\n", x(med), x(med), cy-10, cy+10)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="10" fill="#333" dominant-baseline="middle">%s</text>`+"\n", plotRight+6, cy, esc(ms(time.Duration(med))))
	}
	axisY := top + len(rows)*rowH + 4
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#444"/>`+"\n", labelW, plotRight, axisY, axisY)
	for _, t := range ticks(lo, hi) {
		tx := x(t)
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/>`+"\n", tx, tx, top, axisY)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" font-size="10" fill="#444">%s</text>`+"\n", tx, axisY+14, tickLabel(t))
	}
	return axisY + axisHeight + panelGap - 20
}

// 1-2-5 steps, in nanoseconds.
func niceFloor(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{5, 2, 1} {
		if m*p <= v {
			return m * p
		}
	}
	return p
}

func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func ticks(lo, hi float64) []float64 {
	var out []float64
	for p := math.Pow(10, math.Floor(math.Log10(lo))); p <= hi*1.0001; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := m * p; v >= lo*0.9999 && v <= hi*1.0001 {
				out = append(out, v)
			}
		}
	}
	return out
}

func tickLabel(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%gs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%gms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%gµs", float64(d)/1e3)
	}
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
