package cli

import (
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// ephemeralChain is slow (a table that takes half a second) <- e1 <- e2
// (ephemeral) <- m: with 4 threads, m would start at once if it did not
// wait for what it reads through the ephemeral models.
func ephemeralChain(slow string) map[string]string {
	return map[string]string{
		"project.yaml":    "name: ep\n",
		"models/slow.sql": slow,
		"models/e1.sql":   `{{ config "materialized" "ephemeral" }}select id * 10 as id from {{ ref "slow" }}`,
		"models/e2.sql":   `{{ config "materialized" "ephemeral" }}select id + 1 as id from {{ ref "e1" }}`,
		"models/m.sql":    `{{ config "materialized" "table" }}select id from {{ ref "e2" }}`,
	}
}

const slowTable = `{{ config "materialized" "table" }}select 1 as id from (select pg_sleep(0.5)) s`

// TestEphemeralChainIsScheduled: a model that reads a table through
// ephemeral models is built after it (in build, run and retry), and is
// skipped, not failed, when that table fails.
func TestEphemeralChainIsScheduled(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, ephemeralChain(slowTable))
	must(t, 0, dir, "build", "--threads", "4")
	if got := queryInt(t, url, "select id from public.m"); got != 11 {
		t.Errorf("m = %d, want 11", got)
	}

	// A failing table skips what reads it through the ephemeral models.
	url = pgtest.DB(t)
	dir = writeProject(t, url, ephemeralChain(`{{ config "materialized" "table" }}select no_such_column as id`))
	out := must(t, 1, dir, "run", "--threads", "4")
	res := results(t, dir)
	if r := res["model.ep.m"]; r.Status != "skipped" || !strings.Contains(r.Message, "model.ep.slow failed") {
		t.Errorf("m: %s (%s), want skipped because model.ep.slow failed\n%s", r.Status, r.Message, out)
	}
	if !strings.Contains(out, "PASS=0 WARN=0 FAIL=0 ERROR=1 SKIP=1") {
		t.Errorf("summary: want one error and one skip:\n%s", out)
	}

	// retry runs the failed table and the skipped model, in that order.
	writeFile(t, dir, "models/slow.sql", slowTable)
	must(t, 0, dir, "retry", "--threads", "4")
	if got := queryInt(t, url, "select id from public.m"); got != 11 {
		t.Errorf("after retry, m = %d, want 11", got)
	}
}

// TestRunSelectingOnlyEphemeralModels: a selection that matches only
// ephemeral models says so, and what to select instead, not that it
// matched no models; it connects to nothing, since nothing is built.
func TestRunSelectingOnlyEphemeralModels(t *testing.T) {
	dir := writeProject(t, "", ephemeralChain(slowTable))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-s", "e1"}, `Nothing to do: the selection matches only the ephemeral model "e1", which is inlined into the models that ref it and builds nothing on its own; select those models instead (-s e1+ selects it and what reads it).`},
		{[]string{"build", "-s", "e2 e1"}, `Nothing to do: the selection matches only the ephemeral models "e1", "e2", which are inlined into the models that ref them and build nothing on their own; select those models instead (-s e1+ selects "e1" and what reads it).`},
		{[]string{"run", "-s", "config.materialized:view"}, "Nothing to do: the selection matches no models."},
		{[]string{"seed", "-s", "e1"}, "Nothing to do: the selection matches no seeds."},
	} {
		code, out := strata(t, dir, c.args...)
		if code != ExitOK || !strings.Contains(out, c.want) {
			t.Errorf("strata %s: exit %d, %q; want 0 and %q", strings.Join(c.args, " "), code, out, c.want)
		}
	}
}
