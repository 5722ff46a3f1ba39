package exampledata

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var csvFiles = []string{FileCustomers, FileProducts, FileOrders, FileItems,
	FileClicks, FileCampaigns, FileInventory}

func generate(t testing.TB, cfg Config) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := Generate(context.Background(), dir, cfg); err != nil {
		t.Fatal(err)
	}
	return dir
}

// file is a CSV file read back: rows as maps from column to value.
type file struct {
	header []string
	rows   []map[string]string
	raw    [][]string
}

func readCSV(t testing.TB, dir, name string) file {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := file{header: recs[0], raw: recs[1:]}
	for _, rec := range recs[1:] {
		m := make(map[string]string, len(rec))
		for i, c := range recs[0] {
			m[c] = rec[i]
		}
		out.rows = append(out.rows, m)
	}
	return out
}

func readDirty(t testing.TB, dir string) DirtyRows {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileDirty))
	if err != nil {
		t.Fatal(err)
	}
	var d DirtyRows
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func keyOf(f FileDirt, row map[string]string) string {
	parts := make([]string, len(f.Key))
	for i, k := range f.Key {
		parts[i] = row[k]
	}
	return strings.Join(parts, "|")
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 42, Scale: 0.05, Day: 4}
	a, b := generate(t, cfg), generate(t, cfg)
	other := generate(t, Config{Seed: 43, Scale: 0.05, Day: 4})
	for _, name := range append(slices.Clone(csvFiles), FileDirty, FileManifest) {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same flags", name)
		}
		z, _ := os.ReadFile(filepath.Join(other, name))
		if name != FileCampaigns && name != FileManifest && bytes.Equal(x, z) {
			t.Errorf("%s is the same for seeds 42 and 43", name)
		}
	}
	// no temporary files are left behind
	ents, _ := os.ReadDir(a)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left %s behind", e.Name())
		}
	}
}

// skipLongUnderShort skips a test that generates and reads the whole
// scale-1 example data (seconds each) under -short (make test-short).
func skipLongUnderShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("generates the scale-1 example data; skipped under -short")
	}
}

func TestVolumesAtScale1(t *testing.T) {
	skipLongUnderShort(t)
	dir := generate(t, Config{Seed: 42, Scale: 1, Day: 1})
	dirty := readDirty(t, dir)
	want := map[string]int{FileCustomers: 2500, FileProducts: 650, FileOrders: 12000,
		FileClicks: 75000, FileCampaigns: 25}
	for _, name := range csvFiles {
		f := readCSV(t, dir, name)
		fd := dirty.Files[name]
		seen := map[string]int{}
		first := map[string]string{}
		for i, row := range f.rows {
			k := keyOf(fd, row)
			seen[k]++
			line := strings.Join(f.raw[i], "\x00")
			if prev, ok := first[k]; ok && prev != line {
				t.Errorf("%s: key %s repeats with different content", name, k)
			}
			first[k] = line
		}
		if n, ok := want[name]; ok && len(seen) != n {
			t.Errorf("%s: %d distinct keys, want %d", name, len(seen), n)
		}
		if len(f.rows) != fd.Rows || len(seen) != fd.DistinctKeys || fd.Rows != fd.DistinctKeys+len(fd.Dedupe) {
			t.Errorf("%s: rows %d distinct %d, dirty_rows.json says rows %d distinct %d dedupe %d",
				name, len(f.rows), len(seen), fd.Rows, fd.DistinctKeys, len(fd.Dedupe))
		}
		var dups []string
		for k, n := range seen {
			if n > 2 {
				t.Errorf("%s: key %s appears %d times", name, k, n)
			}
			if n == 2 {
				dups = append(dups, k)
			}
		}
		if !sameSet(dups, fd.Dedupe) {
			t.Errorf("%s: duplicated keys %v, dirty_rows.json lists %v", name, dups, fd.Dedupe)
		}
		share := float64(len(fd.Dedupe)+len(fd.Fix)+len(fd.Drop)) / float64(fd.DistinctKeys)
		if name != FileCampaigns && (share < 0.004 || share > 0.011) {
			t.Errorf("%s: dirty share %.2f%%, want 0.4%%..1.1%%", name, 100*share)
		}
	}
	// 1..5 lines per order, except orders that staging drops, which have none
	items := readCSV(t, dir, FileItems)
	lines := map[string]map[string]bool{}
	for _, r := range items.rows {
		if lines[r["order_id"]] == nil {
			lines[r["order_id"]] = map[string]bool{}
		}
		lines[r["order_id"]][r["order_item_id"]] = true
	}
	drop := toSet(dirty.Files[FileOrders].Drop)
	for _, r := range readCSV(t, dir, FileOrders).rows {
		n := len(lines[r["order_id"]])
		if drop[r["order_id"]] != (n == 0) || n > 5 {
			t.Errorf("order %s (dropped %v) has %d lines", r["order_id"], drop[r["order_id"]], n)
		}
	}
}

func TestStagingContract(t *testing.T) {
	for _, cfg := range []Config{{Seed: 42, Scale: 1, Day: 1}, {Seed: 7, Scale: 0.3, Day: 6}} {
		if testing.Short() && cfg.Scale == 1 {
			continue // the scale-1 data: see skipLongUnderShort
		}
		dir := generate(t, cfg)
		checkStaging(t, dir, cfg)
	}
}

var emailRE = regexp.MustCompile(`^[^@ ]+@[^@ ]+\.[^@ ]+$`)

// canon maps a value to its canonical spelling among allowed, ignoring case
// and surrounding whitespace; ok is false when it matches none.
func canon(v string, allowed ...string) (string, bool) {
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSpace(v), a) {
			return a, true
		}
	}
	return "", false
}

func positive(v string) bool {
	x, err := strconv.ParseFloat(v, 64)
	return err == nil && x > 0
}

// checkStaging is an independent staging layer: it derives from the data
// alone which rows must be deduplicated, fixed and dropped, compares that with
// dirty_rows.json, and checks referential integrity of what is kept.
func checkStaging(t *testing.T, dir string, cfg Config) {
	t.Helper()
	dirty := readDirty(t, dir)
	type verdict struct{ dedupe, fix, drop []string }
	got := map[string]*verdict{}
	kept := map[string]map[string]map[string]string{} // file -> key -> row
	stage := func(name string, judge func(r map[string]string) (fix, drop bool)) {
		fd := dirty.Files[name]
		f := readCSV(t, dir, name)
		v := &verdict{}
		count := map[string]int{}
		kept[name] = map[string]map[string]string{}
		for _, r := range f.rows {
			fix, drop := judge(r) // normalises r in place
			k := keyOf(fd, r)
			if count[k]++; count[k] == 2 {
				v.dedupe = append(v.dedupe, k)
				continue
			}
			switch {
			case drop:
				v.drop = append(v.drop, k)
			case fix:
				v.fix = append(v.fix, k)
				kept[name][k] = r
			default:
				kept[name][k] = r
			}
		}
		got[name] = v
		if !slices.Equal(v.dedupe, fd.Dedupe) || !slices.Equal(v.fix, fd.Fix) || !slices.Equal(v.drop, fd.Drop) {
			t.Errorf("%v %s: staging found dedupe %d fix %d drop %d, dirty_rows.json lists %d %d %d\nfix %v vs %v\ndrop %v vs %v",
				cfg, name, len(v.dedupe), len(v.fix), len(v.drop), len(fd.Dedupe), len(fd.Fix), len(fd.Drop),
				head(v.fix), head(fd.Fix), head(v.drop), head(fd.Drop))
		}
		if len(kept[name]) != fd.RowsAfterStaging {
			t.Errorf("%s: %d rows kept, dirty_rows.json says %d", name, len(kept[name]), fd.RowsAfterStaging)
		}
	}
	stage(FileCustomers, func(r map[string]string) (bool, bool) {
		seg, ok := canon(r["segment"], "Consumer", "Corporate", "Home Office")
		email := strings.ToLower(strings.TrimSpace(r["email"]))
		if !ok || !emailRE.MatchString(email) || r["signup_date"] == "" {
			return false, true
		}
		return seg != r["segment"] || email != r["email"], false
	})
	stage(FileProducts, func(r map[string]string) (bool, bool) {
		c, ok := canon(r["category"], "Electronics", "Home & Kitchen", "Clothing", "Sports & Outdoors", "Books", "Beauty")
		return c != r["category"], !ok || !positive(r["price"])
	})
	stage(FileCampaigns, func(r map[string]string) (bool, bool) {
		c, ok := canon(r["channel"], "Email", "Social", "Search", "Display", "Affiliate")
		return c != r["channel"], !ok
	})
	stage(FileOrders, func(r map[string]string) (bool, bool) {
		s, ok := canon(r["status"], "placed", "shipped", "delivered", "returned", "cancelled")
		_, known := kept[FileCustomers][r["customer_id"]]
		return s != r["status"], !ok || !known || strings.HasPrefix(r["shipping_cost"], "-")
	})
	stage(FileItems, func(r map[string]string) (bool, bool) {
		_, known := kept[FileProducts][r["product_id"]]
		if _, ok := kept[FileOrders][r["order_id"]]; !ok {
			t.Errorf("order item %s: order %s is not kept", r["order_item_id"], r["order_id"])
		}
		return false, !known || !positive(r["quantity"]) || !positive(r["unit_price"])
	})
	stage(FileClicks, func(r map[string]string) (bool, bool) {
		e, ok1 := canon(r["event_type"], "page_view", "product_view", "add_to_cart", "checkout", "purchase")
		d, ok2 := canon(r["device"], "desktop", "mobile", "tablet")
		_, knownP := kept[FileProducts][r["product_id"]]
		if c := r["customer_id"]; c != "" {
			if _, ok := kept[FileCustomers][c]; !ok {
				t.Errorf("click %s: customer %s is not kept", r["event_id"], c)
			}
		}
		return e != r["event_type"] || d != r["device"],
			!ok1 || !ok2 || r["event_timestamp"] == "" || (r["product_id"] != "" && !knownP)
	})
	stage(FileInventory, func(r map[string]string) (bool, bool) {
		w, ok := canon(r["warehouse"], "WH-EAST", "WH-CENTRAL", "WH-WEST")
		if _, known := kept[FileProducts][r["product_id"]]; !known {
			t.Errorf("inventory %s: product %s is not kept", r["snapshot_date"], r["product_id"])
		}
		q, err := strconv.Atoi(r["quantity_on_hand"])
		fix := w != r["warehouse"]
		r["warehouse"] = w // the key is the fixed value
		return fix, !ok || err != nil || q < 0
	})

	// referential integrity and time rules of what staging keeps
	end := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, cfg.Day)
	camps := kept[FileCampaigns]
	for id, o := range kept[FileOrders] {
		ts, err := time.Parse(time.DateTime, o["order_date"])
		if err != nil || ts.Before(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) || !ts.Before(end) {
			t.Errorf("order %s: order_date %q outside the window", id, o["order_date"])
		}
		c := kept[FileCustomers][o["customer_id"]]
		if signup, _ := time.Parse(time.DateOnly, c["signup_date"]); ts.Before(signup) {
			t.Errorf("order %s on %s before customer %s signed up on %s", id, o["order_date"], o["customer_id"], c["signup_date"])
		}
		if cid := o["campaign_id"]; cid != "" {
			cp, ok := camps[cid]
			if !ok || o["order_date"][:10] < cp["start_date"] || o["order_date"][:10] > cp["end_date"] {
				t.Errorf("order %s on %s has campaign %s outside its window", id, o["order_date"], cid)
			}
		}
	}
	if cfg.Day == 1 { // prices only change from day 2 on
		for id, it := range kept[FileItems] {
			if p := kept[FileProducts][it["product_id"]]; p["price"] != it["unit_price"] {
				t.Errorf("item %s: unit_price %s, product price %s", id, it["unit_price"], p["price"])
			}
		}
	}
}

func TestDayConsistency(t *testing.T) {
	const scale = 0.2
	dirs := map[int]string{}
	for _, d := range []int{1, 2, 3, 8} {
		dirs[d] = generate(t, Config{Seed: 42, Scale: scale, Day: d})
	}
	for _, pair := range [][2]int{{1, 2}, {2, 3}, {3, 8}} {
		prev, cur := dirs[pair[0]], dirs[pair[1]]
		day := pair[1]
		asOf := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, day-1).Format(time.DateOnly)

		// history files: yesterday's file is a byte prefix of today's
		for _, name := range []string{FileOrders, FileItems, FileClicks, FileInventory} {
			a, _ := os.ReadFile(filepath.Join(prev, name))
			b, _ := os.ReadFile(filepath.Join(cur, name))
			if !bytes.HasPrefix(b, a) || len(b) <= len(a) {
				t.Errorf("day %d %s does not extend day %d's file", day, name, pair[0])
			}
		}
		maxPrev := ""
		for _, r := range readCSV(t, prev, FileOrders).rows {
			maxPrev = max(maxPrev, r["order_date"])
		}
		po := readCSV(t, prev, FileOrders)
		co := readCSV(t, cur, FileOrders)
		for _, r := range co.rows[len(po.rows):] {
			if r["order_date"] != "" && r["order_date"] <= maxPrev {
				t.Errorf("day %d: new order %s dated %s, not after %s", day, r["order_id"], r["order_date"], maxPrev)
			}
		}
		if pair[1]-pair[0] == 1 {
			for _, r := range co.rows[len(po.rows):] {
				if r["order_date"][:10] != asOf {
					t.Errorf("day %d: new order %s dated %s, want %s", day, r["order_id"], r["order_date"], asOf)
				}
			}
		}

		// customers: yesterday's rows plus the day's changes and signups
		pc := byKey(readCSV(t, prev, FileCustomers), "customer_id")
		cc := byKey(readCSV(t, cur, FileCustomers), "customer_id")
		maxID, changed, added := 0, 0, 0
		for id := range pc {
			n, _ := strconv.Atoi(id)
			maxID = max(maxID, n)
			if _, ok := cc[id]; !ok {
				t.Errorf("day %d: customer %s vanished", day, id)
			}
		}
		prevAsOf := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, max(pair[0]-1, 0)).Format(time.DateOnly)
		for id, r := range cc {
			p, ok := pc[id]
			if !ok {
				added++
				if n, _ := strconv.Atoi(id); n <= maxID || r["signup_date"] <= prevAsOf || r["signup_date"] > asOf {
					t.Errorf("day %d: new customer %s (signup %s) not after day %d's", day, id, r["signup_date"], pair[0])
				}
				continue
			}
			if r["updated_at"] == p["updated_at"] {
				if !slices.Equal(rowValues(r), rowValues(p)) {
					t.Errorf("day %d: customer %s changed without moving updated_at", day, id)
				}
				continue
			}
			changed++
			if r["updated_at"][:10] <= prevAsOf || r["updated_at"][:10] > asOf {
				t.Errorf("day %d: customer %s updated_at %s outside the day", day, id, r["updated_at"])
			}
			if r["segment"] == p["segment"] && r["address"] == p["address"] {
				t.Errorf("day %d: customer %s: updated_at moved but neither segment nor address changed", day, id)
			}
		}
		if changed == 0 || added == 0 {
			t.Errorf("day %d: %d customers changed, %d added; want some of each", day, changed, added)
		}

		// products: price changes and deletions of inactive products only
		pp := byKey(readCSV(t, prev, FileProducts), "product_id")
		cp := byKey(readCSV(t, cur, FileProducts), "product_id")
		for id, p := range pp {
			r, ok := cp[id]
			switch {
			case !ok:
				if p["is_active"] != "false" {
					t.Errorf("day %d: active product %s deleted", day, id)
				}
			case r["updated_at"] != p["updated_at"]:
				if r["price"] == p["price"] || r["updated_at"][:10] <= prevAsOf {
					t.Errorf("day %d: product %s updated_at moved to %s, price %s -> %s", day, id, r["updated_at"], p["price"], r["price"])
				}
			case !slices.Equal(rowValues(r), rowValues(p)):
				t.Errorf("day %d: product %s changed without moving updated_at", day, id)
			}
		}
		if len(cp) > len(pp) {
			t.Errorf("day %d: products appeared", day)
		}
	}
	// over a week, some product is deleted at this scale
	if a, b := len(readCSV(t, dirs[1], FileProducts).rows), len(readCSV(t, dirs[8], FileProducts).rows); a == b {
		t.Logf("no product deleted between day 1 and day 8")
	}
}

func BenchmarkScale1(b *testing.B) {
	for b.Loop() {
		generate(b, Config{Seed: 42, Scale: 1, Day: 1})
	}
}

func byKey(f file, key string) map[string]map[string]string {
	m := map[string]map[string]string{}
	for _, r := range f.rows {
		m[r[key]] = r
	}
	return m
}

func rowValues(r map[string]string) []string {
	var v []string
	for _, k := range slices.Sorted(mapsKeys(r)) {
		v = append(v, k+"="+r[k])
	}
	return v
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func toSet(ids []string) map[string]bool {
	s := map[string]bool{}
	for _, id := range ids {
		s[id] = true
	}
	return s
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && len(toSet(a)) == len(toSet(b)) && func() bool {
		s := toSet(a)
		for _, x := range b {
			if !s[x] {
				return false
			}
		}
		return true
	}()
}

func head(s []string) []string { return s[:min(len(s), 8)] }

// TestDirtCountsAtScale1 pins the documented counts of the base export:
// each kind of dirt is max(1, round(n * rate)) rows, n being the file's
// distinct keys (for order items: the number of orders, one line each).
func TestDirtCountsAtScale1(t *testing.T) {
	skipLongUnderShort(t)
	dir := generate(t, Config{Seed: 42, Scale: 1, Day: 1})
	dirty := readDirty(t, dir)
	want := map[string]map[string]int{
		FileCustomers: {"duplicate": 5, "segment_case_whitespace": 5, "email_upper_case": 4, "null_email": 3, "malformed_email": 4},
		FileProducts:  {"duplicate": 1, "category_case_whitespace": 2, "null_price": 1, "non_positive_price": 1},
		FileOrders:    {"duplicate": 24, "status_case_whitespace": 24, "null_customer_id": 12, "unknown_customer_id": 12, "negative_shipping_cost": 12},
		FileItems:     {"duplicate": 48, "unknown_product_id": 36, "non_positive_quantity": 36, "non_positive_unit_price": 30},
		FileClicks: {"duplicate": 150, "event_type_case_whitespace": 113, "device_case_whitespace": 75,
			"null_event_type": 75, "null_event_timestamp": 38, "unknown_product_id": 75},
		FileCampaigns: {"channel_case_whitespace": 1},
	}
	for name, kinds := range want {
		got := map[string]int{}
		for _, k := range dirty.Files[name].Kinds {
			got[k.Kind] = k.Count
			if k.Count != len(k.IDs) {
				t.Errorf("%s %s: count %d, %d ids", name, k.Kind, k.Count, len(k.IDs))
			}
		}
		for k, n := range kinds {
			if got[k] != n {
				t.Errorf("%s %s: %d rows, want %d", name, k, got[k], n)
			}
		}
		if len(got) != len(kinds) {
			t.Errorf("%s: kinds %v, want %v", name, got, kinds)
		}
	}
}
