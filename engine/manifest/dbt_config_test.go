package manifest

import (
	"strings"
	"testing"
	"testing/fstest"

	"strata/engine/diag"
	"strata/engine/project"
)

// TestDbtConfigKeys: dbt's config keys that strata names otherwise or does
// not have (a snapshot's invalidate_hard_deletes, target_schema, ...) are
// errors at the key saying what to write, in a model's YAML config, a
// seed's, project.yaml's folder defaults and {{ config }}; hard_deletes:
// true lists the values; a test's config has none of them to hint at.
func TestDbtConfigKeys(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  []string // each error, in part; none: it loads
	}{
		{"yaml invalidate_hard_deletes", map[string]string{"models/a.yml": "models:\n  - name: a\n    config:\n      materialized: scd2\n      unique_key: id\n      invalidate_hard_deletes: true\n"},
			[]string{`models/a.yml:6:7: unknown key "invalidate_hard_deletes" in model config: dbt's invalidate_hard_deletes: true is strata's hard_deletes: invalidate (docs/scd2.md)`}},
		{"yaml target_schema", map[string]string{"models/a.yml": "models:\n  - name: a\n    config: {target_schema: snapshots}\n"},
			[]string{`models/a.yml:3:14: unknown key "target_schema" in model config: a dbt snapshot's target_schema is strata's schema`}},
		{"yaml snapshot_meta_column_names", map[string]string{"models/a.yml": "models:\n  - name: a\n    config: {snapshot_meta_column_names: {dbt_valid_from: f}}\n"},
			[]string{`models/a.yml:3:14: unknown key "snapshot_meta_column_names" in model config: strata's is scd2_columns; scd2_columns: {valid_from: dbt_valid_from, valid_to: dbt_valid_to, surrogate_key: dbt_scd_id} keeps dbt's column names`}},
		{"seed database", map[string]string{"seeds/s.csv": "id\n1\n", "seeds/s.yml": "seeds:\n  - name: s\n    config: {database: raw}\n"},
			[]string{`seeds/s.yml:3:14: unknown key "database" in seed config: strata builds every model and seed into the target's database; --target chooses the target`}},
		{"seed quote_columns", map[string]string{"seeds/s.csv": "id\n1\n", "seeds/s.yml": "seeds:\n  - name: s\n    config: {quote_columns: true}\n"},
			[]string{`seeds/s.yml:3:14: unknown key "quote_columns" in seed config: strata always quotes a seed's column names as its header writes them (capitals, spaces kept); leave quote_columns out, and rename a column in the header row to change it`}},
		{"seed full_refresh", map[string]string{"seeds/s.csv": "id\n1\n", "seeds/s.yml": "seeds:\n  - name: s\n    config: {full_refresh: false}\n"},
			[]string{`seeds/s.yml:3:14: unknown key "full_refresh" in seed config: strata has no full_refresh config: --full-refresh rebuilds or reloads what is selected`}},
		{"project seeds quote_columns", map[string]string{"project.yaml": "name: p\nseeds:\n  quote_columns: false\n"},
			[]string{`project.yaml:3:3: unknown key "quote_columns" in seeds: strata always quotes`}},
		// persist_docs was offered post_hook, docs tags.
		{"yaml persist_docs and docs", map[string]string{"models/a.yml": "models:\n  - name: a\n    config:\n      persist_docs: {relation: true}\n      docs: {show: false}\n"},
			[]string{`models/a.yml:4:7: unknown key "persist_docs" in model config: strata always writes a model's or seed's description as its relation's comment (its columns' descriptions are shown on the docs site, not written to the database); leave persist_docs out`,
				`models/a.yml:5:7: unknown key "docs" in model config: strata's docs site shows every enabled model and seed, and has no docs config (show, node_color); leave it out`}},
		{"folder target_database", map[string]string{"project.yaml": "name: p\nmodels:\n  .: {target_database: analytics}\n"},
			[]string{`project.yaml:3:7: unknown key "target_database" in models: .: strata builds every model and seed into the target's database`}},
		{"sql config", map[string]string{"models/b.sql": "{{ config \"materialized\" \"scd2\" \"unique_key\" \"id\" \"invalidate_hard_deletes\" true }}\nselect 1 as id"},
			[]string{`models/b.sql:1:4: unknown config key "invalidate_hard_deletes": dbt's invalidate_hard_deletes: true is strata's hard_deletes: invalidate`}},
		{"hard_deletes true", map[string]string{"models/a.yml": "models:\n  - name: a\n    config: {materialized: scd2, unique_key: id, hard_deletes: true}\n"},
			[]string{`models/a.yml:3:64: hard_deletes: expected one of ignore, invalidate, new_record, got true`}},
		{"materialized list", map[string]string{"models/a.yml": "models:\n  - name: a\n    config: {materialized: [table]}\n"},
			[]string{`materialized: expected one of view, table, incremental, ephemeral, materialized_view, scd2, got a list`}},
		{"materialized snapshot", map[string]string{"models/a.yml": "models:\n  - name: a\n    config: {materialized: snapshot}\n"},
			[]string{`models/a.yml:3:28: materialized: expected one of view, table, incremental, ephemeral, materialized_view, scd2, got "snapshot": a dbt snapshot is a model materialized as scd2 here, built by run and build (docs/scd2.md)`}},
		{"sql materialized snapshot", map[string]string{"models/b.sql": "{{ config \"materialized\" \"snapshot\" }}\nselect 1 as id"},
			[]string{`got "snapshot": a dbt snapshot is a model materialized as scd2 here`}},
		// dbt's keys are never offered as a suggestion for another key.
		{"no dbt key suggested", map[string]string{"models/a.yml": "models:\n  - name: a\n    config: {batch_size: day}\n"},
			[]string{"models/a.yml:3:14: unknown key \"batch_size\" in model config\n"}},
		// Nor when the file holds one: the hint is for that key only (a
		// typo is offered the nearest of strata's own keys).
		{"dbt key given not suggested", map[string]string{"models/a.yml": "models:\n  - name: a\n    config: {database: raw, databse: raw}\n"},
			[]string{`models/a.yml:3:14: unknown key "database" in model config: strata builds`, "models/a.yml:3:29: unknown key \"databse\" in model config (did you mean \"tags\"?)\n"}},
		{"project tests given not suggested", map[string]string{"project.yaml": "name: p\ntests: {}\ntest: {}\n"},
			[]string{"project.yaml:2:1: tests: in project.yaml: strata has no project-wide", "project.yaml:3:1: unknown key \"test\" in project.yaml\n"}},
		{"test config is not hinted", map[string]string{"models/a.yml": "models:\n  - name: a\n    columns:\n      - name: id\n        tests: [{unique: {config: {target_schema: x}}}]\n"},
			[]string{`unknown key "target_schema" in test config`}},
		{"strata's spelling", map[string]string{"models/a.yml": "models:\n  - name: a\n    config: {materialized: scd2, unique_key: id, hard_deletes: invalidate, schema: snapshots, scd2_columns: {valid_from: dbt_valid_from}}\n"}, nil},
	} {
		fsys := fstest.MapFS{
			"project.yaml": {Data: []byte("name: p\n")},
			"models/a.sql": {Data: []byte("select 1 as id")},
		}
		for k, v := range c.files {
			fsys[k] = &fstest.MapFile{Data: []byte(v)}
		}
		p, diags := project.Load(fsys)
		if !diags.HasErrors() {
			_, more := Build(p, Target{Name: "dev", Type: "local", Schema: "tgt"})
			diags = append(diags, more...)
		}
		var got []string
		for _, d := range diags {
			if d.Severity == diag.Error {
				got = append(got, d.Error()+"\n")
			}
		}
		ok := len(got) == len(c.want)
		for i := 0; ok && i < len(got); i++ {
			ok = strings.Contains(got[i], c.want[i])
		}
		if ok && c.name == "test config is not hinted" {
			ok = !strings.Contains(got[0], "dbt")
		}
		if !ok {
			t.Errorf("%s:\ngot  %q\nwant %q", c.name, got, c.want)
		}
	}
}
