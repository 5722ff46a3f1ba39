package exampledata

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

var segments = []string{"Consumer", "Corporate", "Home Office"}

// segment behaviour: share of customers, order frequency, basket lines
// (probabilities of 1..5 lines), return rate, units per line.
var (
	segmentShare = []float64{0.52, 0.30, 0.18}
	segmentFreq  = []float64{1.0, 1.7, 1.25}
	segmentLines = [][]float64{
		{0.50, 0.25, 0.13, 0.08, 0.04},
		{0.18, 0.24, 0.25, 0.18, 0.15},
		{0.34, 0.28, 0.19, 0.12, 0.07},
	}
	segmentReturn = []float64{0.075, 0.03, 0.05}
	segmentUnits  = []int{2, 8, 4} // max units per line
)

var freeMail = []string{"gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "proton.me"}

type customer struct {
	id                          int64
	first, last, email, phone   string
	street, city, state, postal string
	segment                     int
	signup                      time.Time
	updated                     time.Time
	dirt                        int
}

const (
	cdDuplicate = iota + 1
	cdSegmentNoise
	cdEmailUpper
	cdNullEmail
	cdMalformedEmail
)

var customerDirt = []dirtKind{
	{"duplicate", ActionDedupe, "*", "the row appears twice, byte for byte; keep one", 0.002},
	{"segment_case_whitespace", ActionFix, "segment", "trim, then match case-insensitively to Consumer|Corporate|Home Office", 0.002},
	{"email_upper_case", ActionFix, "email", "email in upper case (possibly padded): trim and lower-case it", 0.0015},
	{"null_email", ActionDrop, "email", "email is empty (required)", 0.001},
	{"malformed_email", ActionDrop, "email", "after trim+lower, email does not match ^[^@ ]+@[^@ ]+\\.[^@ ]+$", 0.0015},
}

// crm is the customer master plus the order-propensity sampler. Customer ids
// are issued in signup order, so the customers who exist on a date are a
// prefix of the slice.
type crm struct {
	customers []customer
	cum       []float64 // cumulative order propensity; 0 for rows staging drops
	seq       int       // email disambiguator
}

func (c *customer) droppable() bool { return c.dirt == cdNullEmail || c.dirt == cdMalformedEmail }

func newCRM(seed uint64, n int) *crm {
	r := newRand(seed, streamCustomers, 1)
	f := newFaker(seed, streamCustomers, 1)
	// signups from 2021 to the end of 2024, growing over time
	first := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	span := baseEnd.Sub(first).Hours() / 24
	days := make([]int, n)
	for i := range days {
		days[i] = int(span * (1 - (1-r.Float64())*(1-r.Float64())*0.999)) // skewed late
	}
	days[0] = 0
	sort.Ints(days)
	m := &crm{}
	for i := range n {
		signup := first.AddDate(0, 0, days[i])
		c := m.newCustomer(r, f, int64(i+1), signup)
		// some customers edited their profile after signing up
		c.updated = signup.Add(time.Duration(r.Int64N(int64(12 * time.Hour))))
		if r.Float64() < 0.3 {
			c.updated = signup.Add(time.Duration(r.Float64() * float64(baseEnd.Add(24*time.Hour-time.Second).Sub(signup))))
		}
		c.updated = c.updated.Truncate(time.Second)
		m.customers = append(m.customers, c)
	}
	picked := preselect(newRand(seed, streamDirt, 2), n, customerDirt, nil)
	for i, k := range picked {
		m.customers[i].dirt = k
	}
	for i := range m.customers {
		m.push(r, i)
	}
	return m
}

func (m *crm) newCustomer(r *rand.Rand, f *gofakeit.Faker, id int64, signup time.Time) customer {
	c := customer{id: id, signup: signup, segment: pick(r, segmentShare)}
	c.first, c.last = f.FirstName(), f.LastName()
	m.seq++
	local := letters(c.first) + "." + letters(c.last)
	if r.IntN(3) == 0 {
		local += strconv.Itoa(m.seq % 1000)
	}
	domain := freeMail[r.IntN(len(freeMail))]
	if c.segment == 1 {
		domain = strings.ToLower(letters(f.LastName())) + "-" + []string{"corp", "group", "llc", "inc"}[r.IntN(4)] + ".com"
	}
	c.email = local + "@" + domain
	c.phone = f.PhoneFormatted()
	m.moveAddress(f, &c)
	return c
}

func (m *crm) moveAddress(f *gofakeit.Faker, c *customer) {
	c.street = f.Street()
	c.city = f.City()
	c.state = f.StateAbr()
	c.postal = f.Zip()
}

// letters keeps the lower-case ASCII letters of a name, for e-mail addresses.
func letters(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "user"
	}
	return b.String()
}

// push appends customer i's propensity to the sampler.
func (m *crm) push(r *rand.Rand, i int) {
	c := &m.customers[i]
	w := segmentFreq[c.segment] * pareto(r, 1.6, 60)
	if c.droppable() {
		w = 0 // staging drops them, so nothing may refer to them
	}
	prev := 0.0
	if i > 0 {
		prev = m.cum[i-1]
	}
	m.cum = append(m.cum, prev+w)
}

// existing is how many customers had signed up by the end of date d.
func (m *crm) existing(d time.Time) int {
	return sort.Search(len(m.customers), func(i int) bool { return m.customers[i].signup.After(d) })
}

// sample draws a customer who exists on date d, weighted by propensity.
func (m *crm) sample(r *rand.Rand, d time.Time) *customer {
	i := cumPick(r, m.cum, m.existing(d))
	if i < 0 {
		return nil
	}
	return &m.customers[i]
}

// applyDay applies day d's changes: new signups, then moves and segment
// changes of existing customers, each with updated_at on that date.
func (m *crm) applyDay(seed uint64, d int, baseN int) {
	r := newRand(seed, streamCustomerChanges, d)
	f := newFaker(seed, streamCustomerChanges, d)
	date := asOf(d)
	stamp := func() time.Time {
		return date.Add(time.Duration(r.Int64N(int64(24 * time.Hour)))).Truncate(time.Second)
	}
	existing := len(m.customers)
	changes := stochasticRound(r, float64(existing)*0.002)
	seen := map[int]bool{}
	for ; changes > 0; changes-- {
		i := r.IntN(existing)
		if seen[i] {
			continue
		}
		seen[i] = true
		c := &m.customers[i]
		switch r.IntN(3) {
		case 0: // segment change
			c.segment = (c.segment + 1 + r.IntN(2)) % 3
		case 1: // move
			m.moveAddress(f, c)
		default: // both
			c.segment = (c.segment + 1 + r.IntN(2)) % 3
			m.moveAddress(f, c)
		}
		c.updated = stamp()
	}
	newcomers := stochasticRound(r, float64(baseN)*0.0025)
	for range newcomers {
		c := m.newCustomer(r, f, int64(len(m.customers)+1), date)
		c.updated = stamp()
		c.dirt = bernoulli(r, customerDirt, nil)
		m.customers = append(m.customers, c)
		m.push(r, len(m.customers)-1)
	}
}

var customerColumns = []string{"customer_id", "first_name", "last_name", "email", "phone", "address", "city", "state", "postal_code", "country", "segment", "signup_date", "updated_at"}

func (m *crm) write(out *table, seed uint64, log *dirtLog) error {
	for i := range m.customers {
		c := &m.customers[i]
		id := strconv.FormatInt(c.id, 10)
		email, segment := c.email, segments[c.segment]
		rr := rowRand(seed, streamCustomers, c.id)
		switch c.dirt {
		case cdSegmentNoise:
			segment = noisy(rr, segment)
		case cdEmailUpper:
			email = strings.ToUpper(email)
			if rr.IntN(2) == 0 {
				email = " " + email
			}
		case cdNullEmail:
			email = ""
		case cdMalformedEmail:
			at := strings.IndexByte(email, '@')
			switch rr.IntN(4) {
			case 0:
				email = email[:at] + "." + email[at+1:] // no @
			case 1:
				email = email[:at+1] // no domain
			case 2:
				email = email[:at] + "@" + email[at+1:strings.LastIndexByte(email, '.')] // no TLD
			default:
				email = strings.Replace(email, ".", " ", 1) // a space in it
				if !strings.Contains(email[:strings.IndexByte(email, '@')], " ") {
					email = "x " + email
				}
			}
		}
		rec := []string{id, c.first, c.last, email, c.phone, c.street, c.city, c.state, c.postal,
			"United States", segment, c.signup.Format(dateLayout), c.updated.Format(tsLayout)}
		log.add(c.dirt, id)
		if err := out.write(rec, c.dirt == cdDuplicate); err != nil {
			return err
		}
	}
	return nil
}
