package postgres

import (
	"testing"
	"time"
)

// TestRunInfoTag: the run a run lock's statement names is read back from
// that statement as pg_stat_activity shows it, whatever the names hold
// (quotes, backslashes, the tag's own words); a statement without one,
// as an older strata's, names none.
func TestRunInfoTag(t *testing.T) {
	started := time.Date(2026, 12, 7, 2, 30, 1, 0, time.UTC)
	for _, r := range []RunInfo{
		{Project: "shop", Target: "prod", Command: "build", Started: started},
		{Project: "shop", Target: "prod", Env: "pr_1", Command: "env drop", Started: started},
		{Project: "o'brien", Target: `c:\dir`, Env: "' as project, 'x", Command: "seed", Started: started},
		{Project: "été", Target: "t", Command: "run", Started: started.In(time.FixedZone("x", 3600))},
	} {
		for _, stmt := range []string{
			"select pg_try_advisory_lock(hashtextextended($1, 0))" + r.tag(),
			"begin; set local lock_timeout = 0; select pg_advisory_lock(hashtextextended('strata:shop', 0))" + r.tag() + "; commit",
		} {
			got, ok := runInfo(stmt)
			if !ok || got.Project != r.Project || got.Target != r.Target || got.Env != r.Env || got.Command != r.Command || !got.Started.Equal(r.Started) {
				t.Errorf("%s: got %+v, %v; want %+v", stmt, got, ok, r)
			}
		}
	}
	if got, ok := runInfo("select pg_try_advisory_lock(hashtextextended($1, 0))"); ok {
		t.Errorf("a statement without the tag: got %+v", got)
	}
	r := RunInfo{Project: "shop", Target: "prod", Env: "pr_1", Command: "build", Started: started}
	if want := "strata build of project shop on environment pr_1 of target prod, started 2026-12-07 02:30:01 UTC"; r.String() != want {
		t.Errorf("String: %q, want %q", r.String(), want)
	}
}
