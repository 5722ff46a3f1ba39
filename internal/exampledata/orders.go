package exampledata

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

var orderStatuses = []string{"placed", "shipped", "delivered", "returned", "cancelled"}

const (
	odDuplicate = iota + 1
	odStatusNoise
	odNullCustomer
	odUnknownCustomer
	odNegativeShipping
)

var orderDirt = []dirtKind{
	{"duplicate", ActionDedupe, "*", "the row appears twice, byte for byte; keep one", 0.002},
	{"status_case_whitespace", ActionFix, "status", "trim and lower-case; then one of placed|shipped|delivered|returned|cancelled", 0.002},
	{"null_customer_id", ActionDrop, "customer_id", "customer_id is empty (required)", 0.001},
	{"unknown_customer_id", ActionDrop, "customer_id", "customer_id not in raw_customers", 0.001},
	{"negative_shipping_cost", ActionDrop, "shipping_cost", "shipping_cost < 0", 0.001},
}

const (
	idDuplicate = iota + 1
	idUnknownProduct
	idNonPositiveQuantity
	idNonPositivePrice
)

// Item dirt rates are per order (one line of the order is dirty); with about
// 2.2 lines per order they are about 0.6% of the lines.
var itemDirt = []dirtKind{
	{"duplicate", ActionDedupe, "*", "the row appears twice, byte for byte; keep one", 0.004},
	{"unknown_product_id", ActionDrop, "product_id", "product_id not in raw_products", 0.003},
	{"non_positive_quantity", ActionDrop, "quantity", "quantity <= 0", 0.003},
	{"non_positive_unit_price", ActionDrop, "unit_price", "unit_price <= 0", 0.0025},
}

// unknownBase starts the ids that no customer or product ever gets.
const unknownBase = 900_000_000

var orderColumns = []string{"order_id", "customer_id", "order_date", "status", "channel", "campaign_id", "payment_method", "shipping_cost", "discount_amount"}
var itemColumns = []string{"order_item_id", "order_id", "product_id", "quantity", "unit_price", "discount"}

// history streams the append-only files: orders, their items, clickstream.
type history struct {
	seed        uint64
	crm         *crm
	cat         *catalog
	camps       []campaign
	orders      *table
	items       *table
	clicks      *table
	orderLog    *dirtLog
	itemLog     *dirtLog
	clickLog    *dirtLog
	nextOrder   int64
	nextItem    int64
	nextEvent   int64
	nextSess    int64
	nextUnknown int64
}

func (h *history) unknownID() string {
	h.nextUnknown++
	return strconv.FormatInt(unknownBase+h.nextUnknown, 10)
}

// dayTimes draws n times of day on date d, sorted, so ids follow time.
func dayTimes(r *rand.Rand, d time.Time, n int) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		h := pick(r, hourWeights)
		ts[i] = d.Add(time.Duration(h)*time.Hour + time.Duration(r.IntN(3600))*time.Second)
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	return ts
}

func activeCampaigns(camps []campaign, d time.Time) []*campaign {
	var out []*campaign
	for i := range camps {
		if camps[i].active(d) {
			out = append(out, &camps[i])
		}
	}
	return out
}

type line struct {
	p       *product
	qty     int64
	discC   int64
	product string
	price   int64
}

// writeOrders writes n orders of date d and their lines. orderDirt and
// itemDirt return the dirt kind of the next order and of one of its lines.
func (h *history) writeOrders(r *rand.Rand, d time.Time, n int, orderKind func() int, itemKind func(orderKind int) int) error {
	active := activeCampaigns(h.camps, d)
	lines := make([]line, 0, 5)
	for _, ts := range dayTimes(r, d, n) {
		h.nextOrder++
		oid := strconv.FormatInt(h.nextOrder, 10)
		ok := orderKind()
		c := h.crm.sample(r, d)
		if c == nil {
			c = &h.crm.customers[cumPick(r, h.crm.cum, len(h.crm.cum))]
		}
		seg := c.segment
		channel := []string{"web", "mobile_app", "marketplace"}[pick(r, []float64{0.55, 0.35, 0.10})]
		var camp *campaign
		if len(active) > 0 && r.Float64() < 0.4 {
			camp = active[r.IntN(len(active))]
		}
		var payment string
		if seg == 1 {
			payment = []string{"credit_card", "bank_transfer", "paypal", "debit_card"}[pick(r, []float64{0.5, 0.3, 0.1, 0.1})]
		} else {
			payment = []string{"credit_card", "paypal", "debit_card", "gift_card"}[pick(r, []float64{0.58, 0.22, 0.14, 0.06})]
		}
		ret := segmentReturn[seg]
		status := orderStatuses[pick(r, []float64{0.02, 0.04, 1 - 0.02 - 0.04 - ret - 0.04, ret, 0.04})]
		rate := 0.0
		switch {
		case camp != nil:
			rate = 0.05 * float64(1+r.IntN(4))
		case r.Float64() < 0.08:
			rate = 0.05 * float64(1+r.IntN(2))
		}

		// lines: an order that staging drops has none, so nothing dangles
		lines = lines[:0]
		dropped := h.orderLog.action(ok) == ActionDrop
		if !dropped {
			nl := 1 + pick(r, segmentLines[seg])
			for tries := 0; len(lines) < nl && tries < 4*nl; tries++ {
				p := h.cat.sample(r, d)
				if p == nil || slices.ContainsFunc(lines, func(l line) bool { return l.p == p }) {
					continue
				}
				u := r.Float64()
				qty := 1 + int64(u*u*float64(segmentUnits[seg]))
				disc := int64(math.Round(float64(p.priceC*qty) * rate))
				lines = append(lines, line{p: p, qty: qty, discC: disc, product: strconv.FormatInt(p.id, 10), price: p.priceC})
			}
		}
		subtotal, discount := int64(0), int64(0)
		for _, l := range lines {
			subtotal += l.price*l.qty - l.discC
			discount += l.discC
		}
		shipping := int64(0)
		if seg != 1 && subtotal < 7500 {
			shipping = []int64{499, 699, 999}[r.IntN(3)]
		}

		customerID := strconv.FormatInt(c.id, 10)
		switch ok {
		case odStatusNoise:
			status = noisy(r, status)
		case odNullCustomer:
			customerID = ""
		case odUnknownCustomer:
			customerID = h.unknownID()
		case odNegativeShipping:
			shipping = -int64(199 + r.IntN(800))
		}
		campID := ""
		if camp != nil {
			campID = strconv.FormatInt(camp.id, 10)
		}
		h.orderLog.add(ok, oid)
		rec := []string{oid, customerID, ts.Format(tsLayout), status, channel, campID, payment, money(shipping), money(discount)}
		if err := h.orders.write(rec, ok == odDuplicate); err != nil {
			return err
		}

		if len(lines) == 0 {
			continue
		}
		ik := itemKind(ok)
		dirty := r.IntN(len(lines))
		for j, l := range lines {
			h.nextItem++
			iid := strconv.FormatInt(h.nextItem, 10)
			k := 0
			if j == dirty {
				k = ik
			}
			qty, price := l.qty, l.price
			switch k {
			case idUnknownProduct:
				l.product = h.unknownID()
			case idNonPositiveQuantity:
				qty = -int64(r.IntN(2)) // 0 or -1
			case idNonPositivePrice:
				price = -int64(r.IntN(2)) * price // 0.00 or negative
			}
			h.itemLog.add(k, iid)
			rec := []string{iid, oid, l.product, strconv.FormatInt(qty, 10), money(price), money(l.discC)}
			if err := h.items.write(rec, k == idDuplicate); err != nil {
				return err
			}
		}
	}
	return nil
}
