package pgtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/local"
	"strata/engine/pgname"
)

// RequireCitusEnv, when set to 1 (CI sets it), makes a test that needs
// Citus fail when Citus is not installed, instead of skipping.
const RequireCitusEnv = "STRATA_REQUIRE_CITUS"

const (
	citusDir      = "citus" // under the binary's temporary directory
	citusWorkers  = 2
	citusDatabase = "strata"
)

// The state of this test binary's Citus cluster; mu guards it.
var (
	citusStarted  bool
	citusErr      error
	citusCluster  *local.Citus
	citusBaseline map[string]bool // the schemas of the database before any test
	// citusHeld is held by the test that has the Citus database.
	citusHeld   sync.Mutex
	citusHolder string
)

// NeedCitus skips the test under -short and, saying why, when the Citus
// extension is not installed, unless STRATA_REQUIRE_CITUS=1, which makes
// the missing extension a failure (so that CI always runs these tests).
func NeedCitus(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("pgtest: needs a Citus cluster; skipped under -short")
	}
	if err := local.CheckCitus(); err != nil {
		if os.Getenv(RequireCitusEnv) == "1" {
			t.Fatalf("pgtest: %s=1 but Citus cannot run here: %v", RequireCitusEnv, err)
		}
		t.Skipf("pgtest: skipped, Citus is not installed (set %s=1 to make this a failure): %v", RequireCitusEnv, err)
	}
}

// CitusDB returns the URL of database strata on the coordinator of this
// test binary's Citus cluster: a coordinator and two workers, each a server
// of its own, started on first use with citus.shard_count = 4 so that the
// tests' tables stay small. The test has the database to itself: tests
// that call CitusDB run one after another (a parallel one waits), and when
// the test ends, the schemas and relations it made are dropped. Like
// NeedCitus, it skips when Citus is not installed (unless
// STRATA_REQUIRE_CITUS=1). Call it at most once per test.
func CitusDB(t testing.TB) string {
	t.Helper()
	NeedCitus(t)
	mu.Lock()
	in, again := inMain, citusHolder == t.Name()
	mu.Unlock()
	if !in {
		t.Fatal("pgtest: CitusDB needs the servers stopped after the tests: add `func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }` to the package's tests")
	}
	if again {
		t.Fatal("pgtest: CitusDB called twice in one test")
	}
	citusHeld.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	mu.Lock()
	citusHolder = t.Name()
	err := startCitus(ctx)
	if err != nil {
		citusHolder = ""
	}
	mu.Unlock()
	if err != nil {
		citusHeld.Unlock()
		t.Fatalf("pgtest: cannot start the Citus cluster: %v", err)
	}
	t.Cleanup(func() {
		defer citusHeld.Unlock()
		mu.Lock()
		citusHolder = ""
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := resetCitus(ctx); err != nil {
			t.Errorf("pgtest: clearing the Citus database after the test: %v", err)
		}
	})
	return citusCluster.Coordinator.URLFor(citusDatabase)
}

// Citus returns this binary's Citus cluster, for a test that stops and
// starts one of its nodes. Call CitusDB first.
func Citus(t testing.TB) *local.Citus {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if citusHolder != t.Name() || citusCluster == nil {
		t.Fatal("pgtest: call CitusDB before Citus")
	}
	return citusCluster
}

// startCitus starts the Citus cluster once per test binary and makes its
// database; mu is held.
func startCitus(ctx context.Context) error {
	if citusStarted {
		return citusErr
	}
	citusStarted = true
	citusErr = func() error {
		if err := makeDir(); err != nil {
			return err
		}
		opts := []local.Option{local.WithSetting("citus.shard_count", "4")}
		for _, kv := range harnessSettings(false) {
			opts = append(opts, local.WithSetting(kv[0], kv[1]))
		}
		c, err := local.NewCitusAt(filepath.Join(dir, citusDir), citusWorkers, opts...)
		if err != nil {
			return err
		}
		citusCluster = c
		if err := c.Start(ctx); err != nil {
			return err
		}
		return createCitusDatabase(ctx)
	}()
	return citusErr
}

// createCitusDatabase creates the tests' database on every node and makes
// it a Citus database; mu is held.
func createCitusDatabase(ctx context.Context) error {
	c := citusCluster
	for _, n := range append([]*local.Cluster{c.Coordinator}, c.Workers...) {
		conn, err := pgconn.Connect(ctx, n.URL())
		if err != nil {
			return err
		}
		_, err = conn.Exec(ctx, "create database "+pgname.Ident(citusDatabase)+" template template0 strategy file_copy").ReadAll()
		conn.Close(ctx)
		if err != nil {
			return err
		}
	}
	if err := c.Register(ctx, citusDatabase); err != nil {
		return err
	}
	schemas, err := citusSchemas(ctx)
	if err != nil {
		return err
	}
	citusBaseline = map[string]bool{}
	for _, s := range schemas {
		citusBaseline[s] = true
	}
	return nil
}

// citusSchemas lists the schemas of the Citus database.
func citusSchemas(ctx context.Context) ([]string, error) {
	conn, err := pgx.Connect(ctx, citusCluster.Coordinator.URLFor(citusDatabase))
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "select nspname from pg_namespace where nspname not like 'pg\\_temp\\_%' and nspname not like 'pg\\_toast\\_temp\\_%' order by 1")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// resetCitus drops what a test made in the Citus database: the schemas it
// created and the tables, views and sequences it put in public. Roles are
// the cluster's, and stay.
func resetCitus(ctx context.Context) error {
	schemas, err := citusSchemas(ctx)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, citusCluster.Coordinator.URLFor(citusDatabase))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var errs []error
	for _, s := range schemas {
		if !citusBaseline[s] {
			if _, err := conn.Exec(ctx, "drop schema "+pgname.Ident(s)+" cascade"); err != nil {
				errs = append(errs, err)
			}
		}
	}
	rows, err := conn.Query(ctx, `select case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
			when 'S' then 'sequence' when 'f' then 'foreign table' else 'table' end, c.relname
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and not c.relispartition
		  and not exists (select from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i', 'e'))`)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	rels, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([2]string, error) {
		var r [2]string
		return r, row.Scan(&r[0], &r[1])
	})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, r := range rels {
		if _, err := conn.Exec(ctx, "drop "+r[0]+" if exists "+pgname.Rel{Schema: "public", Name: r[1]}.Quoted()+" cascade"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopCitus stops the Citus cluster, if this binary started one; mu is held.
func stopCitus(ctx context.Context) error {
	if citusCluster == nil {
		return nil
	}
	err := citusCluster.Stop(ctx)
	citusCluster = nil
	return err
}
