package exampledata

import (
	"math"
	"strconv"
	"time"
)

var warehouses = []string{"WH-EAST", "WH-CENTRAL", "WH-WEST"}

const (
	vdDuplicate = iota + 1
	vdWarehouseNoise
	vdNegativeQuantity
)

var inventoryDirt = []dirtKind{
	{"duplicate", ActionDedupe, "*", "the row appears twice, byte for byte; keep one", 0.002},
	{"warehouse_case_whitespace", ActionFix, "warehouse", "trim and upper-case; then one of WH-EAST|WH-CENTRAL|WH-WEST", 0.0015},
	{"negative_quantity", ActionDrop, "quantity_on_hand", "quantity_on_hand < 0", 0.0015},
}

var inventoryColumns = []string{"snapshot_date", "product_id", "warehouse", "quantity_on_hand", "reorder_point"}

// stock is one (product, warehouse) pair that is stocked.
type stock struct {
	p  *product
	wh int
}

// snapshotDates: every month end of the base year, then one snapshot per
// later day up to the export's day.
func snapshotDates(day int) []time.Time {
	var ds []time.Time
	for m := time.January; m <= time.December; m++ {
		ds = append(ds, time.Date(2024, m+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1))
	}
	for d := 2; d <= day; d++ {
		ds = append(ds, asOf(d))
	}
	return ds
}

// writeInventory writes the stock levels. They are a pure function of
// (seed, product, warehouse, date), so no state carries between days.
func writeInventory(out *table, seed uint64, cat *catalog, day int, log *dirtLog) error {
	var pairs []stock
	for i := range cat.products {
		p := &cat.products[i]
		if !p.sellable() {
			continue
		}
		primary := int(hash(seed, streamInventory, uint64(p.id)) % uint64(len(warehouses)))
		for w := range warehouses {
			if w == primary || unit(hash(seed, streamInventory, uint64(p.id), uint64(w))) < 0.7 {
				pairs = append(pairs, stock{p, w})
			}
		}
	}
	dates := snapshotDates(day)
	baseRows := 12 * len(pairs)
	picked := preselect(newRand(seed, streamDirt, 3), baseRows, inventoryDirt, nil)
	for di, d := range dates {
		dayNo := 1
		if di >= 12 {
			dayNo = di - 10 // dates[12] is day 2
		}
		r := newRand(seed, streamInventory, dayNo*100+di)
		for pi, s := range pairs {
			ordinal := di*len(pairs) + pi
			var k int
			if di < 12 {
				k = picked[ordinal]
			} else {
				k = bernoulli(r, inventoryDirt, nil)
			}
			h := hash(seed, streamInventory, uint64(s.p.id), uint64(s.wh), uint64(d.Unix()))
			level := 15 + 10*s.p.popularity
			reorder := int64(math.Round(level * 0.3))
			season := 1.0
			if d.Month() >= time.November {
				season = 0.65
			}
			qty := int64(math.Round(level * season * (0.3 + 1.4*unit(h))))
			if unit(mix(h)) < 0.03 {
				qty = 0 // stock-out
			}
			wh := warehouses[s.wh]
			switch k {
			case vdWarehouseNoise:
				wh = noisy(r, wh)
			case vdNegativeQuantity:
				qty = -1 - int64(r.IntN(20))
			}
			key := d.Format(dateLayout) + "|" + strconv.FormatInt(s.p.id, 10) + "|" + warehouses[s.wh]
			log.add(k, key)
			rec := []string{d.Format(dateLayout), strconv.FormatInt(s.p.id, 10), wh, strconv.FormatInt(qty, 10), strconv.FormatInt(reorder, 10)}
			if err := out.write(rec, k == vdDuplicate); err != nil {
				return err
			}
		}
	}
	return nil
}
