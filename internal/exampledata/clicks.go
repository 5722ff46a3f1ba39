package exampledata

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

var eventTypes = []string{"page_view", "product_view", "add_to_cart", "checkout", "purchase"}
var devices = []string{"desktop", "mobile", "tablet"}

const (
	kdDuplicate = iota + 1
	kdEventTypeNoise
	kdDeviceNoise
	kdNullEventType
	kdNullTimestamp
	kdUnknownProduct
)

var clickDirt = []dirtKind{
	{"duplicate", ActionDedupe, "*", "the row appears twice, byte for byte; keep one", 0.002},
	{"event_type_case_whitespace", ActionFix, "event_type", "trim and lower-case; then one of page_view|product_view|add_to_cart|checkout|purchase", 0.0015},
	{"device_case_whitespace", ActionFix, "device", "trim and lower-case; then one of desktop|mobile|tablet", 0.001},
	{"null_event_type", ActionDrop, "event_type", "event_type is empty (required)", 0.001},
	{"null_event_timestamp", ActionDrop, "event_timestamp", "event_timestamp is empty (required)", 0.0005},
	{"unknown_product_id", ActionDrop, "product_id", "product_id is set and not in raw_products", 0.001},
}

var clickColumns = []string{"event_id", "session_id", "customer_id", "product_id", "event_type", "event_timestamp", "device", "referrer", "campaign_id", "page_url"}

var referrers = []string{"direct", "google", "bing", "facebook", "instagram", "pinterest", "affiliate"}
var referrerWeights = []float64{0.30, 0.34, 0.05, 0.11, 0.09, 0.04, 0.07}

// campaignReferrer is where a campaign's visitors come from.
var campaignReferrer = map[string]string{
	"Email": "email", "Social": "instagram", "Search": "google_ads", "Display": "display_network", "Affiliate": "affiliate",
}

type event struct {
	session  int
	kind     int
	ts       time.Time
	product  *product
	customer *customer
}

type session struct {
	start    time.Time
	device   string
	referrer string
	campaign string
	id       int64
}

// writeClicks writes exactly n events of date d, grouped in sessions that
// walk the funnel page_view -> product_view -> add_to_cart -> checkout ->
// purchase, in timestamp order. kind returns the dirt kind of the next event.
func (h *history) writeClicks(r *rand.Rand, d time.Time, n int, kind func() int) error {
	active := activeCampaigns(h.camps, d)
	last := d.Add(24*time.Hour - time.Second)
	var sessions []session
	var events []event
	for len(events) < n {
		si := len(sessions)
		s := session{
			start:  d.Add(time.Duration(pick(r, hourWeights))*time.Hour + time.Duration(r.IntN(3600))*time.Second),
			device: devices[pick(r, []float64{0.45, 0.45, 0.10})],
		}
		if len(active) > 0 && r.Float64() < 0.3 {
			c := active[r.IntN(len(active))]
			s.referrer, s.campaign = campaignReferrer[c.channel], strconv.FormatInt(c.id, 10)
		} else {
			s.referrer = referrers[pick(r, referrerWeights)]
		}
		sessions = append(sessions, s)
		var cust *customer
		if r.Float64() < 0.55 {
			cust = h.crm.sample(r, d)
		}
		t := s.start
		add := func(kind int, p *product) bool {
			if len(events) >= n {
				return false
			}
			events = append(events, event{session: si, kind: kind, ts: t, product: p, customer: cust})
			t = t.Add(time.Duration(5+r.IntN(175)) * time.Second)
			if t.After(last) {
				t = last
			}
			return true
		}
		add(0, nil)
		var viewed *product
		for views := 1 + int(r.ExpFloat64()*1.5); views > 0; views-- {
			if r.Float64() < 0.4 && !add(0, nil) {
				break
			}
			viewed = h.cat.sample(r, d)
			if !add(1, viewed) {
				break
			}
		}
		if viewed != nil && r.Float64() < 0.28 && add(2, viewed) && r.Float64() < 0.5 && add(3, nil) && r.Float64() < 0.75 {
			add(4, nil)
		}
	}
	// sessions and events in time order, so ids follow time
	order := make([]int, len(sessions))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return sessions[a].start.Compare(sessions[b].start) })
	for _, i := range order {
		h.nextSess++
		sessions[i].id = h.nextSess
	}
	slices.SortStableFunc(events, func(a, b event) int {
		if c := a.ts.Compare(b.ts); c != 0 {
			return c
		}
		return int(sessions[a.session].id - sessions[b.session].id)
	})
	for _, e := range events {
		h.nextEvent++
		id := strconv.FormatInt(h.nextEvent, 10)
		s := &sessions[e.session]
		k := kind()
		cust, prod := "", ""
		if e.customer != nil {
			cust = strconv.FormatInt(e.customer.id, 10)
		}
		if e.product != nil {
			prod = strconv.FormatInt(e.product.id, 10)
		}
		et, ts, dev := eventTypes[e.kind], e.ts.Format(tsLayout), s.device
		switch k {
		case kdEventTypeNoise:
			et = noisy(r, et)
		case kdDeviceNoise:
			dev = noisy(r, dev)
		case kdNullEventType:
			et = ""
		case kdNullTimestamp:
			ts = ""
		case kdUnknownProduct:
			prod = h.unknownID()
		}
		url := pageURL(e, prod)
		h.clickLog.add(k, id)
		rec := []string{id, strconv.FormatInt(s.id, 10), cust, prod, et, ts, dev, s.referrer, s.campaign, url}
		if err := h.clicks.write(rec, k == kdDuplicate); err != nil {
			return err
		}
	}
	return nil
}

func pageURL(e event, prod string) string {
	switch e.kind {
	case 1, 2:
		if e.kind == 2 {
			return "/cart/add/" + prod
		}
		return "/p/" + prod
	case 3:
		return "/checkout"
	case 4:
		return "/checkout/complete"
	}
	if prod != "" {
		return "/p/" + prod
	}
	if e.session%3 == 0 {
		return "/"
	}
	return "/c/" + strings.ReplaceAll(strings.ToLower(categories[e.session%len(categories)].name), " & ", "-")
}
