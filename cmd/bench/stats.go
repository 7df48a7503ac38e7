package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// sample is a set of durations from one figure of one contender.
type sample []time.Duration

// sorted returns a sorted copy.
func (s sample) sorted() sample {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// q is the q-quantile (0..1) by linear interpolation; 0 for an empty sample.
func (s sample) q(q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := s.sorted()
	pos := q * float64(len(c)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return c[lo] + time.Duration(frac*float64(c[hi]-c[lo]))
}

func (s sample) median() time.Duration { return s.q(0.5) }
func (s sample) p99() time.Duration    { return s.q(0.99) }

func (s sample) min() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Min(s)
}

func (s sample) max() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Max(s)
}

// spread is "p25–p75" formatted.
func (s sample) spread() string { return fmt.Sprintf("%s–%s", ms(s.q(0.25)), ms(s.q(0.75))) }

// ms formats a duration in milliseconds with a precision that suits it.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	case v >= 1:
		return fmt.Sprintf("%.2f ms", v)
	default:
		return fmt.Sprintf("%.3f ms", v)
	}
}

// ratio is a/b, or NaN when b is zero.
func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func fmtRatio(r float64) string {
	if math.IsNaN(r) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", r)
}

// verdict says whether a figure met its target.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func mib(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/(1<<20)) }
