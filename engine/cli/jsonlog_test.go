package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
	localDir := writeProject(t, "", map[string]string{"project.yaml": "name: pl\n"})
	cases := []struct {
		args []string
		code int
		want []string // each a prefix of one event's message, in order
	}{
		{[]string{"validate"}, 0, []string{"OK: 1 models"}},
		{[]string{"compile"}, 0, []string{"Compiled 1 node "}},
		{[]string{"debug"}, 0, []string{"project: pj ", "target:  t ", "connection: OK ", "scratch relations: none"}},
		{[]string{"docs", "generate", "--offline"}, 0, []string{"Wrote target/docs/"}},
		{[]string{"clean"}, 0, []string{"Removed target/"}},
		// db is for a local target: the project's is not one.
		{[]string{"db", "status"}, 2, nil},
		{[]string{"--project-dir", localDir, "db", "status"}, 3, []string{"not created yet"}},
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

// jsonRun runs strata with --log-format json, checks that every line of
// stdout is a JSON object and returns the exit code and the events.
func jsonRun(t *testing.T, dir string, args ...string) (int, []map[string]any) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), append([]string{"--project-dir", dir, "--log-format", "json"}, args...), &stdout, &stderr)
	var events []map[string]any
	if strings.TrimSpace(stdout.String()) == "" {
		return code, nil
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("%v: not a JSON object: %q (%v)", args, line, err)
			continue
		}
		events = append(events, ev)
	}
	return code, events
}

// Under --log-format json every line of stdout is a JSON object, and an
// error's message names its file as the text output does.
func TestJSONLogIsOnlyJSON(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: p7\non-run-end: ['select 1']\n",
		"models/bad.sql": "select nosuch",
		"models/a.sql":   "select 1 as id",
	})
	code, events := jsonRun(t, dir, "run")
	if code != 1 {
		t.Fatalf("run exited %d, want 1: %v", code, events)
	}
	var badMsg, running string
	for _, ev := range events {
		msg, _ := ev["message"].(string)
		switch {
		case ev["event"] == "end" && ev["node"] == "model.p7.bad":
			badMsg = msg
		case strings.HasPrefix(msg, "Running "):
			running = msg
		}
	}
	if !strings.HasPrefix(badMsg, "models/bad.sql:1:8: ") || !strings.Contains(badMsg, "(at line 1 of target/compiled/models/bad.sql)") {
		t.Errorf("the error's message is %q, want it to start with models/bad.sql:1:8: and give the compiled line", badMsg)
	}
	if running != "Running 2 nodes with 4 threads on target t" {
		t.Errorf("the Running line is %q", running)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "bad.sql"), []byte("select 1 as id"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, events := jsonRun(t, dir, "retry"); code != 0 {
		t.Errorf("retry exited %d: %v", code, events)
	}
	if code, events := jsonRun(t, dir, "retry"); code != 0 || len(events) != 1 || !strings.HasPrefix(fmt.Sprint(events[0]["message"]), "Nothing to retry") {
		t.Errorf("second retry exited %d: %v", code, events)
	}
}
