package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestSeedColumnsChangeUnderAView: a seed whose columns change replaces its
// table although views read it; they are recreated on the new table, and one
// that no longer compiles fails the seed by name and changes nothing.
func TestSeedColumnsChangeUnderAView(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: sv\n",
		"seeds/s1.csv":  "id,name\n1,a\n",
		"models/m1.sql": `select * from {{ ref "s1" }}`,
	})
	setCSV := func(body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "seeds", "s1.csv"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must(t, 0, dir, "build")

	setCSV("id,name,extra\n1,a,x\n")
	must(t, 0, dir, "build")
	if got := queryInt(t, url, "select count(*) from public.m1 where extra = 'x'"); got != 1 {
		t.Errorf("m1 has %d rows with the new column", got)
	}

	setCSV("id,name,extra\nx1,a,x\n")
	must(t, 0, dir, "build")
	if got := queryInt(t, url, "select count(*) from public.m1 where id = 'x1'"); got != 1 {
		t.Errorf("m1 has %d rows with the retyped id", got)
	}

	// A view strata does not manage selects a column the CSV drops.
	execSQL(t, url, "create view public.hand as select name from public.s1")
	setCSV("id,extra\nx2,y\n")
	code, out := strata(t, dir, "seed")
	if code != 1 || !strings.Contains(out, `seed "s1": refusing to replace public.s1: view public.hand depends on it and cannot be recreated on the new version`) {
		t.Fatalf("seed exited %d:\n%s", code, out)
	}
	if got := queryInt(t, url, "select count(*) from public.hand where name = 'a'"); got != 1 {
		t.Errorf("the hand-made view has %d rows, want the old 1", got)
	}
	if got := queryInt(t, url, "select count(*) from public.m1 where id = 'x1'"); got != 1 {
		t.Errorf("m1 has %d old rows, want 1", got)
	}
}
