package manifest

import (
	"sort"
	"strings"
	"testing"
)

// A model or seed may not be named like an index or a partition that strata
// creates for another node in the same schema: PostgreSQL keeps them in one
// namespace, and the run would fail.
func TestBuildChecksDerivedNames(t *testing.T) {
	const tbl = `{{ config "materialized" "table" }}select 1`
	cases := []struct {
		name  string
		files map[string]string
		want  []string // exactly the diagnostics
	}{
		{
			name: "a model named like another's index",
			files: map[string]string{
				"models/orders.sql":           tbl,
				"models/orders.yml":           "models:\n  - name: orders\n    config: {indexes: [{columns: [id]}, {columns: [a, b], unique: true}]}\n",
				"models/orders__id_idx.sql":   sel1,
				"models/orders__a_b_uidx.sql": sel1,
			},
			want: []string{
				`models/orders__a_b_uidx.sql:1:1: model orders__a_b_uidx (models/orders__a_b_uidx.sql) builds the relation "tgt"."orders__a_b_uidx", which is the name of the index strata creates for model orders (models/orders.sql) (expected another name: set an alias for one of them)`,
				`models/orders__id_idx.sql:1:1: model orders__id_idx (models/orders__id_idx.sql) builds the relation "tgt"."orders__id_idx", which is the name of the index strata creates for model orders (models/orders.sql) (expected another name: set an alias for one of them)`,
			},
		},
		{
			name: "an alias that is a seed's index; the alias is where",
			files: map[string]string{
				"seeds/codes.csv": "code\na\n",
				"seeds/codes.yml": "seeds:\n  - name: codes\n    config: {indexes: [{columns: [code]}]}\n",
				"models/m.sql":    `{{ config "alias" "codes__code_idx" }}select 1`,
			},
			want: []string{`models/m.sql:1:4: model m (models/m.sql) builds the relation "tgt"."codes__code_idx", which is the name of the index strata creates for seed codes (seeds/codes.csv) (expected another name: set an alias for one of them)`},
		},
		{
			name: "an scd2 model's own indexes",
			files: map[string]string{
				"models/dim.sql":                    `{{ config "materialized" "scd2" "unique_key" "id" "updated_at" "u" }}select 1`,
				"models/dim__scd2_key_uidx.sql":     sel1,
				"models/dim__scd2_history_uidx.sql": sel1,
			},
			want: []string{
				`models/dim__scd2_history_uidx.sql:1:1: model dim__scd2_history_uidx (models/dim__scd2_history_uidx.sql) builds the relation "tgt"."dim__scd2_history_uidx", which is the name of the index strata creates for model dim (models/dim.sql) (expected another name: set an alias for one of them)`,
				`models/dim__scd2_key_uidx.sql:1:1: model dim__scd2_key_uidx (models/dim__scd2_key_uidx.sql) builds the relation "tgt"."dim__scd2_key_uidx", which is the name of the index strata creates for model dim (models/dim.sql) (expected another name: set an alias for one of them)`,
			},
		},
		{
			name: "a model named like another's partition",
			files: map[string]string{
				"models/ev.sql":           `{{ config "materialized" "incremental" "partition_by" (dict "column" "d") }}select 1`,
				"models/ev_p202401.sql":   sel1,
				"models/ev_pdefault.sql":  sel1,
				"models/ev_p2024.sql":     sel1, // a year: ev is partitioned by month
				"models/ev_p20240101.sql": sel1,
			},
			want: []string{
				`models/ev_p202401.sql:1:1: model ev_p202401 (models/ev_p202401.sql) builds the relation "tgt"."ev_p202401", which is the name of the partition strata creates for model ev (models/ev.sql) (expected another name: set an alias for one of them)`,
				`models/ev_pdefault.sql:1:1: model ev_pdefault (models/ev_pdefault.sql) builds the relation "tgt"."ev_pdefault", which is the name of the partition strata creates for model ev (models/ev.sql) (expected another name: set an alias for one of them)`,
			},
		},
		{
			name: "no clash: another schema, a view's indexes, a table that is not partitioned",
			files: map[string]string{
				"models/orders.sql":         tbl,
				"models/orders.yml":         "models:\n  - name: orders\n    config: {indexes: [{columns: [id]}]}\n  - name: v\n    config: {indexes: [{columns: [id]}]}\n",
				"models/x.sql":              `{{ config "schema" "other" "alias" "orders__id_idx" }}select 1`,
				"models/v.sql":              sel1,
				"models/v__id_idx.sql":      sel1,
				"models/orders_p202401.sql": sel1,
			},
			want: []string{
				`models/orders.yml:5:23: warning: indexes is ignored: model v is materialized as view, and indexes applies only to table, incremental, materialized_view and scd2 models`,
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := buildDiags(t, c.files)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// Config a model sets for itself that does nothing for its
// materialization (indexes on a view, partition_by on a materialized view,
// hooks on an ephemeral model) was accepted and silently ignored; it is a
// warning at the key. Folder defaults, which apply to every kind of model
// in the folder, are not warned about.
func TestConfigThatDoesNothingWarns(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "each kind",
			files: map[string]string{
				"models/v.sql":   `{{ config "unique_key" "id" "swap" "truncate_insert" }}select 1 as id`,
				"models/mv.sql":  `{{ config "materialized" "materialized_view" }}select 1 as id`,
				"models/mv.yml":  "models:\n  - name: mv\n    config:\n      partition_by: {column: d}\n      on_schema_change: fail\n",
				"models/e.sql":   `{{ config "materialized" "ephemeral" "post_hook" "select 1" }}select 1 as id`,
				"models/t.sql":   `{{ config "materialized" "table" "strategy" "check" "incremental_strategy" "merge" }}select 1 as id`,
				"models/inc.sql": `{{ config "materialized" "incremental" "unique_key" "id" "partition_by" (dict "column" "d") "indexes" (list (dict "columns" (list "id"))) }}select 1 as id, current_date as d`,
			},
			want: []string{
				`models/e.sql:1:4: warning: post_hook is ignored: model e is materialized as ephemeral, and post_hook applies only to view, table, incremental, materialized_view and scd2 models`,
				`models/mv.yml:4:21: warning: partition_by is ignored: model mv is materialized as materialized_view, and partition_by applies only to table and incremental models`,
				`models/mv.yml:5:25: warning: on_schema_change is ignored: model mv is materialized as materialized_view, and on_schema_change applies only to incremental models`,
				`models/t.sql:1:4: warning: incremental_strategy is ignored: model t is materialized as table, and incremental_strategy applies only to incremental models`,
				`models/t.sql:1:4: warning: strategy is ignored: model t is materialized as table, and strategy applies only to scd2 models`,
				`models/v.sql:1:4: warning: swap is ignored: model v is materialized as view, and swap applies only to table models`,
				`models/v.sql:1:4: warning: unique_key is ignored: model v is materialized as view, and unique_key applies only to incremental and scd2 models`,
			},
		},
		{
			name: "folder defaults",
			files: map[string]string{
				"project.yaml":   "name: p\nmodels:\n  .: {indexes: [{columns: [id]}], unique_key: id, on_schema_change: fail}\n",
				"models/v.sql":   `select 1 as id`,
				"models/t.sql":   `{{ config "materialized" "table" }}select 1 as id`,
				"models/inc.sql": `{{ config "materialized" "incremental" }}select 1 as id`,
				"models/off.sql": `{{ config "enabled" false "unique_key" "id" }}select 1 as id`,
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := buildDiags(t, c.files)
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
