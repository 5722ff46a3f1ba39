package materialize

import (
	"fmt"
	"strings"
	"testing"

	"strata/engine/pgname"
	"strata/engine/project"
)

func TestRunnerIncrementalSQL(t *testing.T) {
	target := pgname.Rel{Schema: "wh", Name: "fact"}
	cols, key := []string{"k1", "k2", "v"}, []string{"k1", "k2"}
	got := Incremental("merge", target, pgname.Ident("fact__strata_stage"), cols, key)
	want := `merge into "wh"."fact" as t
using "fact__strata_stage" as s
on t."k1" = s."k1" and t."k2" = s."k2"
when matched then update set "v" = s."v"
when not matched then insert ("k1", "k2", "v") values (s."k1", s."k2", s."v")`
	if len(got) != 1 || got[0].SQL != want {
		t.Errorf("merge:\n%s\nwant\n%s", got[0].SQL, want)
	}
	got = Incremental("delete+insert", target, pgname.Ident("st"), cols, key)
	if len(got) != 2 || !strings.HasPrefix(got[0].SQL, `delete from "wh"."fact" as t`) || !strings.HasPrefix(got[1].SQL, `insert into "wh"."fact" ("k1", "k2", "v")`) {
		t.Errorf("delete+insert: %v", got)
	}
	got = Incremental("merge", target, pgname.Ident("st"), []string{"k1", "k2"}, key)
	if !strings.Contains(got[0].SQL, "when matched then do nothing") {
		t.Errorf("merge with only key columns: %s", got[0].SQL)
	}
}

func TestRunnerStrategy(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		key      []string
		want     string
		err      string
	}{
		{"", nil, "append", ""},
		{"", []string{"id"}, "merge", ""},
		{"delete+insert", []string{"id"}, "delete+insert", ""},
		{"merge", nil, "", "incremental_strategy: merge needs a unique_key (one column or a list of them)"},
		{"upsert", nil, "", `incremental_strategy: "upsert" is not one of append, merge, delete+insert`},
	} {
		got, err := Strategy(project.Config{IncrementalStrategy: tc.strategy, UniqueKey: tc.key})
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("%q %v: %q, %v", tc.strategy, tc.key, got, err)
		}
	}
}

func TestRunnerSchemaChange(t *testing.T) {
	old := []Column{{"id", "integer"}, {"a", "text"}}
	new := []Column{{"id", "bigint"}, {"b", "text"}}
	target := pgname.Rel{Schema: "s", Name: "t"}
	_, cols, err := SchemaChange("ignore", target, old, new)
	if err != nil || strings.Join(cols, ",") != "id" {
		t.Errorf("ignore: %v %v", cols, err)
	}
	_, _, err = SchemaChange("fail", target, old, new)
	if err == nil || err.Error() != "on_schema_change: fail: the model's columns changed (new column b text; column a is gone; column id changed from integer to bigint); run with --full-refresh or set on_schema_change" {
		t.Errorf("fail: %v", err)
	}
	steps, cols, _ := SchemaChange("sync_all_columns", target, old, new)
	var sqls []string
	for _, s := range steps {
		sqls = append(sqls, s.SQL)
	}
	want := `alter table "s"."t" add column "b" text|alter table "s"."t" drop column "a"|alter table "s"."t" alter column "id" type bigint using "id"::bigint`
	if strings.Join(sqls, "|") != want || strings.Join(cols, ",") != "id,b" {
		t.Errorf("sync_all_columns: %v %v", sqls, cols)
	}
}

// Grants follow config without revoking anything: config's missing grants
// are granted; on a swap, what the old relation held is granted again.
func TestGrantMissingAndCarry(t *testing.T) {
	rel := pgname.Rel{Schema: "s", Name: "t"}
	join := func(steps []Step) string {
		var sqls []string
		for _, s := range steps {
			sqls = append(sqls, s.SQL)
		}
		return strings.Join(sqls, "|")
	}
	have := []Privilege{{Name: "SELECT", Grantee: "b"}, {Name: "SELECT", Grantee: "a"}, {Name: "UPDATE", Grantee: "a"}}
	if got := join(GrantMissing(rel, map[string][]string{"select": {"a", "c"}, "insert": {"public"}}, have)); got != `grant select on "s"."t" to "c"|grant insert on "s"."t" to public` {
		t.Errorf("GrantMissing: %s", got)
	}
	if got := join(GrantMissing(rel, map[string][]string{"select": {"public"}}, []Privilege{{Name: "SELECT", Grantee: "-"}})); got != "" {
		t.Errorf("GrantMissing granted PUBLIC twice: %s", got)
	}
	note := "made by hand"
	old := []Privilege{{Name: "SELECT", Grantee: "a"}, {Name: "SELECT", Grantee: "bob"}, {Name: "UPDATE", Grantee: "carol", Grantable: true}, {Name: "SELECT", Grantee: "-"}}
	want := `grant select on "s"."t" to "bob"|grant update on "s"."t" to "carol" with grant option|grant select on "s"."t" to public|comment on table "s"."t" is 'made by hand'`
	if got := join(Carry(rel, "table", old, &note, true, map[string][]string{"select": {"a"}})); got != want {
		t.Errorf("Carry:\n%s\nwant\n%s", got, want)
	}
	if got := join(Carry(rel, "view", nil, &note, false, nil)); got != "" {
		t.Errorf("Carry kept a comment the description replaces: %s", got)
	}
}

func TestRunnerPartitionNameAndContract(t *testing.T) {
	long := strings.Repeat("x", 60)
	if n := pgname.Partition(long, "20240101"); len(n) != 63 || !strings.HasSuffix(n, "_p20240101") {
		t.Errorf("long partition name %q (%d)", n, len(n))
	}
	if _, err := ContractProbe([]*project.Column{{Name: "a", DataType: "int; drop table x"}}); err == nil {
		t.Error("a data_type with SQL in it was accepted")
	}
	q, err := ContractProbe([]*project.Column{{Name: "a", DataType: "numeric(12, 2)"}, {Name: "b", DataType: "text[]"}})
	if err != nil || q != `select null::numeric(12, 2) as "a", null::text[] as "b"` {
		t.Errorf("%q %v", q, err)
	}
}

// A unique_key column the table lacks (the key renamed in the query) is
// refused for merge and delete+insert under every on_schema_change: added
// to the table it would be NULL in the old rows, which the key would then
// never match, and every row would be written again.
func TestAdaptColumnsKeyNewToTheTable(t *testing.T) {
	target := pgname.Rel{Schema: "s", Name: "t"}
	old := []Column{{"id", "integer"}, {"amt", "integer"}}
	renamed := []Column{{"order_id", "integer"}, {"amt", "integer"}}
	want := `unique_key: s.t has no column "order_id" (the model returns it, but the table was built without it), so no existing row could be matched by the key and every row would be written again beside its old version; rebuild the table with --full-refresh, or return the key under the column name the table has`
	for _, mode := range []string{"ignore", "fail", "append_new_columns", "sync_all_columns"} {
		a := AdaptColumns{Target: target, Mode: mode, UniqueKey: []string{"order_id"}, Matches: true}
		if _, _, err := a.Steps(old, renamed, nil); err == nil || err.Error() != want {
			t.Errorf("%s: %v", mode, err)
		}
		// append finds no row by the key: the new column is the mode's to handle.
		a.Matches = false
		if _, _, err := a.Steps(old, renamed, nil); (err != nil) != (mode == "fail") {
			t.Errorf("%s, append: %v", mode, err)
		}
	}
	// A composite key with one column new is refused too; one the table has passes.
	a := AdaptColumns{Target: target, Mode: "append_new_columns", UniqueKey: []string{"id", "k2"}, Matches: true}
	if _, _, err := a.Steps(old, append(old, Column{"k2", "text"}), nil); err == nil || !strings.Contains(err.Error(), `has no column "k2" `) {
		t.Errorf("composite: %v", err)
	}
	a.UniqueKey = []string{"id"}
	if _, cols, err := a.Steps(old, append(old, Column{"k2", "text"}), nil); err != nil || strings.Join(cols, ",") != "id,amt,k2" {
		t.Errorf("key the table has: %v %v", cols, err)
	}
}

// An incremental load refuses a table partitioned otherwise than
// partition_by says: partitions would be created for one column's or
// granularity's periods while PostgreSQL routes rows by the table's own.
func TestSamePartitioning(t *testing.T) {
	rel := pgname.Rel{Schema: "s", Name: "t"}
	month := &project.PartitionBy{Column: "d"}
	day := &project.PartitionBy{Column: "d", Granularity: "day"}
	fix := "; a load never changes how the table is partitioned: rebuild it with --full-refresh"
	for _, tc := range []struct {
		name     string
		by       *project.PartitionBy
		existing string
		column   string
		parts    []string
		want     string
	}{
		{"unpartitioned as before", nil, "table", "", nil, ""},
		{"partitioned as before", month, "partitioned_table", "d", []string{"t_p202401", "t_pdefault"}, ""},
		{"no partitions yet", day, "partitioned_table", "d", []string{}, ""},
		{"before reading the key", month, "partitioned_table", "", nil, ""},
		{"partition_by added", month, "table", "", nil, "partition_by: s.t is not partitioned (it was built without partition_by)" + fix},
		{"partition_by removed", nil, "partitioned_table", "", nil, "partition_by: s.t is partitioned, but the model's config has no partition_by" + fix},
		{"column changed", &project.PartitionBy{Column: "d2"}, "partitioned_table", "d", []string{"t_p202401"}, `partition_by: s.t is partitioned on column "d", but partition_by says column "d2"` + fix},
		{"month to day", day, "partitioned_table", "d", []string{"t_p202401", "t_pdefault"}, "partition_by: s.t is partitioned by month (partition t_p202401), but partition_by says granularity: day" + fix},
		{"day to month (the default)", month, "partitioned_table", "d", []string{"t_pdefault", "t_p20240105"}, "partition_by: s.t is partitioned by day (partition t_p20240105), but partition_by says granularity: month" + fix},
	} {
		err := SamePartitioning(rel, tc.by, tc.existing, tc.column, tc.parts)
		if got := fmt.Sprint(err); (err == nil) != (tc.want == "") || err != nil && got != tc.want {
			t.Errorf("%s: %v\nwant %s", tc.name, err, tc.want)
		}
	}
}

// The partition_by column must be among the model's columns, a date or a
// timestamp: the periods are date_trunc's.
func TestPartitionColumnError(t *testing.T) {
	cols := []Column{{"id", "bigint"}, {"d", "date"}, {"ts", "timestamp without time zone"}, {"tz", "timestamp(3) with time zone"}, {"s", "text"}}
	for _, tc := range []struct{ column, want string }{
		{"d", ""},
		{"ts", ""},
		{"tz", ""},
		{"id", `partition_by: column "id" is bigint, but a table is partitioned by the day, month or year of a date or timestamp column (cast it in the query, or partition by another column)`},
		{"s", `partition_by: column "s" is text, but a table is partitioned by the day, month or year of a date or timestamp column (cast it in the query, or partition by another column)`},
		{"nope", `partition_by: column "nope" is not among the model's columns (id, d, ts, tz, s)`},
	} {
		err := PartitionColumnError(project.PartitionBy{Column: tc.column}, cols)
		if got := fmt.Sprint(err); (err == nil) != (tc.want == "") || err != nil && got != tc.want {
			t.Errorf("%s: %v\nwant %s", tc.column, err, tc.want)
		}
	}
}

// KeptTypes names the columns whose type the query changed and the table
// keeps: under every on_schema_change but sync_all_columns, which alters
// them.
func TestKeptTypes(t *testing.T) {
	old := []Column{{"id", "integer"}, {"d", "date"}, {"gone", "text"}}
	new := []Column{{"id", "bigint"}, {"d", "text"}, {"added", "text"}}
	want := "id is integer in the table, bigint in the query; d is date in the table, text in the query"
	for _, mode := range []string{"", "ignore", "fail", "append_new_columns"} {
		if got := fmt.Sprint(KeptTypes(mode, old, new)); got != "["+strings.ReplaceAll(want, "; ", " ")+"]" {
			t.Errorf("%q: %s", mode, got)
		}
	}
	if got := KeptTypes("sync_all_columns", old, new); got != nil {
		t.Errorf("sync_all_columns: %v", got)
	}
	// Only the column PostgreSQL names is said not to convert (id does,
	// from bigint); all when its message names none.
	kept := KeptTypes("", old, new)
	for _, tc := range []struct {
		msg   string
		want  string
		named bool
	}{
		{`column "d" is of type date but expression is of type text`, "[d is date in the table, text in the query]", true},
		{`la colonne « d » est de type date mais l'expression est de type text`, "[" + strings.ReplaceAll(want, "; ", " ") + "]", false},
	} {
		got, named := NotConverted(kept, tc.msg)
		if fmt.Sprint(got) != tc.want || named != tc.named {
			t.Errorf("%q: %v %v, want %s %v", tc.msg, got, named, tc.want, tc.named)
		}
	}
}

// A configured index that exists with another type on a relation a build
// keeps is refused (the build creates only missing ones); one that is
// missing, or of the configured type (btree when none), is not.
func TestIndexTypeChanged(t *testing.T) {
	rel := pgname.Rel{Schema: "s", Name: "t"}
	idx := []project.Index{{Columns: []string{"a"}}, {Columns: []string{"b"}, Type: "gin"}, {Columns: []string{"c"}, Unique: true}}
	for _, tc := range []struct {
		name     string
		existing map[string]string
		rebuild  string
		want     string
	}{
		{"none yet", map[string]string{}, "", ""},
		{"as configured", map[string]string{"t__a_idx": "btree", "t__b_idx": "gin", "t__c_uidx": "btree", "other": "hash"}, "", ""},
		{"btree to hash", map[string]string{"t__a_idx": "hash"}, "rebuild it with --full-refresh",
			`indexes: s.t has the index t__a_idx of type hash, but indexes says type: btree; a build that keeps s.t creates only the indexes it lacks: rebuild it with --full-refresh, or drop that index (drop index "s"."t__a_idx") and the next build creates it as configured`},
		{"gin to btree, in place", map[string]string{"t__b_idx": "btree"}, "",
			`indexes: s.t has the index t__b_idx of type btree, but indexes says type: gin; a build that keeps s.t creates only the indexes it lacks: drop that index (drop index "s"."t__b_idx") and the next build creates it as configured`},
	} {
		err := IndexTypeChanged(rel, idx, tc.existing, tc.rebuild)
		if got := fmt.Sprint(err); (err == nil) != (tc.want == "") || err != nil && got != tc.want {
			t.Errorf("%s: %v\nwant %s", tc.name, err, tc.want)
		}
	}
}

// On Citus, sync_all_columns does not drop or retype a distributed table's
// distribution column, which Citus refuses ("cannot execute ALTER TABLE
// command involving partition column", which a table partitioned by
// another column reads as about that one): it says so in the config's
// words. The other modes leave the column as it is; other columns change.
func TestAdaptColumnsDistributionColumn(t *testing.T) {
	target := pgname.Rel{Schema: "s", Name: "t"}
	old := []Column{{"id", "integer"}, {"customer_id", "integer"}, {"amt", "integer"}}
	for _, tc := range []struct {
		name string
		mode string
		new  []Column
		want string
	}{
		{"retyped", "sync_all_columns", []Column{{"id", "integer"}, {"customer_id", "bigint"}, {"amt", "integer"}},
			`on_schema_change: sync_all_columns would change column customer_id from integer to bigint, but it is the distribution column of s.t (distributed_by), which Citus does not retype: cast it back in the model ("customer_id"::integer), or rebuild the table with --full-refresh`},
		{"gone", "sync_all_columns", []Column{{"id", "integer"}, {"amt", "integer"}},
			`on_schema_change: sync_all_columns would drop column customer_id, but it is the distribution column of s.t (distributed_by), which Citus does not drop: return it from the model, or distribute the table by another column and rebuild it with --full-refresh`},
		// A cast back is suggested only where PostgreSQL has one (not
		// from a date to a number).
		{"retyped to a date", "sync_all_columns", []Column{{"id", "integer"}, {"customer_id", "date"}, {"amt", "integer"}},
			`on_schema_change: sync_all_columns would change column customer_id from integer to date, but it is the distribution column of s.t (distributed_by), which Citus does not retype, and PostgreSQL has no cast from date back to integer: rebuild the table with --full-refresh`},
		{"other column retyped", "sync_all_columns", []Column{{"id", "integer"}, {"customer_id", "integer"}, {"amt", "bigint"}}, ""},
		{"retyped, appending", "append_new_columns", []Column{{"id", "integer"}, {"customer_id", "bigint"}, {"amt", "integer"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := AdaptColumns{Target: target, Mode: tc.mode, UniqueKey: []string{"id"}, Matches: true, DistributedBy: "customer_id"}
			_, _, err := a.Steps(old, tc.new, pgCasts)
			if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

// sync_all_columns alters a retyped column with a cast of the table's
// values (using x::newtype): where PostgreSQL has none (date to integer),
// the load is refused before anything changes, saying the column has to
// be rebuilt, not altered at the ALTER TABLE's 'cannot cast type date to
// integer'. The other modes keep the table's type and alter nothing.
func TestSyncAllColumnsWithoutACast(t *testing.T) {
	target := pgname.Rel{Schema: "s", Name: "t"}
	old := []Column{{"id", "integer"}, {"d", "date"}, {"n", "integer"}}
	for _, tc := range []struct {
		name, mode string
		new        []Column
		want       string
	}{
		{"no cast", "sync_all_columns", []Column{{"id", "integer"}, {"d", "integer"}, {"n", "integer"}},
			`on_schema_change: sync_all_columns would change column d of s.t from date to integer, but PostgreSQL has no cast from date to integer for the values the table has, so the column has to be rebuilt: rebuild the table with --full-refresh`},
		{"a cast", "sync_all_columns", []Column{{"id", "integer"}, {"d", "date"}, {"n", "text"}}, ""},
		{"kept", "append_new_columns", []Column{{"id", "integer"}, {"d", "integer"}, {"n", "integer"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := AdaptColumns{Target: target, Mode: tc.mode, UniqueKey: []string{"id"}, Matches: true}
			steps, _, err := a.Steps(old, tc.new, pgCasts)
			if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
			if tc.want != "" && len(steps) > 0 {
				t.Errorf("refused, but with steps %v", steps)
			}
		})
	}
}
