package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/pgtest"
)

// TestDebugScratchWhileARunIsConnected: debug calls a scratch relation
// stale only when no other strata session is connected to the database;
// while one is (a run loading a large seed over several connections
// commits its scratch table before the swap), it says a run may be using
// it.
func TestDebugScratchWhileARunIsConnected(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: dbg\n",
		"models/a.sql": "select 1 as id",
	})
	execSQL(t, url, "create table public.big__strata_new (id int)")
	out := must(t, 0, dir, "debug")
	mustContain(t, out, "scratch relations: 1 stale (a build leaves none behind", "table public.big__strata_new")

	// The first debug's own sessions leave pg_stat_activity a moment
	// after it closed them; counted, they made "2 other strata sessions".
	until(t, "the first debug's sessions end", func() bool {
		return queryInt(t, url, "select count(*) from pg_stat_activity where datname = current_database() and application_name = 'strata'") == 0
	})
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "strata"
	run, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close(context.Background())
	out = must(t, 0, dir, "debug")
	mustContain(t, out, "scratch relations: 1, while 1 other strata session is connected to this database: a run in progress may be using them", "table public.big__strata_new")
	if strings.Contains(out, "stale") {
		t.Errorf("called stale while a run is connected:\n%s", out)
	}
}
