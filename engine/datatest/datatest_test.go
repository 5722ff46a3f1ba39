package datatest

import (
	"strings"
	"testing"
	"time"
)

func resolve(name string) (string, error) { return `"public"."` + name + `"`, nil }

func TestSQL(t *testing.T) {
	rel := `"s"."m"`
	// YAML decodes unquoted dates and timestamps to time.Time.
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	stamp := time.Date(2024, 6, 1, 10, 30, 0, 0, time.UTC)
	zoned := time.Date(2024, 6, 1, 10, 30, 0, 0, time.FixedZone("", 2*3600))
	cases := []struct {
		name string
		spec Spec
		want string
	}{
		{"not_null", Spec{Kind: "not_null", Relation: rel, Column: "id"},
			`select * from "s"."m" where "id" is null`},
		{"unique", Spec{Kind: "unique", Relation: rel, Column: "id"},
			`select "id" as unique_field, count(*) as n_records from "s"."m" where "id" is not null group by "id" having count(*) > 1`},
		{"accepted_values quotes every value", Spec{Kind: "accepted_values", Relation: rel, Column: "k", Args: map[string]any{"values": []any{"a", "it's; drop", `back\slash`, 3, 1.5, true}}},
			`select "k" as value_field, count(*) as n_records from "s"."m" where "k" is not null and "k" not in ('a', 'it''s; drop', E'back\\slash', '3', '1.5', 'true') group by "k"`},
		{"accepted_values dates as dates", Spec{Kind: "accepted_values", Relation: rel, Column: "d", Args: map[string]any{"values": []any{day, stamp, zoned}}},
			`select "d" as value_field, count(*) as n_records from "s"."m" where "d" is not null and "d" not in ('2024-01-01', '2024-06-01T10:30:00Z', '2024-06-01T10:30:00+02:00') group by "d"`},
		{"accepted_values quote false", Spec{Kind: "accepted_values", Relation: rel, Column: "k", Args: map[string]any{"values": []any{1, 2.5, false, "x", day}, "quote": false}},
			`select "k" as value_field, count(*) as n_records from "s"."m" where "k" is not null and "k" not in (1, 2.5, false, 'x', '2024-01-01') group by "k"`},
		{"accepted_values quote true", Spec{Kind: "accepted_values", Relation: rel, Column: "k", Args: map[string]any{"values": []any{1}, "quote": true}},
			`select "k" as value_field, count(*) as n_records from "s"."m" where "k" is not null and "k" not in ('1') group by "k"`},
		{"relationships", Spec{Kind: "relationships", Relation: rel, Column: "pid", Args: map[string]any{"to": "p", "field": "id"}, Resolve: resolve},
			`select child."pid" as from_field, count(*) as n_records from "s"."m" as child where child."pid" is not null and not exists (select 1 from "public"."p" as parent where parent."id" = child."pid") group by child."pid"`},
		{"accepted_range exclusive", Spec{Kind: "accepted_range", Relation: rel, Column: "v", Args: map[string]any{"min": 0, "inclusive": false}},
			`select * from "s"."m" where "v" is not null and not ("v" > 0)`},
		{"accepted_range both", Spec{Kind: "accepted_range", Relation: rel, Column: "d", Args: map[string]any{"min": "2024-01-01", "max": 9}},
			`select * from "s"."m" where "d" is not null and not ("d" >= '2024-01-01' and "d" <= 9)`},
		{"accepted_range dates", Spec{Kind: "accepted_range", Relation: rel, Column: "d", Args: map[string]any{"min": day, "max": stamp}},
			`select * from "s"."m" where "d" is not null and not ("d" >= '2024-01-01' and "d" <= '2024-06-01T10:30:00Z')`},
		{"expression on a column", Spec{Kind: "expression_is_true", Relation: rel, Column: "v", Args: map[string]any{"expression": "> 0"}},
			`select * from "s"."m" where not ("v" > 0)`},
		{"unique_combination", Spec{Kind: "unique_combination", Relation: rel, Args: map[string]any{"columns": []any{"a", `b"c`}}},
			`select "a", "b""c", count(*) as n_records from "s"."m" group by "a", "b""c" having count(*) > 1`},
		{"equal_row_count", Spec{Kind: "equal_row_count", Relation: rel, Args: map[string]any{"to": "o"}, Resolve: resolve},
			`select * from (select (select count(*) from "s"."m") as row_count, (select count(*) from "public"."o") as other_row_count) as counts where row_count <> other_row_count`},
		{"row_count", Spec{Kind: "row_count", Relation: rel, Args: map[string]any{"min": 1, "max": 5}},
			`select * from (select count(*) as row_count from "s"."m") as counts where row_count < 1 or row_count > 5`},
		{"not_empty", Spec{Kind: "not_empty", Relation: rel},
			`select 'no rows' as problem where not exists (select 1 from "s"."m")`},
		{"recency", Spec{Kind: "recency", Relation: rel, Args: map[string]any{"field": "at", "max_age": "24h"}},
			`select max("at") as most_recent from "s"."m" having max("at") is null or max("at") < (case when pg_typeof(max("at")) = 'date'::regtype then current_date - interval '24 hours' else now() - interval '24 hours' end)`},
		{"where filters the relation", Spec{Kind: "not_null", Relation: rel, Column: "id", Where: "kind = 'x'"},
			`select * from (select * from "s"."m" where kind = 'x') as strata_filtered where "id" is null`},
		{"where filters the child of relationships", Spec{Kind: "relationships", Relation: rel, Column: "pid", Args: map[string]any{"to": "p", "field": "id"}, Resolve: resolve, Where: "pid > 0"},
			`select child."pid" as from_field, count(*) as n_records from (select * from "s"."m" where pid > 0) as child where child."pid" is not null and not exists (select 1 from "public"."p" as parent where parent."id" = child."pid") group by child."pid"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := SQL(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestSQLErrors(t *testing.T) {
	cases := []struct {
		spec Spec
		want string
	}{
		{Spec{Kind: "not_null", Relation: "r"}, "test not_null needs a column"},
		{Spec{Kind: "accepted_values", Relation: "r", Column: "c"}, "accepted_values needs a non-empty list of values"},
		{Spec{Kind: "accepted_range", Relation: "r", Column: "c", Args: map[string]any{}}, "accepted_range needs min, max or both"},
		{Spec{Kind: "recency", Relation: "r", Args: map[string]any{"field": "f", "max_age": "soon"}}, `expected a duration such as 30m, 24h or 7d, got "soon"`},
		{Spec{Kind: "relationships", Relation: "r", Column: "c", Args: map[string]any{"to": "p"}, Resolve: resolve}, "relationships needs field"},
		{Spec{Kind: "nope", Relation: "r"}, `unknown test "nope"`},
		{Spec{Kind: "unique", Relation: "r"}, "test unique needs a column"},
		{Spec{Kind: "accepted_values", Relation: "r", Column: "c", Args: map[string]any{"values": []any{}}}, "accepted_values needs a non-empty list of values"},
		{Spec{Kind: "relationships", Relation: "r", Column: "c", Args: map[string]any{"field": "id"}, Resolve: resolve}, "relationships needs to"},
		{Spec{Kind: "relationships", Relation: "r", Column: "c", Args: map[string]any{"to": "p", "field": "id"}}, `cannot resolve "p"`},
		{Spec{Kind: "expression_is_true", Relation: "r", Args: map[string]any{"expression": 1}}, "expression_is_true needs an expression"},
		{Spec{Kind: "unique_combination", Relation: "r", Args: map[string]any{"columns": []any{}}}, "unique_combination needs columns"},
		{Spec{Kind: "equal_row_count", Relation: "r", Args: map[string]any{}, Resolve: resolve}, "equal_row_count needs to"},
		{Spec{Kind: "row_count", Relation: "r", Args: map[string]any{}}, "row_count needs min, max or both"},
		{Spec{Kind: "recency", Relation: "r", Args: map[string]any{"field": "f"}}, `expected a duration such as 30m, 24h or 7d, got ""`},
		{Spec{Kind: "freshness", Relation: "r", Args: map[string]any{"field": "f"}}, "freshness needs warn_after or error_after"},
		{Spec{Kind: "freshness", Relation: "r", Args: map[string]any{"field": "f", "warn_after": "1w"}}, `expected a duration such as 30m, 24h or 7d, got "1w"`},
		{Spec{Kind: "freshness", Relation: "r", Args: map[string]any{"field": "f", "error_after": "d"}}, `expected a duration such as 30m, 24h or 7d, got "d"`},
	}
	for _, c := range cases {
		if _, err := SQL(c.spec); err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %q", c.spec.Kind, err, c.want)
		}
	}
}

func TestFreshnessLevels(t *testing.T) {
	got, err := SQL(Spec{Kind: "freshness", Relation: `"crm"."a"`, Args: map[string]any{"field": "loaded", "warn_after": "1h", "error_after": "2d"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`then 'error' else 'warn' end as level`, `interval '2 days'`, `interval '1 hours'`} {
		if !strings.Contains(got, want) {
			t.Errorf("freshness SQL lacks %q:\n%s", want, got)
		}
	}
}
