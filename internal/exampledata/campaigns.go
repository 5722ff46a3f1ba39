package exampledata

import (
	"strconv"
	"time"
)

type campaign struct {
	id         int64
	name       string
	channel    string
	start, end time.Time
	budgetC    int64
	noisy      bool
}

func (c *campaign) active(d time.Time) bool { return !d.Before(c.start) && !d.After(c.end) }

var campaignChannels = []string{"Email", "Social", "Search", "Display", "Affiliate"}

// The 25 campaigns of the marketing calendar: name, first day, length in days.
// The count does not scale: it is a calendar, not a volume.
var campaignPlan = []struct {
	name  string
	start string
	days  int
}{
	{"New Year Kickoff", "2024-01-02", 14}, {"Winter Clearance", "2024-01-15", 21},
	{"Valentine's Day", "2024-02-01", 14}, {"Presidents Day Sale", "2024-02-14", 7},
	{"Spring Refresh", "2024-03-10", 21}, {"Easter Deals", "2024-03-20", 12},
	{"Earth Day Eco", "2024-04-15", 10}, {"Mother's Day", "2024-04-28", 14},
	{"Memorial Day Sale", "2024-05-20", 9}, {"Father's Day", "2024-06-03", 14},
	{"Summer Kickoff", "2024-06-15", 21}, {"Summer Deal Days", "2024-07-08", 10},
	{"Back to School", "2024-07-25", 30}, {"Labor Day Sale", "2024-08-26", 9},
	{"Fall Fashion", "2024-09-10", 21}, {"Tech Week", "2024-10-01", 10},
	{"Halloween Treats", "2024-10-18", 14}, {"Singles Day", "2024-11-08", 5},
	{"Early Black Friday", "2024-11-15", 14}, {"Black Friday", "2024-11-29", 3},
	{"Cyber Monday", "2024-12-02", 2}, {"Holiday Gift Guide", "2024-12-04", 16},
	{"Last Minute Gifts", "2024-12-18", 6}, {"Boxing Week", "2024-12-26", 10},
	{"New Year 2025", "2025-01-02", 21},
}

var campaignDirt = []dirtKind{
	{"channel_case_whitespace", ActionFix, "channel", "trim, then match case-insensitively to Email|Social|Search|Display|Affiliate", 0},
}

func newCampaigns(seed uint64) []campaign {
	r := newRand(seed, streamCampaigns, 1)
	out := make([]campaign, len(campaignPlan))
	for i, p := range campaignPlan {
		start, _ := time.Parse(dateLayout, p.start)
		budget := int64(5000+r.IntN(45000)) * 100
		if p.days <= 3 {
			budget *= 3 // the big shopping days get the big budgets
		}
		out[i] = campaign{
			id: int64(i + 1), name: p.name, channel: campaignChannels[r.IntN(len(campaignChannels))],
			start: start, end: start.AddDate(0, 0, p.days-1), budgetC: budget,
		}
	}
	out[r.IntN(len(out))].noisy = true // exactly one row of casing noise
	return out
}

var campaignColumns = []string{"campaign_id", "campaign_name", "channel", "start_date", "end_date", "budget"}

func writeCampaigns(out *table, seed uint64, camps []campaign, log *dirtLog) error {
	for _, c := range camps {
		id := strconv.FormatInt(c.id, 10)
		ch := c.channel
		kind := 0
		if c.noisy {
			ch, kind = noisy(rowRand(seed, streamCampaigns, c.id), ch), 1
		}
		log.add(kind, id)
		if err := out.write([]string{id, c.name, ch, c.start.Format(dateLayout), c.end.Format(dateLayout), money(c.budgetC)}, false); err != nil {
			return err
		}
	}
	return nil
}
