package exampledata

import (
	"math"
	"time"
)

// The generator's clock is a fixed calendar, never the wall clock. Day 1 is
// the base year 2024; day D >= 2 is the single date 2025-01-01 + (D-2).
var (
	baseStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	baseEnd   = time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC) // last date of day 1
)

const (
	dateLayout = "2006-01-02"
	tsLayout   = "2006-01-02 15:04:05"
)

// asOf is the last calendar date whose data a day's export contains.
func asOf(day int) time.Time {
	if day <= 1 {
		return baseEnd
	}
	return baseEnd.AddDate(0, 0, day-1)
}

// baseDates lists every date of the base year.
func baseDates() []time.Time {
	var ds []time.Time
	for d := baseStart; !d.After(baseEnd); d = d.AddDate(0, 0, 1) {
		ds = append(ds, d)
	}
	return ds
}

var monthFactor = [13]float64{0, 0.80, 0.78, 0.90, 0.92, 0.97, 0.95, 1.00, 1.02, 0.95, 1.05, 1.55, 1.85}

// Monday and Sunday evenings are the busiest days online; Saturday the quietest.
var weekdayFactor = [7]float64{ // indexed by time.Weekday, Sunday first
	1.05, 1.10, 1.02, 1.00, 0.98, 0.92, 0.85,
}

// demand is the relative order and traffic volume of a date: month
// seasonality, weekday effect, shopping holidays and active campaigns.
func demand(d time.Time, camps []campaign) float64 {
	w := monthFactor[d.Month()] * weekdayFactor[d.Weekday()]
	switch {
	case isBlackFriday(d):
		w *= 2.6
	case d.Weekday() == time.Monday && isBlackFriday(d.AddDate(0, 0, -3)): // Cyber Monday
		w *= 2.2
	case d.Month() == time.December && d.Day() == 25:
		w *= 0.45
	case d.Month() == time.December && d.Day() >= 26:
		w *= 0.75
	}
	n := 0
	for i := range camps {
		if camps[i].active(d) {
			n++
		}
	}
	return w * (1 + 0.2*float64(n))
}

// allocate splits total exactly over weights by the largest-remainder method.
func allocate(total int, weights []float64) []int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	out := make([]int, len(weights))
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, len(weights))
	given := 0
	for i, w := range weights {
		x := float64(total) * w / sum
		out[i] = int(math.Floor(x))
		given += out[i]
		rems[i] = rem{i, x - math.Floor(x)}
	}
	// stable selection of the largest remainders, ties by index
	for given < total {
		best := -1
		for j := range rems {
			if rems[j].f >= 0 && (best < 0 || rems[j].f > rems[best].f) {
				best = j
			}
		}
		out[rems[best].i]++
		rems[best].f = -1
		given++
	}
	return out
}

// hourWeights shape the time of day: quiet nights, a lunch bump, an evening peak.
var hourWeights = []float64{
	0.6, 0.35, 0.2, 0.15, 0.15, 0.25, 0.5, 1.0, 1.5, 1.9, 2.1, 2.3,
	2.6, 2.4, 2.2, 2.1, 2.1, 2.3, 2.7, 3.1, 3.3, 3.0, 2.2, 1.2,
}

// isBlackFriday: the day after the fourth Thursday of November.
func isBlackFriday(d time.Time) bool {
	return d.Month() == time.November && d.Weekday() == time.Friday && d.Day() >= 23 && d.Day() <= 29
}
