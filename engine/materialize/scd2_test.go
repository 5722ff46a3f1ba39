package materialize

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"strata/engine/pgname"
)

// scd2Fixture is a dimension keyed on (tenant, id) whose source has a name
// and an updated_at, and whose table also kept a column the source dropped (old).
func scd2Fixture(strategy, hardDeletes string) *SCD2 {
	target := pgname.Rel{Schema: "wh", Name: "dim_customer"}
	d := &SCD2{
		Target:       target,
		Source:       SCD2Stage(target),
		Keys:         []string{"tenant", "id"},
		Columns:      []string{"tenant", "id", "name", "updated_at"},
		Compare:      []string{"name", "updated_at"},
		Carry:        []string{"tenant", "id", "name", "updated_at", "old"},
		HardDeletes:  hardDeletes,
		ValidFrom:    "valid_from",
		ValidTo:      "valid_to",
		IsCurrent:    "is_current",
		SurrogateKey: "customer_key",
		RunStartedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if strategy == "timestamp" {
		d.UpdatedAt = "updated_at"
	}
	d.Markers = hardDeletes == "new_record"
	return d
}

// TestSCD2Changes pins the one statement that finds what a later build
// changes, for both strategies and every hard_deletes mode.
func TestSCD2Changes(t *testing.T) {
	for _, tc := range []struct {
		strategy, hardDeletes string
		markers               bool
		want                  string
	}{
		{"check", "ignore", false, `create temporary table "strata_scd2_changes" on commit drop as
select s.*, d."customer_key" as strata_closes, d.strata_row, greatest('2024-01-02T03:04:05Z'::timestamptz, d."valid_from" + interval '1 microsecond', case when d."customer_key" is null then (select case when max(h."valid_to") >= '2024-01-02T03:04:05Z'::timestamptz then greatest('2024-01-02T03:04:05Z'::timestamptz, max(h."valid_to") + interval '1 microsecond') end from "wh"."dim_customer" as h where h."tenant" = s."tenant" and h."id" = s."id") end) as strata_at, s."tenant" is null as strata_gone
from "wh"."dim_customer__strata_src" as s
left join (select ctid as strata_row, * from "wh"."dim_customer" where "is_current") as d on d."tenant" = s."tenant" and d."id" = s."id"
where (d."customer_key" is null or row(s."name", s."updated_at") is distinct from row(d."name", d."updated_at"))`},
		{"check", "invalidate", false, `create temporary table "strata_scd2_changes" on commit drop as
select s.*, d."customer_key" as strata_closes, d.strata_row, greatest('2024-01-02T03:04:05Z'::timestamptz, d."valid_from" + interval '1 microsecond', case when d."customer_key" is null then (select case when max(h."valid_to") >= '2024-01-02T03:04:05Z'::timestamptz then greatest('2024-01-02T03:04:05Z'::timestamptz, max(h."valid_to") + interval '1 microsecond') end from "wh"."dim_customer" as h where h."tenant" = s."tenant" and h."id" = s."id") end) as strata_at, s."tenant" is null as strata_gone
from "wh"."dim_customer__strata_src" as s
full join (select ctid as strata_row, * from "wh"."dim_customer" where "is_current") as d on d."tenant" = s."tenant" and d."id" = s."id"
where (s."tenant" is null)
   or (not s."tenant" is null and (d."customer_key" is null or row(s."name", s."updated_at") is distinct from row(d."name", d."updated_at")))`},
		{"check", "new_record", false, `create temporary table "strata_scd2_changes" on commit drop as
select s.*, d."customer_key" as strata_closes, d.strata_row, greatest('2024-01-02T03:04:05Z'::timestamptz, d."valid_from" + interval '1 microsecond', case when d."customer_key" is null then (select case when max(h."valid_to") >= '2024-01-02T03:04:05Z'::timestamptz then greatest('2024-01-02T03:04:05Z'::timestamptz, max(h."valid_to") + interval '1 microsecond') end from "wh"."dim_customer" as h where h."tenant" = s."tenant" and h."id" = s."id") end, case when d."is_deleted" is true and d."valid_from" >= '2024-01-02T03:04:05Z'::timestamptz then '2024-01-02T03:04:05Z'::timestamptz end) as strata_at, s."tenant" is null as strata_gone
from "wh"."dim_customer__strata_src" as s
full join (select ctid as strata_row, * from "wh"."dim_customer" where "is_current") as d on d."tenant" = s."tenant" and d."id" = s."id"
where (s."tenant" is null and not (d."is_deleted" is true))
   or (not s."tenant" is null and (d."customer_key" is null or d."is_deleted" is true or row(s."name", s."updated_at") is distinct from row(d."name", d."updated_at")))`},
		{"timestamp", "ignore", false, `create temporary table "strata_scd2_changes" on commit drop as
select s.*, d."customer_key" as strata_closes, d.strata_row, greatest(coalesce(s."updated_at"::timestamptz, '2024-01-02T03:04:05Z'::timestamptz), d."valid_from" + interval '1 microsecond', case when d."customer_key" is null then (select case when max(h."valid_to") >= coalesce(s."updated_at"::timestamptz, '2024-01-02T03:04:05Z'::timestamptz) then greatest('2024-01-02T03:04:05Z'::timestamptz, max(h."valid_to") + interval '1 microsecond') end from "wh"."dim_customer" as h where h."tenant" = s."tenant" and h."id" = s."id") end) as strata_at, s."tenant" is null as strata_gone
from "wh"."dim_customer__strata_src" as s
left join (select ctid as strata_row, * from "wh"."dim_customer" where "is_current") as d on d."tenant" = s."tenant" and d."id" = s."id"
where (d."customer_key" is null or (s."updated_at" > d."updated_at" or (d."updated_at" is null and s."updated_at" is not null)))`},
		{"timestamp", "invalidate", false, `create temporary table "strata_scd2_changes" on commit drop as
select s.*, d."customer_key" as strata_closes, d.strata_row, greatest(coalesce(s."updated_at"::timestamptz, '2024-01-02T03:04:05Z'::timestamptz), d."valid_from" + interval '1 microsecond', case when d."customer_key" is null then (select case when max(h."valid_to") >= coalesce(s."updated_at"::timestamptz, '2024-01-02T03:04:05Z'::timestamptz) then greatest('2024-01-02T03:04:05Z'::timestamptz, max(h."valid_to") + interval '1 microsecond') end from "wh"."dim_customer" as h where h."tenant" = s."tenant" and h."id" = s."id") end) as strata_at, s."tenant" is null as strata_gone
from "wh"."dim_customer__strata_src" as s
full join (select ctid as strata_row, * from "wh"."dim_customer" where "is_current") as d on d."tenant" = s."tenant" and d."id" = s."id"
where (s."tenant" is null)
   or (not s."tenant" is null and (d."customer_key" is null or (s."updated_at" > d."updated_at" or (d."updated_at" is null and s."updated_at" is not null))))`},
		{"timestamp", "new_record", false, `create temporary table "strata_scd2_changes" on commit drop as
select s.*, d."customer_key" as strata_closes, d.strata_row, greatest(coalesce(s."updated_at"::timestamptz, '2024-01-02T03:04:05Z'::timestamptz), d."valid_from" + interval '1 microsecond', case when d."customer_key" is null then (select case when max(h."valid_to") >= coalesce(s."updated_at"::timestamptz, '2024-01-02T03:04:05Z'::timestamptz) then greatest('2024-01-02T03:04:05Z'::timestamptz, max(h."valid_to") + interval '1 microsecond') end from "wh"."dim_customer" as h where h."tenant" = s."tenant" and h."id" = s."id") end, case when d."is_deleted" is true and d."valid_from" >= coalesce(s."updated_at"::timestamptz, '2024-01-02T03:04:05Z'::timestamptz) then '2024-01-02T03:04:05Z'::timestamptz end) as strata_at, s."tenant" is null as strata_gone
from "wh"."dim_customer__strata_src" as s
full join (select ctid as strata_row, * from "wh"."dim_customer" where "is_current") as d on d."tenant" = s."tenant" and d."id" = s."id"
where (s."tenant" is null and not (d."is_deleted" is true))
   or (not s."tenant" is null and (d."customer_key" is null or d."is_deleted" is true or (s."updated_at" > d."updated_at" or (d."updated_at" is null and s."updated_at" is not null))))`},
		// A dimension once built under new_record keeps its markers meaning deleted.
		{"check", "ignore", true, `create temporary table "strata_scd2_changes" on commit drop as
select s.*, d."customer_key" as strata_closes, d.strata_row, greatest('2024-01-02T03:04:05Z'::timestamptz, d."valid_from" + interval '1 microsecond', case when d."customer_key" is null then (select case when max(h."valid_to") >= '2024-01-02T03:04:05Z'::timestamptz then greatest('2024-01-02T03:04:05Z'::timestamptz, max(h."valid_to") + interval '1 microsecond') end from "wh"."dim_customer" as h where h."tenant" = s."tenant" and h."id" = s."id") end, case when d."is_deleted" is true and d."valid_from" >= '2024-01-02T03:04:05Z'::timestamptz then '2024-01-02T03:04:05Z'::timestamptz end) as strata_at, s."tenant" is null as strata_gone
from "wh"."dim_customer__strata_src" as s
left join (select ctid as strata_row, * from "wh"."dim_customer" where "is_current") as d on d."tenant" = s."tenant" and d."id" = s."id"
where (d."customer_key" is null or d."is_deleted" is true or row(s."name", s."updated_at") is distinct from row(d."name", d."updated_at"))`},
	} {
		t.Run(fmt.Sprintf("%s/%s/markers=%v", tc.strategy, tc.hardDeletes, tc.markers), func(t *testing.T) {
			d := scd2Fixture(tc.strategy, tc.hardDeletes)
			d.Markers = d.Markers || tc.markers
			got := d.Changes()
			if got.SQL != tc.want || got.Body != -1 {
				t.Errorf("got (body %d)\n%s\nwant\n%s", got.Body, got.SQL, tc.want)
			}
		})
	}
}

// TestSCD2ByText: columns without an equality are compared as text, on both
// sides, in the change test and in the probe that finds them.
func TestSCD2ByText(t *testing.T) {
	d := scd2Fixture("check", "ignore")
	d.ByText = []string{"name"}
	if got, want := d.changed(), `row(s."name"::text, s."updated_at") is distinct from row(d."name"::text, d."updated_at")`; got != want {
		t.Errorf("changed:\n got %s\nwant %s", got, want)
	}
	if got, want := d.CompareProbe([]string{"updated_at"}), `select row(s."updated_at") is distinct from row(d."updated_at") from "wh"."dim_customer__strata_src" as s, "wh"."dim_customer" as d where false`; got != want {
		t.Errorf("probe:\n got %s\nwant %s", got, want)
	}
	if got, want := d.CompareProbe(d.Compare), `select row(s."name"::text, s."updated_at") is distinct from row(d."name"::text, d."updated_at") from "wh"."dim_customer__strata_src" as s, "wh"."dim_customer" as d where false`; got != want {
		t.Errorf("probe:\n got %s\nwant %s", got, want)
	}
}

// TestSCD2ParallelChanges: only the left join of hard_deletes ignore is
// let run in parallel, and the setting is put back after it (checked
// against the database by TestSCD2KeepsParallelSetting).
func TestSCD2ParallelChanges(t *testing.T) {
	for _, tc := range []struct {
		hardDeletes   string
		before, after []string
	}{
		{"ignore",
			[]string{"select set_config('strata.parallel_tuple_cost', current_setting('parallel_tuple_cost'), true), set_config('parallel_tuple_cost', '0', true)"},
			[]string{"select set_config('parallel_tuple_cost', current_setting('strata.parallel_tuple_cost'), true)"}},
		{"invalidate", nil, nil},
		{"new_record", nil, nil},
	} {
		before, after := scd2Fixture("check", tc.hardDeletes).ParallelChanges()
		for _, side := range []struct {
			name string
			got  []Step
			want []string
		}{{"before", before, tc.before}, {"after", after, tc.after}} {
			var got []string
			for _, s := range side.got {
				if s.Body != -1 {
					t.Errorf("%s %s: %q has body %d, want -1", tc.hardDeletes, side.name, s.SQL, s.Body)
				}
				got = append(got, s.SQL)
			}
			if !slices.Equal(got, side.want) {
				t.Errorf("%s %s: got %q, want %q", tc.hardDeletes, side.name, got, side.want)
			}
		}
	}
}

// TestSCD2Statements pins the other statements of a build, under strategy
// timestamp and hard_deletes new_record (the widest: a deletion flag, change
// times from updated_at).
func TestSCD2Statements(t *testing.T) {
	d := scd2Fixture("timestamp", "new_record")
	for _, tc := range []struct {
		name string
		got  Step
		body int
		want string
	}{
		{"Stage", d.Stage("select 1"), 73, `create unlogged table "wh"."dim_customer__strata_src" as
select * from (
select 1
) as strata_source`},
		{"KeyIndex", d.KeyIndex(), -1, `create unique index "dim_customer__strata_src_key" on "wh"."dim_customer__strata_src" ("tenant", "id")`},
		{"DropStage", d.DropStage(), -1, `drop table "wh"."dim_customer__strata_src"`},
		{"Lock", d.Lock(), -1, `select pg_advisory_xact_lock(hashtextextended('strata:scd2:wh.dim_customer', 0))`},
		{"LockTable", d.LockTable(), -1, `lock table "wh"."dim_customer" in share row exclusive mode`},
		{"Create", d.Create(d.Target), -1, `create table "wh"."dim_customer" with (fillfactor = 90) as
select md5(row(s."tenant", s."id")::text || '|' || extract(epoch from coalesce(s."updated_at"::timestamptz, '2024-01-02T03:04:05Z'::timestamptz))::text) as "customer_key",
  s."tenant",
  s."id",
  s."name",
  s."updated_at",
  coalesce(s."updated_at"::timestamptz, '2024-01-02T03:04:05Z'::timestamptz) as "valid_from",
  null::timestamptz as "valid_to",
  true as "is_current",
  false as "is_deleted"
from "wh"."dim_customer__strata_src" as s`},
		{"AddColumn", d.AddColumn("tier", "text"), -1, `alter table "wh"."dim_customer" add column "tier" text`},
		{"AddIsDeleted", d.AddIsDeleted(), -1, `alter table "wh"."dim_customer" add column "is_deleted" boolean not null default false`},
		{"AnalyzeChanges", d.AnalyzeChanges(), -1, `analyze "strata_scd2_changes"`},
		{"Close", d.Close(), -1, `update "wh"."dim_customer" as d set "valid_to" = c.strata_at, "is_current" = false
from "strata_scd2_changes" as c
where d.ctid = any(array(select strata_row from "strata_scd2_changes" where strata_row is not null))
  and d.ctid = c.strata_row`},
		{"Insert", d.Insert(), -1, `insert into "wh"."dim_customer" ("customer_key", "tenant", "id", "name", "updated_at", "valid_from", "valid_to", "is_current", "is_deleted")
select md5(row(c."tenant", c."id")::text || '|' || extract(epoch from c.strata_at)::text), c."tenant", c."id", c."name", c."updated_at", c.strata_at, null, true, false
from "strata_scd2_changes" as c
where not c.strata_gone
order by c."tenant", c."id"`},
		{"InsertDeleted", d.InsertDeleted(), -1, `insert into "wh"."dim_customer" ("customer_key", "tenant", "id", "name", "updated_at", "old", "valid_from", "valid_to", "is_current", "is_deleted")
select md5(row(d."tenant", d."id")::text || '|' || extract(epoch from x.strata_at)::text), d."tenant", d."id", d."name", d."updated_at", d."old", x.strata_at, null, true, true
from "strata_scd2_changes" as x
join "wh"."dim_customer" as d on d."customer_key" = x.strata_closes
where x.strata_gone
  and d."customer_key" = any(array(select strata_closes from "strata_scd2_changes" where strata_gone))`},
	} {
		if tc.got.SQL != tc.want || tc.got.Body != tc.body {
			t.Errorf("%s: got (body %d)\n%s\nwant (body %d)\n%s", tc.name, tc.got.Body, tc.got.SQL, tc.body, tc.want)
		}
	}
}

// TestSCD2CheckIgnore pins what differs from the statements above under
// strategy check and hard_deletes ignore: every change at the run's start,
// no deletion flag.
func TestSCD2CheckIgnore(t *testing.T) {
	d := scd2Fixture("check", "ignore")
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"Create", d.Create(pgname.Rel{Schema: "wh", Name: "dim_customer__strata_tmp"}).SQL, `create table "wh"."dim_customer__strata_tmp" with (fillfactor = 90) as
select md5(row(s."tenant", s."id")::text || '|' || extract(epoch from '2024-01-02T03:04:05Z'::timestamptz)::text) as "customer_key",
  s."tenant",
  s."id",
  s."name",
  s."updated_at",
  '2024-01-02T03:04:05Z'::timestamptz as "valid_from",
  null::timestamptz as "valid_to",
  true as "is_current"
from "wh"."dim_customer__strata_src" as s`},
		{"Insert", d.Insert().SQL, `insert into "wh"."dim_customer" ("customer_key", "tenant", "id", "name", "updated_at", "valid_from", "valid_to", "is_current")
select md5(row(c."tenant", c."id")::text || '|' || extract(epoch from c.strata_at)::text), c."tenant", c."id", c."name", c."updated_at", c.strata_at, null, true
from "strata_scd2_changes" as c
where not c.strata_gone
order by c."tenant", c."id"`},
		{"Bookkeeping", strings.Join(d.Bookkeeping(), ","), "customer_key,valid_from,valid_to,is_current"},
		{"Bookkeeping new_record", strings.Join(scd2Fixture("check", "new_record").Bookkeeping(), ","), "customer_key,valid_from,valid_to,is_current,is_deleted"},
		{"NullKeys", d.NullKeys(), `select count(*) from "wh"."dim_customer__strata_src" where "tenant" is null or "id" is null`},
		{"DuplicateKey", d.DuplicateKey(), `select "tenant"::text, "id"::text, count(*) from "wh"."dim_customer__strata_src" group by "tenant", "id" having count(*) > 1 order by count(*) desc, "tenant", "id" limit 1`},
		{"CountGone", d.CountGone(), `select count(*) from "strata_scd2_changes" where strata_gone`},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, tc.got, tc.want)
		}
	}
	var idx []string
	for _, s := range d.Indexes() {
		idx = append(idx, s.SQL)
	}
	want := []string{
		`create unique index "dim_customer__scd2_key_uidx" on "wh"."dim_customer" ("customer_key")`,
		`create unique index "dim_customer__scd2_history_uidx" on "wh"."dim_customer" ("tenant", "id", "valid_from")`,
	}
	if strings.Join(idx, "\n") != strings.Join(want, "\n") {
		t.Errorf("Indexes: got\n%s\nwant\n%s", strings.Join(idx, "\n"), strings.Join(want, "\n"))
	}
}

// TestSCD2Names: identifiers are quoted (quotes, upper case, non-ASCII), and
// the names strata derives stay within PostgreSQL's 63 bytes.
func TestSCD2Names(t *testing.T) {
	target := pgname.Rel{Schema: "Wh", Name: `dim "ü"`}
	d := &SCD2{Target: target, Source: SCD2Stage(target), Keys: []string{`Kü"d`}, IsCurrent: "is_current", SurrogateKey: "sk", ValidFrom: "valid_from",
		RunStartedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))}
	if got, want := d.KeyIndex().SQL, `create unique index "dim ""ü""__strata_src_key" on "Wh"."dim ""ü""__strata_src" ("Kü""d")`; got != want {
		t.Errorf("KeyIndex: got\n%s\nwant\n%s", got, want)
	}
	if got, want := d.Lock().SQL, `select pg_advisory_xact_lock(hashtextextended('strata:scd2:Wh.dim "ü"', 0))`; got != want {
		t.Errorf("Lock: got\n%s\nwant\n%s", got, want)
	}
	if got := d.runTS(); got != `'2024-01-02T02:04:05Z'::timestamptz` {
		t.Errorf("the run's start is written in UTC: %s", got)
	}
	long := pgname.Rel{Schema: "s", Name: strings.Repeat("d", 63)}
	d = &SCD2{Target: long, Source: SCD2Stage(long), Keys: []string{"id"}, IsCurrent: "c", SurrogateKey: "k", ValidFrom: "f"}
	names := []string{d.Source.Name, pgname.Suffixed(d.Source.Name, "_key")}
	for _, s := range d.Indexes() {
		_, after, _ := strings.Cut(s.SQL, " index ")
		name, _, _ := strings.Cut(after, " on ")
		names = append(names, name)
	}
	if len(names) != 4 {
		t.Fatalf("names: %v", names)
	}
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.Trim(n, `"`)
		if len(n) > 63 || seen[n] {
			t.Errorf("derived name %q is too long or not unique (%v)", n, names)
		}
		seen[n] = true
	}
}

// TestSCD2Errors pins the errors a user can cause with the config or the source.
func TestSCD2Errors(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name      string
		d         *SCD2
		checkCols []string
		want      string
	}{
		{"fine", scd2Fixture("timestamp", "invalidate"), []string{"name"}, ""},
		{"check all", scd2Fixture("check", "ignore"), []string{"all"}, ""},
		{"no key", func() *SCD2 { d := scd2Fixture("check", "ignore"); d.Keys = nil; return d }(), nil,
			"an scd2 model needs unique_key (the column or columns that identify a row of the source)"},
		{"every problem at once", func() *SCD2 {
			d := scd2Fixture("timestamp", "new_record")
			d.Keys = []string{"tenant", "kunde_ø"}
			d.UpdatedAt = "changed"
			d.Columns = append(d.Columns, "valid_to", "is_deleted")
			return d
		}(), []string{"name", "städte"},
			`unique_key: "kunde_ø" is not a column of the model's query (the query has: tenant, id, name, updated_at, valid_to, is_deleted); updated_at: "changed" is not a column of the model's query (the query has: tenant, id, name, updated_at, valid_to, is_deleted); check_cols: "städte" is not a column of the model's query (the query has: tenant, id, name, updated_at, valid_to, is_deleted); the model's query has a column "valid_to", which strata maintains in an scd2 dimension; rename it, or name the bookkeeping columns with scd2_columns; the model's query has a column "is_deleted", which strata maintains in an scd2 dimension; rename it, or name the bookkeeping columns with scd2_columns (the query has: tenant, id, name, updated_at, valid_to, is_deleted)`},
		{"two check_cols missing", scd2Fixture("check", "ignore"), []string{"city", "name", "tier"},
			`check_cols: "city", "tier" are not columns of the model's query (the query has: tenant, id, name, updated_at)`},
		{"is_deleted is a source column without new_record", func() *SCD2 {
			d := scd2Fixture("check", "invalidate")
			d.Columns = append(d.Columns, "is_deleted")
			return d
		}(), nil, ""},
		{"names of the work table", func() *SCD2 {
			d := scd2Fixture("check", "ignore")
			d.Columns = append(d.Columns, "strata_gone", "strata_row")
			return d
		}(), nil, `the model's query has a column "strata_row", a name strata uses while it builds an scd2 dimension; rename it; the model's query has a column "strata_gone", a name strata uses while it builds an scd2 dimension; rename it (the query has: tenant, id, name, updated_at, strata_gone, strata_row)`},
	} {
		tc.d.CheckCols = tc.checkCols
		err := tc.d.CheckSource()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
	d := scd2Fixture("check", "ignore")
	for _, tc := range []struct{ got, want string }{
		{d.NullKeyError(1).Error(), "unique_key (tenant, id) is NULL in 1 row of the source; the dimension was not changed"},
		{d.NullKeyError(3).Error(), "unique_key (tenant, id) is NULL in 3 rows of the source; the dimension was not changed"},
		{d.DuplicateKeyError([]*string{str("acme"), str("7")}, 2).Error(), "unique_key is not unique in the source: tenant=acme, id=7 appears 2 times; the dimension was not changed"},
		{d.DuplicateKeyError([]*string{str("Ålesund\r\n"), nil}, 3).Error(), "unique_key is not unique in the source: tenant=Ålesund\r\n, id=NULL appears 3 times; the dimension was not changed"},
	} {
		if tc.got != tc.want {
			t.Errorf("got\n%q\nwant\n%q", tc.got, tc.want)
		}
	}
}

// TestSCD2SourceProblemKeys: each problem names the config key it is
// about, where a build and check place it; the query's own problems none.
func TestSCD2SourceProblemKeys(t *testing.T) {
	d := scd2Fixture("timestamp", "new_record")
	d.Keys = []string{"tenant", "kunde"}
	d.UpdatedAt = "changed"
	d.CheckCols = []string{"städte"}
	d.Columns = append(d.Columns, "valid_to", "strata_row")
	var keys []string
	for _, p := range d.SourceProblems() {
		keys = append(keys, p.Key)
		if p.Key != "" && !strings.HasPrefix(p.Msg, p.Key+": ") {
			t.Errorf("%q does not start with its key %s", p.Msg, p.Key)
		}
	}
	if got, want := strings.Join(keys, ","), "unique_key,updated_at,check_cols,"; got != want {
		t.Errorf("keys %s, want %s", got, want)
	}
}
