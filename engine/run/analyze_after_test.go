package run

import (
	"context"
	"strings"
	"testing"

	"strata/engine/adapter/postgres"
	"strata/engine/internal/pgtest"
	"strata/engine/manifest"
	"strata/engine/pgname"
)

// TestAnalyzeAfterWarns: the analyze that follows a build fails no node (the
// table is built), but its failure is reported, unless the run was stopped.
func TestAnalyzeAfterWarns(t *testing.T) {
	url := pgtest.DB(t)
	db, err := postgres.Connect(t.Context(), url, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var warned []string
	e := &Executor{DB: db, Warn: func(id, msg string) { warned = append(warned, id+": "+msg) }}
	n := &manifest.Node{ID: "model.p.gone", Relation: pgname.Rel{Schema: "public", Name: "gone"}}
	stmt := "analyze " + n.Relation.Quoted()

	e.analyzeAfter(t.Context(), n, stmt)
	if len(warned) != 1 || !strings.Contains(warned[0], `model.p.gone: public.gone was built, but gathering its statistics failed (autovacuum will gather them)`) || !strings.Contains(warned[0], "does not exist") {
		t.Fatalf("warned %q", warned)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	e.analyzeAfter(ctx, n, stmt)
	if len(warned) != 1 {
		t.Fatalf("a stopped run warned: %q", warned[1:])
	}

	execOn(t, url, "create table public.gone (id int); insert into public.gone values (1), (2)")
	e.analyzeAfter(t.Context(), n, stmt)
	if len(warned) != 1 {
		t.Fatalf("warned %q", warned[1:])
	}
	var stats int
	if err := db.Pool.QueryRow(t.Context(), "select count(*) from pg_stats where schemaname = 'public' and tablename = 'gone'").Scan(&stats); err != nil || stats != 1 {
		t.Fatalf("statistics of gone: %d rows (%v), want 1", stats, err)
	}
}

func execOn(t *testing.T, url, sql string) {
	t.Helper()
	db, err := postgres.Connect(t.Context(), url, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Pool.Exec(t.Context(), sql); err != nil {
		t.Fatal(err)
	}
}
