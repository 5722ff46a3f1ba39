package exampledata

import (
	"math"
	"math/rand/v2"

	"github.com/brianvoe/gofakeit/v7"
)

// Every stream of randomness is derived from (seed, stream, day), so a day's
// data never depends on how many other days were generated before it, and
// adding a column to one file does not reshuffle another.
const (
	streamCustomers uint64 = iota + 1
	streamProducts
	streamCampaigns
	streamOrders
	streamClicks
	streamInventory
	streamCustomerChanges
	streamProductChanges
	streamDirt
)

// mix is splitmix64's finaliser: a cheap, well-distributed hash of one word.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hash folds any number of words into one.
func hash(words ...uint64) uint64 {
	h := uint64(0x5851f42d4c957f2d)
	for _, w := range words {
		h = mix(h ^ w)
	}
	return h
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

func newRand(seed, stream uint64, day int) *rand.Rand {
	return rand.New(rand.NewPCG(hash(seed, stream, uint64(day)), hash(seed, stream, uint64(day), 1)))
}

// newFaker builds an unlocked faker on a PCG source. gofakeit.New(0) would
// seed from crypto/rand, so the derived seed is never passed through New.
func newFaker(seed, stream uint64, day int) *gofakeit.Faker {
	return gofakeit.NewFaker(rand.NewPCG(hash(seed, stream, uint64(day), 2), hash(seed, stream, uint64(day), 3)), false)
}

// stochasticRound rounds x up with probability frac(x), so that the expected
// value is x: small scales still see the occasional event.
func stochasticRound(r *rand.Rand, x float64) int {
	if x <= 0 {
		return 0
	}
	f := math.Floor(x)
	if r.Float64() < x-f {
		f++
	}
	return int(f)
}

// pick returns an index drawn from weights (which need not sum to 1).
func pick(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	u := r.Float64() * total
	for i, w := range weights {
		if u < w {
			return i
		}
		u -= w
	}
	return len(weights) - 1
}

// cumPick draws from a cumulative weight array restricted to its first n
// entries; entries with zero weight are never chosen. It returns -1 when the
// prefix has no weight at all.
func cumPick(r *rand.Rand, cum []float64, n int) int {
	if n <= 0 || cum[n-1] <= 0 {
		return -1
	}
	u := r.Float64() * cum[n-1]
	lo, hi := 0, n-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] > u {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// pareto draws a heavy-tailed propensity (>= 1, capped) so that a few
// customers buy again and again while most buy once or never.
func pareto(r *rand.Rand, alpha, limit float64) float64 {
	return math.Min(math.Pow(1-r.Float64(), -1/alpha), limit)
}

// rowRand is a tiny generator keyed by one row, for renderings (noise
// variants, bad values) that must not change from one day's export to the next.
func rowRand(seed, stream uint64, id int64) *rand.Rand {
	return rand.New(rand.NewPCG(hash(seed, stream, uint64(id), 99), 1))
}
