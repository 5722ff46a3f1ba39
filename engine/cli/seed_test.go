package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestSeedHooksRunOnEveryLoad: a seed's pre_hook runs before the load (the
// table does not exist yet on the first one), its post_hook after, and both
// run again when the seed is unchanged, as for models.
func TestSeedHooksRunOnEveryLoad(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: sh\n",
		"seeds/s.csv":  "id\n1\n2\n",
		"seeds/s.yml": `seeds:
  - name: s
    config:
      pre_hook:
        - create table if not exists public.hook_log (i serial, what text, n bigint)
        - insert into public.hook_log (what, n) select 'pre', count(*) from pg_class where oid = to_regclass('public.s')
      post_hook: ["insert into public.hook_log (what, n) select 'post', count(*) from {{ this }}"]
`,
	})
	for i := 0; i < 2; i++ {
		must(t, 0, dir, "seed")
	}
	got := queryRows(t, url, "select what || ' ' || n from public.hook_log order by i")
	var log []string
	for _, r := range got {
		log = append(log, r[0])
	}
	if want := "pre 0, post 2, pre 1, post 2"; strings.Join(log, ", ") != want {
		t.Errorf("hook log = %q, want %q", strings.Join(log, ", "), want)
	}
}

// TestSeedPreHookFailureKeepsTheTable: the pre_hook runs in the load's
// transaction, so when it fails the old rows stay.
func TestSeedPreHookFailureKeepsTheTable(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{"project.yaml": "name: sf\n", "seeds/s.csv": "id\n1\n2\n"})
	must(t, 0, dir, "seed")
	writeFiles(t, dir, map[string]string{
		"seeds/s.csv": "id\n1\n2\n3\n4\n5\n",
		"seeds/s.yml": "seeds:\n  - name: s\n    config: {pre_hook: ['delete from {{ this }}', 'select 1/0']}\n",
	})
	code, out := strata(t, dir, "seed")
	if code != 1 || !strings.Contains(out, "seeds/s.yml:3:51: pre_hook 2 of seed s: select 1/0: division by zero") || !strings.Contains(out, "division by zero") {
		t.Fatalf("seed with a failing pre_hook exited %d, want 1 and the hook's error:\n%s", code, out)
	}
	if got := queryInt(t, url, "select count(*) from public.s"); got != 2 {
		t.Errorf("s has %d rows after the failed pre_hook, want the old 2", got)
	}
}

// TestSeedGrantsAndDescriptionWhenUnchanged: grants and the description are
// applied on every seed run, also when the CSV is unchanged: after a grant
// failed (its role was missing) and when they are added to a loaded seed.
func TestSeedGrantsAndDescriptionWhenUnchanged(t *testing.T) {
	url := pgtest.DB(t)
	const role = "strata_seed_grant_reader"
	exec := func(sql string) { t.Helper(); execSQL(t, url, sql) }
	exec("drop role if exists " + role)
	t.Cleanup(func() { exec("drop owned by " + role + "; drop role " + role) })
	dir := writeProject(t, url, map[string]string{"project.yaml": "name: sg\n", "seeds/s.csv": "id\n1\n"})
	must(t, 0, dir, "seed")
	writeFiles(t, dir, map[string]string{"seeds/s.yml": "seeds:\n  - name: s\n    description: One row.\n    config: {grants: {select: [" + role + "]}}\n"})
	if code, out := strata(t, dir, "seed"); code != 1 || !strings.Contains(out, "does not exist") {
		t.Fatalf("seed granting to a missing role exited %d, want 1:\n%s", code, out)
	}
	exec("create role " + role)
	code, out := strata(t, dir, "seed")
	if code != 0 || !strings.Contains(out, "unchanged") {
		t.Fatalf("seed exited %d, want 0 with the seed unchanged:\n%s", code, out)
	}
	if got := queryInt(t, url, "select count(*) from public.s where has_table_privilege('"+role+"', 'public.s', 'select')"); got != 1 {
		t.Errorf("%s cannot select from the unchanged seed", role)
	}
	if got := queryRows(t, url, "select coalesce(obj_description('public.s'::regclass, 'pg_class'), '')"); len(got) != 1 || got[0][0] != "One row." {
		t.Errorf("the unchanged seed's comment is %v, want One row.", got)
	}
}

// TestSeedCSVErrorNamesItsPositionOnce: the error of a bad row is
// "path:line:col: what", not prefixed with the path a second time.
func TestSeedCSVErrorNamesItsPositionOnce(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{"project.yaml": "name: se\n", "seeds/toomany.csv": "a,b\n1,2\n3,4,5\n"})
	out := must(t, 1, dir, "seed")
	if !strings.Contains(out, "\n          seeds/toomany.csv:3:5: row has 3 fields, the header has 2") || strings.Contains(out, "seeds/toomany.csv: seeds/toomany.csv") {
		t.Errorf("the error should name its position once:\n%s", out)
	}
}

// TestSeedErrorsArePlaced: what the database refuses in a seed is placed
// where the user fixes it, once: a value COPY refuses at its line and column
// in the CSV file, a type of column_types that does not exist at its entry
// in the YAML (by seed and by check), and the table loaded before is kept.
func TestSeedErrorsArePlaced(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{"project.yaml": "name: se\n", "seeds/s.csv": "id,amt\n1,2\n"})
	must(t, 0, dir, "seed")
	for _, c := range []struct{ csv, yml, cmd, want string }{
		{"id,amt\n1,2\n99999,3\n", "seeds:\n  - name: s\n    config: {column_types: {id: smallint}}\n", "seed",
			`seeds/s.csv:3:1: column "id": value "99999" is out of range for type smallint (column_types sets the type of "id" to smallint at seeds/s.yml:3:29)`},

		{"id,amt\n1,2\n3,4\n", "seeds:\n  - name: s\n    config:\n      column_types: {id: bigint, amt: numerc}\n", "seed",
			`seeds/s.yml:4:34: column_types: amt: type "numerc" does not exist (expected a PostgreSQL type, such as bigint, numeric(12,2), date or text)`},
		{"id,amt\n1,2\n3,4\n", "seeds:\n  - name: s\n    config:\n      column_types: {id: 'numeric(1001, 2)'}\n", "seed",
			`seeds/s.yml:4:22: column_types: id: NUMERIC precision 1001 must be between 1 and 1000 (expected a PostgreSQL type, such as bigint, numeric(12,2), date or text)`},
		{"id,amt\n1,2\n3,4\n", "seeds:\n  - name: s\n    config:\n      column_types: {id: bigint, amt: numerc}\n", "check",
			`seeds/s.yml:4:34: column_types: amt: type "numerc" does not exist (expected a PostgreSQL type, such as bigint, numeric(12,2), date or text)`},
	} {
		writeFiles(t, dir, map[string]string{"seeds/s.csv": c.csv, "seeds/s.yml": c.yml})
		out := must(t, 1, dir, c.cmd)
		mustContain(t, out, c.want)
		if strings.Contains(out, "seeds/s.csv: ") || strings.Contains(out, `seed "s"`) {
			t.Errorf("the error should name its position once:\n%s", out)
		}
		if got := queryText(t, url, "select string_agg(id || ':' || amt, ',') from public.s"); got != "1:2" {
			t.Errorf("after a failed %s, s holds %s, want the old rows 1:2", c.cmd, got)
		}
	}
}

// TestSeedValueOfColumnTypes: a value that the type column_types gives its
// column does not take is placed in the CSV file, and the error says which
// entry of column_types set the type: in project.yaml too, and for a row
// appended to a file loaded before.
func TestSeedValueOfColumnTypes(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: se\nseeds:\n  column_types: {amt: integer}\n",
		"seeds/s.csv":  "id,amt\n1,2\n"})
	must(t, 0, dir, "seed")
	writeFiles(t, dir, map[string]string{"seeds/s.csv": "id,amt\n1,2\n3,x\n"})
	out := must(t, 1, dir, "seed")
	mustContain(t, out, `seeds/s.csv:3:3: column "amt": invalid input syntax for type integer: "x" (column_types sets the type of "amt" to integer at project.yaml:3:18)`)
	if got := queryText(t, url, "select string_agg(id || ':' || amt, ',') from public.s"); got != "1:2" {
		t.Errorf("after a failed seed, s holds %s, want the old rows 1:2", got)
	}
}

// TestSeedColumnTypesNotBlamedForOtherErrors: a seed whose table cannot be
// created for another reason fails with that reason, in seed and in check,
// not with a column_types entry that a table takes (serial, a domain that
// is not null), which trying each as a value (null::serial) blamed:
// column_types: id: type "serial" does not exist. The reason is an event
// trigger that refuses new tables: PostgreSQL's own limits (1,600 columns,
// a system column's name) are refused in the header, before the database.
func TestSeedColumnTypesNotBlamedForOtherErrors(t *testing.T) {
	url := pgtest.DB(t)
	execSQL(t, url, "create domain posint as integer not null check (value > 0)")
	dir := writeProject(t, url, map[string]string{"project.yaml": "name: se\n", "seeds/s.csv": "id,amt\n1,2\n",
		"seeds/s.yml": "seeds:\n  - name: s\n    config:\n      column_types: {id: serial, amt: posint}\n"})
	must(t, 0, dir, "seed")
	execSQL(t, url, `create function no_new_tables() returns event_trigger language plpgsql as $$
		begin raise exception 'no new tables in this database'; end $$`,
		"create event trigger no_new_tables on ddl_command_start when tag in ('CREATE TABLE') execute function no_new_tables()")
	writeFiles(t, dir, map[string]string{"seeds/s.csv": "id,amt,more\n1,2,3\n"})
	for _, cmd := range []string{"seed", "check"} {
		out := must(t, 1, dir, cmd)
		mustContain(t, out, "no new tables in this database")
		if strings.Contains(out, "column_types") {
			t.Errorf("strata %s blamed a column type:\n%s", cmd, out)
		}
	}
}

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

// TestSeedIsFinishedBeforeItIsPublished: a seed's indexes, grants and
// post_hook are applied in the transaction that loads it, as a model's
// are: each load path leaves the configured indexes under the seed's own
// names, and when one of them fails (a unique index the new rows break, a
// post_hook that fails) nothing of the load is published: the old rows
// stay, and no scratch table is left.
func TestSeedIsFinishedBeforeItIsPublished(t *testing.T) {
	url := pgtest.DB(t)
	const yml = "seeds:\n  - name: s\n    config: {indexes: [{columns: [id], unique: true}]%s}\n"
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: sp\n",
		"seeds/s.csv":  "id,v\n1,a\n2,b\n",
		"seeds/s.yml":  fmt.Sprintf(yml, ""),
	})
	indexes := func() string {
		t.Helper()
		return queryText(t, url, "select coalesce(string_agg(indexname, ',' order by indexname), '') from pg_indexes where schemaname = 'public' and tablename = 's'")
	}
	rows := func() string {
		t.Helper()
		return queryText(t, url, "select string_agg(id || v, ',' order by id) from public.s")
	}
	must(t, 0, dir, "seed")
	if got := indexes(); got != "s__id_uidx" {
		t.Fatalf("after the first load, s has the indexes %q", got)
	}
	// Replaced through a scratch table, then refilled in place under a view.
	writeFile(t, dir, "seeds/s.csv", "id,v\n1,a\n2,b\n3,c\n")
	must(t, 0, dir, "seed", "--full-refresh")
	execSQL(t, url, "create view public.sv as select * from public.s")
	writeFile(t, dir, "seeds/s.csv", "id,v\n1,x\n2,y\n")
	must(t, 0, dir, "seed")
	if got, r := indexes(), rows(); got != "s__id_uidx" || r != "1x,2y" {
		t.Fatalf("after the reloads, s has the indexes %q and the rows %q", got, r)
	}
	execSQL(t, url, "drop view public.sv")

	for _, c := range []struct{ csv, config, want string }{
		{"id,v\n1,a\n1,b\n3,c\n", "", `indexes: create unique index if not exists "s__id_uidx" on "public"."s" ("id"): could not create unique index "s__id_uidx" (Key (id)=(1) is duplicated.)`},
		{"id,v\n5,a\n6,b\n", ", post_hook: ['select 1/0']", "post_hook 1 of seed s: select 1/0: division by zero"},
	} {
		writeFiles(t, dir, map[string]string{"seeds/s.csv": c.csv, "seeds/s.yml": fmt.Sprintf(yml, c.config)})
		out := must(t, 1, dir, "seed")
		mustContain(t, out, c.want)
		if strings.Contains(out, `seed "s": seeds/s.yml`) {
			t.Errorf("the error should start with its place in the config:\n%s", out)
		}
		if got, r := indexes(), rows(); got != "s__id_uidx" || r != "1x,2y" {
			t.Errorf("after a failed load (%s), s has the indexes %q and the rows %q, want the old ones", c.want, got, r)
		}
		if left := queryText(t, url, "select coalesce(string_agg(relname, ','), 'none') from pg_class where relname ~ '__strata_'"); left != "none" {
			t.Errorf("scratch relations after a failed load: %s", left)
		}
	}
}

// TestSeedAppendCountsTheRowsItWrites: a seed that grows by one row
// appends it and records 1 row written, as an incremental model's append
// does, not the table's total.
func TestSeedAppendCountsTheRowsItWrites(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{"project.yaml": "name: sa\n", "seeds/s.csv": "id\n1\n2\n"})
	must(t, 0, dir, "seed")
	writeFile(t, dir, "seeds/s.csv", "id\n1\n2\n3\n")
	mustContain(t, must(t, 0, dir, "seed"), "APPEND 1")
	if got := runResults(t, dir)["seed.sa.s"].Rows; got != 1 {
		t.Errorf("rows_affected %d after appending 1 row", got)
	}
}

// TestSeedIndexTypeChanged: a seed's index whose type changed in config
// (btree to hash) while its data did not, so that the table is kept (or
// appended to), was silently left as it was: the load creates only
// missing indexes. It is refused at indexes, as a model's is, nothing
// changed; --full-refresh reloads it with the index as configured.
func TestSeedIndexTypeChanged(t *testing.T) {
	url := pgtest.DB(t)
	const yml = "seeds:\n  - name: s\n    config:\n      indexes:\n        - {columns: [v]%s}\n"
	dir := writeProject(t, url, map[string]string{
		"project.yaml":    "name: sxt\n",
		"seeds/s.csv":     "id,v\n1,a\n",
		"seeds/seeds.yml": fmt.Sprintf(yml, ""),
	})
	must(t, 0, dir, "seed")
	method := func() string {
		return queryText(t, url, "select am.amname from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam where i.indrelid = 'public.s'::regclass")
	}
	writeFile(t, dir, "seeds/seeds.yml", fmt.Sprintf(yml, ", type: hash"))
	want := `seeds/seeds.yml:5:9: indexes: public.s has the index s__v_idx of type btree, but indexes says type: hash; a build that keeps public.s creates only the indexes it lacks: reload it with --full-refresh, or drop that index (drop index "public"."s__v_idx") and the next build creates it as configured`
	mustContain(t, must(t, 1, dir, "seed"), want)
	// Appended rows keep the table too.
	writeFile(t, dir, "seeds/s.csv", "id,v\n1,a\n2,b\n")
	mustContain(t, must(t, 1, dir, "seed"), want)
	if got := queryText(t, url, "select count(*)::text from public.s"); got != "1" {
		t.Errorf("after the refusal s holds %s rows, want 1", got)
	}
	if got := method(); got != "btree" {
		t.Errorf("after the refusal the index is %s", got)
	}
	must(t, 0, dir, "seed", "--full-refresh")
	if got := method(); got != "hash" {
		t.Errorf("after --full-refresh the index is %s, want hash", got)
	}
	must(t, 0, dir, "seed")
}

// TestSeedIndexTypeChangedUnderAView: a seed that a view reads is
// truncated and refilled in place, --full-refresh too (the view stays),
// so the refusal of a changed index type, which says to reload with
// --full-refresh, refused that reload as well. The refilled table is
// locked out to readers until commit already: the index is made again
// as configured.
func TestSeedIndexTypeChangedUnderAView(t *testing.T) {
	url := pgtest.DB(t)
	const yml = "seeds:\n  - name: s\n    config:\n      indexes:\n        - {columns: [v]%s}\n"
	dir := writeProject(t, url, map[string]string{
		"project.yaml":    "name: sxv\n",
		"seeds/s.csv":     "id,v\n1,a\n",
		"seeds/seeds.yml": fmt.Sprintf(yml, ""),
		"models/w.sql":    `select * from {{ ref "s" }}`,
	})
	must(t, 0, dir, "build")
	view := queryText(t, url, "select oid::text from pg_class where oid = 'public.w'::regclass")
	method := func() string {
		return queryText(t, url, "select am.amname from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam where i.indrelid = 'public.s'::regclass")
	}
	writeFile(t, dir, "seeds/seeds.yml", fmt.Sprintf(yml, ", type: hash"))
	mustContain(t, must(t, 1, dir, "seed"), "reload it with --full-refresh")
	must(t, 0, dir, "seed", "--full-refresh")
	if got := method(); got != "hash" {
		t.Errorf("after --full-refresh the index is %s, want hash", got)
	}
	// Rows changed (not appended to): refilled in place as well.
	writeFile(t, dir, "seeds/seeds.yml", fmt.Sprintf(yml, ", type: brin"))
	writeFile(t, dir, "seeds/s.csv", "id,v\n2,b\n")
	must(t, 0, dir, "seed")
	if got := method(); got != "brin" {
		t.Errorf("after a reload of changed rows the index is %s, want brin", got)
	}
	if got := queryText(t, url, "select oid::text from pg_class where oid = 'public.w'::regclass"); got != view {
		t.Errorf("view w was recreated (oid %s, was %s): the seed was not refilled in place", got, view)
	}
	if got := queryText(t, url, "select string_agg(v, ',') from public.w"); got != "b" {
		t.Errorf("w reads %q, want b", got)
	}
	must(t, 0, dir, "seed")
}
