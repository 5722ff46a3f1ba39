package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestLeftoverRelationsWarned: a model switched to ephemeral, disabled, removed or
// moved by its alias left the relation strata built for it in the
// database, and build said nothing: readers went on reading its last
// build's rows. A run warns of each, naming it, the model and how to
// drop it; once it is dropped (or the model is built there again) it
// says nothing. A build where nothing changed warns of nothing.
func TestLeftoverRelationsWarned(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":    "name: lo\nmodels: {'.': {materialized: table}}\n",
		"models/eph.sql":  "select 1 as id",
		"models/gone.sql": "select 2 as id",
		"models/mv.sql":   "{{ config \"materialized\" \"view\" }}select 3 as id",
		"models/off.sql":  "select 4 as id",
		"models/top.sql":  `select id from {{ ref "eph" }}`,
	})
	out := must(t, 0, dir, "build")
	if strings.Contains(out, "warning:") {
		t.Fatalf("a first build warns:\n%s", out)
	}
	out = must(t, 0, dir, "build")
	if strings.Contains(out, "warning:") {
		t.Fatalf("a build where nothing changed warns:\n%s", out)
	}

	writeFile(t, dir, "models/eph.sql", "{{ config \"materialized\" \"ephemeral\" }}\nselect 1 as id")
	if err := os.Remove(filepath.Join(dir, "models", "gone.sql")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "models/mv.sql", "{{ config \"materialized\" \"view\" \"alias\" \"mv2\" }}select 3 as id")
	writeFile(t, dir, "models/off.yml", "models:\n  - name: off\n    config: {enabled: false}\n")
	out = must(t, 0, dir, "build")
	mustContain(t, out,
		`warning: table public.eph was built for model eph, which is now ephemeral (models/eph.sql:1:`,
		`warning: table public.gone was built for model gone, which is no longer in the project (a renamed one is removed and added): strata neither builds nor drops it, and its readers read the rows of its last build; once nothing reads it, drop it (drop table "public"."gone")`,
		`warning: view public.mv was built for model mv, which is now built as public.mv2 (models/mv.sql:1:`,
		`: strata neither builds nor drops it, and its readers read it as its last build defined it; once nothing reads it, drop it (drop view "public"."mv")`,
		`warning: table public.off was built for model off, which is disabled (enabled: false at models/off.yml:3:`,
	)
	if got := strings.Count(out, "warning:"); got != 4 {
		t.Errorf("%d warnings, want 4:\n%s", got, out)
	}
	// Each is said before the run's first node.
	if strings.Index(out, "warning: table public.gone") > strings.Index(out, "Running ") {
		t.Errorf("the warnings come after the run started:\n%s", out)
	}

	// The records of the removed and the ephemeral model stay while
	// their tables do: said again; the moved one is recorded where it is
	// built now.
	out = must(t, 0, dir, "build")
	mustContain(t, out, `warning: table public.gone was built for model gone`, `warning: table public.eph was built for model eph`, `warning: table public.off was built for model off, which is disabled`)
	if got := strings.Count(out, "warning:"); got != 3 {
		t.Errorf("%d warnings, want 3 (mv is now recorded as built anew):\n%s", got, out)
	}
	// An index that has the dropped table's name is no relation left
	// behind (it is not to be dropped as a table).
	execSQL(t, url, `drop table "public"."gone"`, `drop table "public"."eph"`, `drop table "public"."off"`, `create index gone on public.top (id)`)
	out = must(t, 0, dir, "build")
	if strings.Contains(out, "warning:") {
		t.Errorf("a build warns of a relation that was dropped:\n%s", out)
	}
	// test builds nothing: it says nothing of relations; run does.
	if err := os.Remove(filepath.Join(dir, "models", "top.sql")); err != nil {
		t.Fatal(err)
	}
	out = must(t, 0, dir, "test")
	if strings.Contains(out, "warning:") {
		t.Errorf("test warns of relations:\n%s", out)
	}
	out = must(t, 0, dir, "run")
	mustContain(t, out, `warning: table public.top was built for model top, which is no longer in the project`)
}
