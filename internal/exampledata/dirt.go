package exampledata

import (
	"math/rand/v2"
	"strings"
)

// What a correct staging layer must do with a dirty row.
const (
	ActionDedupe = "dedupe" // exact duplicate row: keep one copy
	ActionFix    = "fix"    // casing or whitespace noise: normalise, keep the row
	ActionDrop   = "drop"   // unusable row: remove it
)

// dirtKind is one kind of dirt in one file. Kind 0 is "clean".
type dirtKind struct {
	name   string
	action string
	column string
	rule   string
	rate   float64 // share of the file's keys
}

// DirtEntry lists the rows of one kind of dirt in a written file.
type DirtEntry struct {
	Kind   string   `json:"kind"`
	Action string   `json:"action"`
	Column string   `json:"column"`
	Rule   string   `json:"rule"`
	Count  int      `json:"count"`
	IDs    []string `json:"ids"`
}

// FileDirt is dirty_rows.json's entry for one file.
type FileDirt struct {
	Key              []string    `json:"key"`
	Rows             int         `json:"rows"`
	DistinctKeys     int         `json:"distinct_keys"`
	RowsAfterStaging int         `json:"rows_after_staging"`
	Kinds            []DirtEntry `json:"kinds"`
	Dedupe           []string    `json:"dedupe"`
	Fix              []string    `json:"fix"`
	Drop             []string    `json:"drop"`
}

// DirtyRows is the content of dirty_rows.json.
type DirtyRows struct {
	Seed  uint64              `json:"seed"`
	Scale float64             `json:"scale"`
	Day   int                 `json:"day"`
	AsOf  string              `json:"as_of"`
	Notes []string            `json:"notes"`
	Files map[string]FileDirt `json:"files"`
}

// dirtLog accumulates the dirty rows of one file as it is written.
type dirtLog struct {
	kinds    []dirtKind
	ids      [][]string          // per kind, index 1..len(kinds), in file order
	byAction map[string][]string // per action, in file order
}

func newDirtLog(kinds []dirtKind) *dirtLog {
	return &dirtLog{kinds: kinds, ids: make([][]string, len(kinds)+1), byAction: map[string][]string{}}
}

func (l *dirtLog) add(kind int, id string) {
	if kind > 0 {
		l.ids[kind] = append(l.ids[kind], id)
		a := l.kinds[kind-1].action
		l.byAction[a] = append(l.byAction[a], id)
	}
}

func (l *dirtLog) action(kind int) string {
	if kind <= 0 {
		return ""
	}
	return l.kinds[kind-1].action
}

func (l *dirtLog) report(key []string, rows, distinct int) FileDirt {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	fd := FileDirt{Key: key, Rows: rows, DistinctKeys: distinct, Kinds: []DirtEntry{},
		Dedupe: nonNil(l.byAction[ActionDedupe]), Fix: nonNil(l.byAction[ActionFix]), Drop: nonNil(l.byAction[ActionDrop])}
	for i, k := range l.kinds {
		ids := nonNil(l.ids[i+1])
		fd.Kinds = append(fd.Kinds, DirtEntry{Kind: k.name, Action: k.action, Column: k.column,
			Rule: k.rule, Count: len(ids), IDs: ids})
	}
	fd.RowsAfterStaging = distinct - len(fd.Drop)
	return fd
}

// preselect assigns each kind its exact count, max(1, round(n*rate)), of
// distinct ordinals in [0, n) drawn from eligible ones, for files whose size
// is known before writing. Kinds are disjoint: a row has at most one kind.
func preselect(r *rand.Rand, n int, kinds []dirtKind, eligible func(int) bool) map[int]int {
	out := map[int]int{}
	want := 0
	for _, k := range kinds {
		want += max(1, int(float64(n)*k.rate+0.5))
	}
	if n < 4*want { // too small to be dirty and still useful
		return out
	}
	for ki, k := range kinds {
		c := max(1, int(float64(n)*k.rate+0.5))
		for tries := 0; c > 0 && tries < 100*n; tries++ {
			i := r.IntN(n)
			if _, taken := out[i]; taken || (eligible != nil && !eligible(i)) {
				continue
			}
			out[i] = ki + 1
			c--
		}
	}
	return out
}

// bernoulli picks at most one kind for a row of a day's increment, each with
// its rate: the increments are dirty at the same rate as the base.
func bernoulli(r *rand.Rand, kinds []dirtKind, allowed func(int) bool) int {
	u := r.Float64()
	for i, k := range kinds {
		if u < k.rate {
			if allowed != nil && !allowed(i+1) {
				return 0
			}
			return i + 1
		}
		u -= k.rate
	}
	return 0
}

// noisy renders a canonical value with casing and whitespace noise that a
// staging layer must undo (trim, then canonical case).
func noisy(r *rand.Rand, v string) string {
	switch r.IntN(5) {
	case 0:
		return "  " + strings.ToLower(v) + " "
	case 1:
		if u := strings.ToUpper(v); u != v {
			return u
		}
		return strings.ToLower(v)
	case 2:
		return " " + v
	case 3:
		return v + "  "
	default:
		return strings.ToLower(v) + " "
	}
}
