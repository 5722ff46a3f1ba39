// Package exampledata generates the example project's raw e-commerce data: seed CSV
// files that look like a source system's exports, with realistic patterns,
// a small documented share of dirty rows, and one export per day.
//
// Output is a pure function of (seed, scale, day): no wall clock, no global
// randomness. The package writes files into the directory it is given and
// prints nothing.
package exampledata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Base volumes at scale 1: distinct keys per file, before duplicate rows.
const (
	BaseCustomers = 2500
	BaseProducts  = 650
	BaseOrders    = 12000
	BaseClicks    = 75000
	Campaigns     = 25
	MaxDay        = 3660
)

// File names, as the seeds are named in the project.
const (
	FileCustomers = "raw_customers.csv"
	FileProducts  = "raw_products.csv"
	FileOrders    = "raw_orders.csv"
	FileItems     = "raw_order_items.csv"
	FileClicks    = "raw_clickstream.csv"
	FileCampaigns = "raw_marketing_campaigns.csv"
	FileInventory = "raw_inventory.csv"
	FileDirty     = "dirty_rows.json"
	FileManifest  = "manifest.json"
	FileDirtSeed  = "generator_dirt.csv"
)

// Config selects one export.
type Config struct {
	Seed  uint64
	Scale float64 // multiplies the volumes; fractions are allowed (tests)
	Day   int     // 1 = the base year 2024; D >= 2 adds the dates 2025-01-01 .. up to asOf(D)
}

// FileInfo describes one written CSV file in manifest.json.
type FileInfo struct {
	Rows         int      `json:"rows"`
	DistinctKeys int      `json:"distinct_keys"`
	Key          []string `json:"key"`
	Columns      []string `json:"columns"`
	Kind         string   `json:"kind"` // snapshot | history
}

// Manifest is the content of manifest.json.
type Manifest struct {
	Generator   string              `json:"generator"`
	Seed        uint64              `json:"seed"`
	Scale       float64             `json:"scale"`
	Day         int                 `json:"day"`
	AsOf        string              `json:"as_of"`
	WindowStart string              `json:"window_start"`
	WindowEnd   string              `json:"window_end"`
	Files       map[string]FileInfo `json:"files"`
}

// Volumes are the base (day 1) distinct-key counts for a scale.
type Volumes struct {
	Customers, Products, Orders, Clicks int
}

// VolumesFor scales the base volumes, with small floors so that every
// category and segment exists even at tiny test scales.
func VolumesFor(scale float64) Volumes {
	n := func(base, floor int) int { return max(floor, int(math.Round(float64(base)*scale))) }
	return Volumes{n(BaseCustomers, 10), n(BaseProducts, 12), n(BaseOrders, 20), n(BaseClicks, 50)}
}

// ConfigError is a Config that cannot be generated.
type ConfigError struct{ msg string }

func (e *ConfigError) Error() string { return e.msg }

// IsConfigError reports whether err is a bad Config rather than an I/O failure.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

func (c Config) validate() error {
	if !(c.Scale > 0) || c.Scale > 1000 {
		return &ConfigError{fmt.Sprintf("--scale must be > 0 and <= 1000, got %v", c.Scale)}
	}
	if c.Day < 1 || c.Day > MaxDay {
		return &ConfigError{fmt.Sprintf("--day must be between 1 and %d, got %d", MaxDay, c.Day)}
	}
	return nil
}

// Generate writes the seed files, dirty_rows.json and manifest.json for one
// export into dir (created if missing) and returns the manifest.
func Generate(ctx context.Context, dir string, cfg Config) (*Manifest, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	vol := VolumesFor(cfg.Scale)
	seed := cfg.Seed
	cat := newCatalog(seed, vol.Products)
	people := newCRM(seed, vol.Customers)
	camps := newCampaigns(seed)

	var tables []*table
	open := func(name string, cols []string) (*table, error) {
		t, err := createTable(dir, name, cols)
		if err == nil {
			tables = append(tables, t)
		}
		return t, err
	}
	fail := func(err error) (*Manifest, error) {
		for _, t := range tables {
			t.abort()
		}
		return nil, err
	}

	h := &history{seed: seed, crm: people, cat: cat, camps: camps,
		orderLog: newDirtLog(orderDirt), itemLog: newDirtLog(itemDirt), clickLog: newDirtLog(clickDirt)}
	var err error
	if h.orders, err = open(FileOrders, orderColumns); err != nil {
		return fail(err)
	}
	if h.items, err = open(FileItems, itemColumns); err != nil {
		return fail(err)
	}
	if h.clicks, err = open(FileClicks, clickColumns); err != nil {
		return fail(err)
	}

	// Day 1: the base year, with exact totals spread by demand.
	dates := baseDates()
	weights := make([]float64, len(dates))
	totalDemand := 0.0
	for i, d := range dates {
		weights[i] = demand(d, camps)
		totalDemand += weights[i]
	}
	orderSel := preselect(newRand(seed, streamDirt, 4), vol.Orders, orderDirt, nil)
	dropOrder := func(i int) bool {
		k := orderSel[i]
		return k > 0 && orderDirt[k-1].action == ActionDrop
	}
	itemSel := preselect(newRand(seed, streamDirt, 5), vol.Orders, itemDirt, func(i int) bool { return !dropOrder(i) })
	clickSel := preselect(newRand(seed, streamDirt, 6), vol.Clicks, clickDirt, nil)
	ordinal, clickOrdinal := -1, -1
	baseOrderKind := func() int { ordinal++; return orderSel[ordinal] }
	baseItemKind := func(int) int { return itemSel[ordinal] }
	baseClickKind := func() int { clickOrdinal++; return clickSel[clickOrdinal] }
	ro, rc := newRand(seed, streamOrders, 1), newRand(seed, streamClicks, 1)
	perOrders, perClicks := allocate(vol.Orders, weights), allocate(vol.Clicks, weights)
	for i, d := range dates {
		if i%32 == 0 && ctx.Err() != nil {
			return fail(ctx.Err())
		}
		if err := h.writeOrders(ro, d, perOrders[i], baseOrderKind, baseItemKind); err != nil {
			return fail(err)
		}
		if err := h.writeClicks(rc, d, perClicks[i], baseClickKind); err != nil {
			return fail(err)
		}
	}

	// Days 2..D: the day's source changes, then the day's new activity.
	for day := 2; day <= cfg.Day; day++ {
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		cat.applyDay(seed, day)
		people.applyDay(seed, day, vol.Customers)
		d := asOf(day)
		w := demand(d, camps)
		ro, rc := newRand(seed, streamOrders, day), newRand(seed, streamClicks, day)
		rd := newRand(seed, streamDirt, 100+day)
		dayOrderKind := func() int { return bernoulli(rd, orderDirt, nil) }
		dayItemKind := func(ok int) int {
			k := bernoulli(rd, itemDirt, nil)
			if ok > 0 && orderDirt[ok-1].action == ActionDrop {
				return 0
			}
			return k
		}
		dayClickKind := func() int { return bernoulli(rd, clickDirt, nil) }
		nOrders := stochasticRound(ro, float64(vol.Orders)*w/totalDemand)
		nClicks := stochasticRound(rc, float64(vol.Clicks)*w/totalDemand)
		if err := h.writeOrders(ro, d, nOrders, dayOrderKind, dayItemKind); err != nil {
			return fail(err)
		}
		if err := h.writeClicks(rc, d, nClicks, dayClickKind); err != nil {
			return fail(err)
		}
	}

	// Snapshot files, as the source systems export them on day D.
	custT, err := open(FileCustomers, customerColumns)
	if err != nil {
		return fail(err)
	}
	custLog := newDirtLog(customerDirt)
	if err := people.write(custT, seed, custLog); err != nil {
		return fail(err)
	}
	prodT, err := open(FileProducts, productColumns)
	if err != nil {
		return fail(err)
	}
	prodLog := newDirtLog(productDirt)
	if err := cat.write(prodT, seed, prodLog); err != nil {
		return fail(err)
	}
	campT, err := open(FileCampaigns, campaignColumns)
	if err != nil {
		return fail(err)
	}
	campLog := newDirtLog(campaignDirt)
	if err := writeCampaigns(campT, seed, camps, campLog); err != nil {
		return fail(err)
	}
	invT, err := open(FileInventory, inventoryColumns)
	if err != nil {
		return fail(err)
	}
	invLog := newDirtLog(inventoryDirt)
	if err := writeInventory(invT, seed, cat, cfg.Day, invLog); err != nil {
		return fail(err)
	}

	type entry struct {
		t    *table
		log  *dirtLog
		key  []string
		kind string
	}
	entries := []entry{
		{custT, custLog, []string{"customer_id"}, "snapshot"},
		{prodT, prodLog, []string{"product_id"}, "snapshot"},
		{campT, campLog, []string{"campaign_id"}, "snapshot"},
		{invT, invLog, []string{"snapshot_date", "product_id", "warehouse"}, "snapshot"},
		{h.orders, h.orderLog, []string{"order_id"}, "history"},
		{h.items, h.itemLog, []string{"order_item_id"}, "history"},
		{h.clicks, h.clickLog, []string{"event_id"}, "history"},
	}
	m := &Manifest{Generator: "strata gendata v1", Seed: seed, Scale: cfg.Scale, Day: cfg.Day,
		AsOf: asOf(cfg.Day).Format(dateLayout), WindowStart: baseStart.Format(dateLayout),
		WindowEnd: asOf(cfg.Day).Format(dateLayout), Files: map[string]FileInfo{}}
	dirty := &DirtyRows{Seed: seed, Scale: cfg.Scale, Day: cfg.Day, AsOf: m.AsOf, Notes: dirtyNotes,
		Files: map[string]FileDirt{}}
	for _, e := range entries {
		m.Files[e.t.name] = FileInfo{Rows: e.t.rows, DistinctKeys: e.t.distinct, Key: e.key, Columns: e.t.columns, Kind: e.kind}
		dirty.Files[e.t.name] = e.log.report(e.key, e.t.rows, e.t.distinct)
	}
	for _, t := range tables {
		if err := t.commit(); err != nil {
			return fail(err)
		}
	}
	if err := writeJSON(filepath.Join(dir, FileDirty), dirty); err != nil {
		return nil, err
	}
	if err := writeDirtSeed(filepath.Join(dir, FileDirtSeed), dirty); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(dir, FileManifest), m); err != nil {
		return nil, err
	}
	return m, nil
}

var dirtyNotes = []string{
	"rows counts data rows (header excluded) including duplicate copies; distinct_keys counts keys; rows_after_staging = distinct_keys - len(drop).",
	"ids are key values as text, after fixes (a noisy key column is listed in its canonical spelling); composite keys are joined with '|' in key order; ids are listed in file order. A row has at most one kind of dirt.",
	"dedupe: the row appears exactly twice, byte for byte; staging keeps one. fix: staging trims and normalises the column, the row is kept. drop: staging removes the row.",
	"nothing clean refers to a dropped row: dropped orders have no order items, dropped customers and products are never referenced by orders, items, clicks or inventory.",
	"foreign keys are checked against the same day's snapshot files: an id that is not in raw_customers / raw_products (after dropping) is unknown.",
	"all other values are clean: emails are lower case, categorical values are in their canonical spelling, prices and quantities are positive.",
}

// writeDirtSeed writes the per-file dirt counts as a small seed, so the
// project's own data tests can check that staging dropped exactly these rows.
func writeDirtSeed(path string, d *DirtyRows) error {
	names := make([]string, 0, len(d.Files))
	for n := range d.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("seed_name,raw_rows,distinct_keys,dedupe_rows,fix_rows,drop_rows,rows_after_staging\n")
	for _, n := range names {
		f := d.Files[n]
		fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%d,%d\n", strings.TrimSuffix(n, ".csv"), f.Rows, f.DistinctKeys, len(f.Dedupe), len(f.Fix), len(f.Drop), f.RowsAfterStaging)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
