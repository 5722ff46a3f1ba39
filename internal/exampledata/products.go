package exampledata

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

type category struct {
	name   string
	subs   []string
	brands []string
	weight float64     // share of the catalogue
	minC   int64       // price range in cents
	maxC   int64       //
	season [13]float64 // demand by month
}

var categories = []category{
	{"Electronics", []string{"Headphones", "Smartphones", "Laptops", "Smart Home", "Cameras"},
		[]string{"Voltix", "Nordtek", "Auralis", "Pixelon", "Quantum"}, 0.20, 1999, 149999,
		[13]float64{0, .8, .8, .85, .85, .9, .9, .95, 1, .95, 1.05, 1.9, 2.2}},
	{"Home & Kitchen", []string{"Cookware", "Appliances", "Bedding", "Decor"},
		[]string{"Hearthly", "CasaNova", "Ironwood", "Lumen & Co"}, 0.19, 999, 49999,
		[13]float64{0, .9, .85, .95, .95, 1, .95, .95, 1, 1, 1, 1.3, 1.6}},
	{"Clothing", []string{"Outerwear", "Tops", "Footwear", "Accessories"},
		[]string{"Threadline", "Urbane", "Northpeak", "Cotton Field"}, 0.22, 1299, 24999,
		[13]float64{0, .8, .8, 1.1, 1.15, 1.05, .95, .9, 1.1, 1.15, 1.1, 1.3, 1.4}},
	{"Sports & Outdoors", []string{"Fitness", "Camping", "Cycling", "Team Sports"},
		[]string{"Trailforge", "Apex Motion", "Summit", "Kinetic"}, 0.15, 1499, 89999,
		[13]float64{0, 1.2, .9, 1, 1.1, 1.2, 1.3, 1.3, 1.1, .9, .85, 1, 1.2}},
	{"Books", []string{"Fiction", "Non-Fiction", "Children", "Cookbooks"},
		[]string{"Penrose Press", "Bluefield", "Inkwell", "Harbor House"}, 0.12, 599, 5999,
		[13]float64{0, 1, .95, .95, .95, 1, 1.05, 1.1, 1.05, 1, 1, 1.3, 1.5}},
	{"Beauty", []string{"Skincare", "Makeup", "Fragrance", "Hair Care"},
		[]string{"Lumina", "Velvet Bloom", "Purely", "Maison Rose"}, 0.12, 699, 14999,
		[13]float64{0, .9, 1.3, .95, .95, 1.15, .95, .95, .95, .95, 1, 1.4, 1.8}},
}

type product struct {
	id         int64
	name       string
	cat        int
	sub        string
	brand      string
	priceC     int64
	costC      int64
	active     bool
	deleted    bool
	updated    time.Time
	popularity float64
	dirt       int
}

const (
	pdDuplicate = iota + 1
	pdCategoryNoise
	pdNullPrice
	pdNonPositivePrice
)

var productDirt = []dirtKind{
	{"duplicate", ActionDedupe, "*", "the row appears twice, byte for byte; keep one", 0.0015},
	{"category_case_whitespace", ActionFix, "category", "trim, then match case-insensitively to one of the 6 categories", 0.003},
	{"null_price", ActionDrop, "price", "price is empty (required)", 0.0015},
	{"non_positive_price", ActionDrop, "price", "price <= 0", 0.0015},
}

// catalog is the product master and the samplers built from it.
type catalog struct {
	products []product
	byCat    [][]int     // sellable product indexes per category
	cumByCat [][]float64 // cumulative popularity per category
}

// sellable products may be ordered, viewed and stocked: active, and not a
// row that staging drops.
func (p *product) sellable() bool {
	return p.active && !p.deleted && p.dirt != pdNullPrice && p.dirt != pdNonPositivePrice
}

func newCatalog(seed uint64, n int) *catalog {
	r := newRand(seed, streamProducts, 1)
	f := newFaker(seed, streamProducts, 1)
	weights := make([]float64, len(categories))
	for i, c := range categories {
		weights[i] = c.weight
	}
	c := &catalog{products: make([]product, n)}
	for i := range c.products {
		ci := i
		if i >= len(categories) {
			ci = pick(r, weights)
		}
		cat := &categories[ci]
		sub := cat.subs[r.IntN(len(cat.subs))]
		brand := cat.brands[r.IntN(len(cat.brands))]
		// log-uniform prices, ending in .99
		lo, hi := math.Log(float64(cat.minC)), math.Log(float64(cat.maxC))
		price := int64(math.Exp(lo+r.Float64()*(hi-lo)))/100*100 + 99
		margin := 0.35 + r.Float64()*0.35
		name := fmt.Sprintf("%s %s %d %s", brand, singular(sub), 100+r.IntN(900), title(f.ProductSuffix()))
		c.products[i] = product{
			id: int64(i + 1), name: name, cat: ci, sub: sub, brand: brand,
			priceC: price, costC: int64(float64(price) * (1 - margin)),
			active:     r.Float64() >= 0.03,
			updated:    time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Second),
			popularity: pareto(r, 1.3, 40),
		}
	}
	picked := preselect(newRand(seed, streamDirt, 1), n, productDirt, nil)
	for i, k := range picked {
		c.products[i].dirt = k
	}
	c.index()
	return c
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss"):
		return s[:len(s)-1]
	}
	return s
}

// index rebuilds the per-category samplers over sellable products.
func (c *catalog) index() {
	c.byCat = make([][]int, len(categories))
	c.cumByCat = make([][]float64, len(categories))
	for i := range c.products {
		p := &c.products[i]
		if !p.sellable() {
			continue
		}
		c.byCat[p.cat] = append(c.byCat[p.cat], i)
		prev := 0.0
		if k := len(c.cumByCat[p.cat]); k > 0 {
			prev = c.cumByCat[p.cat][k-1]
		}
		c.cumByCat[p.cat] = append(c.cumByCat[p.cat], prev+p.popularity)
	}
}

// sample draws a sellable product for a date: category by its seasonal
// demand, then product by popularity.
func (c *catalog) sample(r *rand.Rand, d time.Time) *product {
	var w [6]float64 // one per category
	for i := range categories {
		if len(c.byCat[i]) > 0 {
			w[i] = categories[i].weight * categories[i].season[d.Month()]
		}
	}
	ci := pick(r, w[:len(categories)])
	j := cumPick(r, c.cumByCat[ci], len(c.cumByCat[ci]))
	if j < 0 {
		return nil
	}
	return &c.products[c.byCat[ci][j]]
}

// applyDay applies day d's catalogue changes: a few price changes effective
// at midnight, and now and then an inactive product purged from the export.
func (c *catalog) applyDay(seed uint64, d int) {
	r := newRand(seed, streamProductChanges, d)
	date := asOf(d)
	var candidates []int
	for i := range c.products {
		if c.products[i].sellable() {
			candidates = append(candidates, i)
		}
	}
	k := stochasticRound(r, float64(len(candidates))*0.004)
	for ; k > 0 && len(candidates) > 0; k-- {
		j := r.IntN(len(candidates))
		p := &c.products[candidates[j]]
		candidates = append(candidates[:j], candidates[j+1:]...)
		factor := 0.8 + r.Float64()*0.4
		np := int64(float64(p.priceC)*factor)/100*100 + 99
		if np <= p.costC {
			np = p.costC/100*100 + 199
		}
		if np == p.priceC {
			np += 100
		}
		p.priceC = np
		p.updated = date
	}
	if r.Float64() < 0.15 {
		var inactive []int
		for i := range c.products {
			if !c.products[i].active && !c.products[i].deleted {
				inactive = append(inactive, i)
			}
		}
		if len(inactive) > 0 {
			c.products[inactive[r.IntN(len(inactive))]].deleted = true
		}
	}
}

func money(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return sign + strconv.FormatInt(c/100, 10) + "." + fmt.Sprintf("%02d", c%100)
}

var productColumns = []string{"product_id", "product_name", "category", "subcategory", "brand", "price", "cost", "is_active", "updated_at"}

func (c *catalog) write(out *table, seed uint64, log *dirtLog) error {
	for i := range c.products {
		p := &c.products[i]
		if p.deleted {
			continue
		}
		id := strconv.FormatInt(p.id, 10)
		cat := categories[p.cat].name
		price := money(p.priceC)
		switch p.dirt {
		case pdCategoryNoise:
			cat = noisy(rowRand(seed, streamProducts, p.id), cat)
		case pdNullPrice:
			price = ""
		case pdNonPositivePrice:
			price = money(-int64(rowRand(seed, streamProducts, p.id).IntN(2)) * p.priceC)
		}
		rec := []string{id, p.name, cat, p.sub, p.brand, price, money(p.costC),
			strconv.FormatBool(p.active), p.updated.Format(tsLayout)}
		log.add(p.dirt, id)
		if err := out.write(rec, p.dirt == pdDuplicate); err != nil {
			return err
		}
	}
	return nil
}
