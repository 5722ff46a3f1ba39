package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/internal/pgtest"
	"strata/engine/pgname"
)

// TestRunBookkeepingTakesOneRoundTripEach: what a run sends once on a
// connection before its first model (the run lock, whether the database
// has Citus, the catalog of its schemas) and after its last (the lock's
// release) goes in one round trip each, not prepared in a round trip of
// its own first (pgx's default: four round trips more per run). The lock
// is still taken, held, and released, and the catalog still read whole.
func TestRunBookkeepingTakesOneRoundTripEach(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	if _, err := other.Exec(ctx, "create schema s; create table s.t (id int); comment on table s.t is 'the t'; create view s.v as select id from s.t"); err != nil {
		t.Fatal(err)
	}
	// One connection: the lock's, then, released, the catalog's.
	db, err := postgres.Connect(ctx, url, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	held := func() bool {
		t.Helper()
		var n int
		if err := other.QueryRow(ctx, "select count(*)::int from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())",
			pgx.QueryExecModeSimpleProtocol).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	unlock, err := db.LockRun(ctx, "p", postgres.RunInfo{}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !held() {
		t.Fatal("LockRun returned without the lock held")
	}
	var got bool
	if err := other.QueryRow(ctx, "select pg_try_advisory_lock(hashtextextended($1, 0))", pgx.QueryExecModeSimpleProtocol, pgname.RunLock("p")).Scan(&got); err != nil || got {
		t.Fatalf("another session took the run lock while the run held it (%v)", err)
	}
	unlock()
	if held() {
		t.Fatal("the run lock is still held after unlock")
	}
	if ok, err := postgres.HasCitus(ctx, db.Shared()); err != nil || ok {
		t.Fatalf("HasCitus = %v, %v; want false", ok, err)
	}
	cat, err := postgres.ReadCatalog(ctx, db.Shared(), []string{"s"})
	if err != nil {
		t.Fatal(err)
	}
	tbl := cat.Get(pgname.Rel{Schema: "s", Name: "t"})
	if !tbl.Exists || tbl.Kind != "table" || tbl.Comment == nil || *tbl.Comment != "the t" || !tbl.HasDependents {
		t.Errorf("s.t in the catalog: %+v", tbl)
	}
	if v := cat.Get(pgname.Rel{Schema: "s", Name: "v"}); !v.Exists || v.Kind != "view" || v.Comment != nil {
		t.Errorf("s.v in the catalog: %+v", v)
	}
	var prepared []string
	rows, err := db.Shared().Query(ctx, "select statement from pg_prepared_statements where not from_sql", pgx.QueryExecModeSimpleProtocol)
	if err == nil {
		prepared, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(prepared) > 0 {
		t.Errorf("%d statements were prepared in a round trip of their own:\n%s", len(prepared), strings.Join(prepared, "\n---\n"))
	}
}
