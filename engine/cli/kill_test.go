package cli

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strata/engine/artifacts"
	"strata/engine/internal/pgtest"
)

// relations lists the example's relations in a database (not the audit
// tables of failing tests, not partitions: their tables count them), as
// "schema.name kind".
func relations(t *testing.T, url string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range queryRows(t, url, `select n.nspname || '.' || c.relname, c.relkind::text
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where c.relkind in ('r', 'p', 'v', 'm') and not c.relispartition
		  and n.nspname not in ('pg_catalog', 'information_schema', 'audit', 'strata_meta') and n.nspname !~ '^pg_toast'`) {
		out[r[0]] = r[1]
	}
	return out
}

// counts are the row counts of the tables and materialized views of rels;
// a view is read, and must answer, but its count is not kept (it reads
// whatever its parents hold).
func counts(t *testing.T, url string, rels map[string]string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for rel, kind := range rels {
		n := queryInt(t, url, "select count(*) from "+rel)
		if kind != "v" {
			out[rel] = n
		}
	}
	return out
}

// withDB is url naming database db instead.
func withDB(t *testing.T, u, db string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p.Path = "/" + db
	return p.String()
}

// TestKillBuildAtRandomPoints (issue 21, Done when): the example pipeline's
// day-2 build is killed (SIGKILL) at 10 random points, each on a copy of
// the day-1 database. After each kill no relation is lost, none is half
// built (each table holds the rows of day 1 or of day 2, as a reference
// build of each day has them), no scratch relation is left, and retry
// completes the killed run: day 2 exactly, nothing left over.
func TestKillBuildAtRandomPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	refURL, day1URL := pgtest.DB(t), pgtest.DB(t)
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "strata/cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const scale = 0.2

	// The reference: day 1, then day 2, and how many lines day 2 prints.
	ref := pipelineProject(t, scale, 1)
	t.Setenv("DATABASE_URL", refURL)
	must(t, 0, ref, "--target", "prod", "build")
	generate(t, ref, scale, 2)
	day2Out := must(t, 0, ref, "--target", "prod", "build")
	lines := strings.Count(day2Out, "\n")
	rels := relations(t, refURL)
	day2 := counts(t, refURL, rels)

	// Day 1 on the database every round starts from a copy of.
	dir := pipelineProject(t, scale, 1)
	t.Setenv("DATABASE_URL", day1URL)
	must(t, 0, dir, "--target", "prod", "build")
	day1 := counts(t, day1URL, rels)
	if got := relations(t, day1URL); len(got) != len(rels) {
		t.Fatalf("day 1 has %d relations, day 2 %d", len(got), len(rels))
	}
	generate(t, dir, scale, 2)
	day1DB := strings.TrimPrefix(mustParse(t, day1URL).Path, "/")
	admin := withDB(t, day1URL, "postgres")

	seed := uint64(time.Now().UnixNano())
	t.Logf("kill points from seed %d (a build of day 2 prints %d lines)", seed, lines)
	rng := rand.New(rand.NewPCG(seed, 42))
	for round := 0; round < 10; round++ {
		db := fmt.Sprintf("%s_kill%d", day1DB, round)
		execSQL(t, admin, fmt.Sprintf(`create database %q template %q strategy file_copy`, db, day1DB))
		roundURL := withDB(t, day1URL, db)
		t.Setenv("DATABASE_URL", roundURL)

		at := 1 + rng.IntN(lines)
		pause := time.Duration(rng.IntN(20)) * time.Millisecond
		cmd := exec.Command(bin, "--project-dir", dir, "--no-color", "--target", "prod", "build")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+roundURL)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		seen, last := 0, ""
		for seen < at && sc.Scan() {
			seen++
			last = sc.Text()
		}
		time.Sleep(pause) // where the kill lands after that line; any point must do
		_ = cmd.Process.Kill()
		for sc.Scan() {
		}
		_ = cmd.Wait()
		t.Logf("round %d: killed after line %d of %d (+%s): %s", round, seen, lines, pause, strings.TrimSpace(last))

		// Nothing lost, nothing half built, nothing left over.
		got := relations(t, roundURL)
		for rel, kind := range rels {
			if got[rel] != kind {
				t.Errorf("round %d: %s is %q after the kill, was %q", round, rel, got[rel], kind)
			}
		}
		for rel, n := range counts(t, roundURL, got) {
			if n != day1[rel] && n != day2[rel] {
				t.Errorf("round %d: %s holds %d rows, neither day 1's %d nor day 2's %d: half built", round, rel, n, day1[rel], day2[rel])
			}
		}
		if left := queryText(t, roundURL, "select coalesce(string_agg(relname, ','), 'none') from pg_class where relname ~ '__strata_(new|src)'"); left != "none" {
			t.Errorf("round %d: scratch relations after the kill: %s", round, left)
		}
		// retry completes the interrupted run: it runs what the run did not
		// finish, and day 2 is then built exactly, with nothing left over.
		// The record retry --target prod reads: the target's own, which
		// the end of a run writes before target/run_results.json (a kill
		// between the two leaves target/'s in progress, the run ended).
		rr, err := artifacts.ReadRunResults(filepath.Join(artifacts.RunDir(filepath.Join(dir, "target"), "prod", ""), "run_results.json"))
		if err != nil {
			t.Fatal(err)
		}
		// (Killed after its last line, the build may have ended; killed
		// after its last node but before its end, there is nothing left to
		// build, and the example has no on-run-end hooks to run again.)
		retried := must(t, 0, dir, "--target", "prod", "retry")
		unfinished := 0
		for _, r := range rr.Results {
			if r.Message == artifacts.NotFinished {
				unfinished++
			}
		}
		switch {
		case rr.InProgress && unfinished > 0 && !strings.Contains(retried, "did not finish: running again the"):
			t.Errorf("round %d: retry did not take up the killed run (%d nodes not finished):\n%s", round, unfinished, retried)
		case rr.InProgress && unfinished == 0 && !strings.Contains(retried, "Nothing to retry: each node of the last run"):
			t.Errorf("round %d: killed after its last node, retry said:\n%s", round, retried)
		}
		for rel, n := range counts(t, roundURL, relations(t, roundURL)) {
			if n != day2[rel] {
				t.Errorf("round %d: after retry %s holds %d rows, want day 2's %d", round, rel, n, day2[rel])
			}
		}
		if left := queryText(t, roundURL, "select coalesce(string_agg(relname, ','), 'none') from pg_class where relname ~ '__strata_'"); left != "none" {
			t.Errorf("round %d: scratch relations after retry: %s", round, left)
		}
		if out := must(t, 0, dir, "--target", "prod", "retry"); !strings.Contains(out, "Nothing to retry") {
			t.Errorf("round %d: a second retry ran again:\n%s", round, out)
		}
		execSQL(t, admin, fmt.Sprintf(`drop database %q with (force)`, db))
	}
}

func mustParse(t *testing.T, u string) *url.URL {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
