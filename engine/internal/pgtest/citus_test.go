package pgtest

import (
	"context"
	"testing"
)

// TestCitusDBIsClearedBetweenTests: the Citus database is a Citus database
// with both workers, and what one test made there (a schema, distributed
// and reference tables, a view in public) is gone for the next.
func TestCitusDBIsClearedBetweenTests(t *testing.T) {
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		t.Run("use", func(t *testing.T) {
			conn := connect(t, CitusDB(t))
			var nodes, rels, dist int
			if err := conn.QueryRow(ctx, `select (select count(*) from pg_dist_node where groupid > 0),
				(select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('public', 'mart')
				   and not exists (select from pg_depend d where d.objid = c.oid and d.deptype = 'e')),
				(select count(*) from pg_dist_partition)`).Scan(&nodes, &rels, &dist); err != nil {
				t.Fatal(err)
			}
			if nodes != 2 || rels != 0 || dist != 0 {
				t.Fatalf("workers %d, relations in public and mart %d, distributed tables %d; want 2, 0, 0", nodes, rels, dist)
			}
			for _, sql := range []string{
				"create schema mart",
				"create table mart.f (id int, v int)",
				"select create_distributed_table('mart.f', 'id')",
				"create table public.r (id int primary key)",
				"select create_reference_table('public.r')",
				"create view public.v as select * from mart.f",
				"insert into mart.f select g, g from generate_series(1, 10) as g",
			} {
				if _, err := conn.Exec(ctx, sql); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
		})
	}
}
