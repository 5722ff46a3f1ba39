package cli

import (
	"context"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
	"strata/engine/pgname"
)

// TestRunLockIsPerProject (issue 21): the run lock is named after the
// project ("strata:<project>"), so a run of another project on the same
// database never waits for it, while a run of the same project does.
func TestRunLockIsPerProject(t *testing.T) {
	url := pgtest.DB(t)
	one := writeProject(t, url, map[string]string{
		"project.yaml": "name: one\nmodels: {'.': {schema: one}}\n",
		"models/a.sql": "select 1 as id",
	})
	ctx := context.Background()
	holder := connect(t, url)
	// A run of project two is under way.
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(hashtextextended($1, 0))", pgname.RunLock("two")); err != nil {
		t.Fatal(err)
	}
	must(t, 0, one, "build", "--no-wait")
	// A run of project one is under way.
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(hashtextextended($1, 0))", pgname.RunLock("one")); err != nil {
		t.Fatal(err)
	}
	if code, out := strata(t, one, "build", "--no-wait"); code != ExitFailed || !strings.Contains(out, "another strata run holds target t (--no-wait was given)") {
		t.Errorf("a second run of one: exit %d\n%s", code, out)
	}
}
