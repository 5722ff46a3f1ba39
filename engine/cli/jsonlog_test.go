package cli

import (
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// Under --log-format json the commands that are not runs print their
// messages as "log" events too: every line of stdout is a JSON object.
func TestJSONLogForEveryCommand(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: pj\n",
		"models/a.sql": "select 1 as id",
	})
	cases := []struct {
		args []string
		code int
		want []string // each a prefix of one event's message, in order
	}{
		{[]string{"validate"}, 0, []string{"OK: 1 models"}},
		{[]string{"compile"}, 0, []string{"Compiled 1 node "}},
		{[]string{"debug"}, 0, []string{"project: pj ", "target:  t ", "connection: OK "}},
		{[]string{"docs", "generate", "--offline"}, 0, []string{"Wrote target/docs/"}},
		{[]string{"clean"}, 0, []string{"Removed target/"}},
		{[]string{"db", "status"}, 3, []string{"not created yet"}},
	}
	for _, c := range cases {
		code, events := jsonRun(t, dir, c.args...)
		if code != c.code {
			t.Errorf("%v exited %d, want %d: %v", c.args, code, c.code, events)
			continue
		}
		if len(events) != len(c.want) {
			t.Errorf("%v printed %d events, want %d: %v", c.args, len(events), len(c.want), events)
			continue
		}
		for i, ev := range events {
			msg, _ := ev["message"].(string)
			if ev["event"] != "log" || !strings.HasPrefix(msg, c.want[i]) {
				t.Errorf("%v: event %d is %v, want a log event starting %q", c.args, i, ev, c.want[i])
			}
		}
	}
}
