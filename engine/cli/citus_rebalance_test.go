package cli

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/pgtest"
)

// moveShard moves a shard of table from the worker that holds it to
// another, in a transaction it keeps open (Citus holds its colocation
// group's lock meanwhile, as during each move of a rebalance); the
// function it returns commits it.
func moveShard(t *testing.T, url, table string) func() {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		conn.Close(ctx)
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, `select citus_move_shard_placement(s.shardid, s.nodename, s.nodeport, n.nodename, n.nodeport, 'block_writes')
		from (select shardid, nodename, nodeport from citus_shards where table_name = $1::regclass order by shardid limit 1) as s,
		  lateral (select nodename, nodeport from pg_dist_node where noderole = 'primary' and shouldhaveshards
		    and (nodename, nodeport) <> (s.nodename, s.nodeport) order by nodeid limit 1) as n`, table)
	if err != nil {
		_ = tx.Rollback(ctx)
		conn.Close(ctx)
		t.Fatal(err)
	}
	done := false
	commit := func() {
		if done {
			return
		}
		done = true
		if err := tx.Commit(ctx); err != nil {
			t.Errorf("committing the shard move: %v", err)
		}
		conn.Close(ctx)
	}
	t.Cleanup(commit)
	return commit
}

// TestCitusBuildWaitsForShardMoves: while Citus moves shards of a
// colocation group (a rebalance after a worker was added), it refuses at
// once to create a table in that group ('could not acquire the lock
// required to colocate distributed table ...'), and the build failed on
// it. A build waits for the move, as for readers, saying so, and builds
// the table once it is over; after swap_max_wait it fails saying what is
// going on and what to do, and retry builds the table once the move is
// over.
func TestCitusBuildWaitsForShardMoves(t *testing.T) {
	url := pgtest.CitusDB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: mv\n" + target(url, ", swap_max_wait: 30s"),
		"models/anchor.sql": `{{ config "materialized" "table" "distributed_by" "id" }}select g as id from generate_series(1, 40) as g`,
		"models/fact.sql":   `{{ config "materialized" "table" "distributed_by" "id" "colocate_with" "anchor" }}select id, id * 2 as v from {{ ref "anchor" }}`,
	})
	must(t, 0, dir, "build", "-s", "anchor")

	// The move ends 3 seconds into the build, which waits for it.
	commit := moveShard(t, url, "public.anchor")
	go func() {
		time.Sleep(3 * time.Second)
		commit()
	}()
	out := must(t, 0, dir, "build", "-s", "fact")
	// Citus names a table of the group, not necessarily the one
	// colocate_with names (public.fact once it exists).
	waits := regexp.MustCompile(`fact waits for Citus to finish moving shards of the colocation group of public\.(anchor|fact), which its table joins`)
	if !waits.MatchString(out) {
		t.Errorf("the build did not say it waited for the move:\n%s", out)
	}
	mustContain(t, out, "OK created table model public.fact")
	if got := queryText(t, url, "select count(*) || ' ' || sum(v) from public.fact"); got != "40 1640" {
		t.Errorf("fact holds %s, want 40 rows summing to 1640", got)
	}
	if got := placement(t, url)["fact"]; got != "hash:id" {
		t.Errorf("fact is placed %q, want hash:id", got)
	}
	if got := queryText(t, url, `select ((select colocationid from pg_dist_partition where logicalrelid = 'public.fact'::regclass)
		= (select colocationid from pg_dist_partition where logicalrelid = 'public.anchor'::regclass))::text`); got != "true" {
		t.Errorf("fact is not colocated with anchor")
	}

	// A move that outlasts swap_max_wait: the build gives up, the old
	// table kept, saying why and what to do; retry builds it after.
	writeFile(t, dir, "project.yaml", "name: mv\n"+target(url, ", swap_max_wait: 2s"))
	writeFile(t, dir, "models/fact.sql", `{{ config "materialized" "table" "distributed_by" "id" "colocate_with" "anchor" }}select id, id * 3 as v from {{ ref "anchor" }}`)
	commit = moveShard(t, url, "public.anchor")
	out = must(t, 1, dir, "build", "-s", "fact")
	mustContain(t, out, "ERROR table model public.fact", "once they have (select citus_rebalance_wait()), run strata retry")
	gaveUp := regexp.MustCompile(`Citus is moving shards of the colocation group of public\.(anchor|fact), which it joins \(a rebalance, citus_rebalance_start, or a shard move or copy\), and creates no table there meanwhile: strata waited`)
	if !gaveUp.MatchString(out) || !waits.MatchString(out) {
		t.Errorf("the build did not say it waited, then why it gave up:\n%s", out)
	}
	commit()
	if got := queryText(t, url, "select sum(v)::text from public.fact"); got != "1640" {
		t.Errorf("after the failed build, fact sums to %s, want 1640 (as before it)", got)
	}
	mustContain(t, must(t, 0, dir, "retry"), "OK created table model public.fact")
	if got := queryText(t, url, "select sum(v)::text from public.fact"); got != "2460" {
		t.Errorf("after retry, fact sums to %s, want 2460", got)
	}
}
