// Package benchproject writes the generated projects that the benchmarks
// time, so that cmd/benchgen can write the same project for timing the strata
// binary by hand. It writes files and nothing else: no database, no output.
package benchproject

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// TwoRefs writes, into dir, the project of BenchmarkCompile10k and
// BenchmarkValidate10k: n view models, each reading two earlier models (the
// first two read a seed) and calling one macro, each with a YAML entry of two
// column tests; models are spread over folders of 100.
func TwoRefs(dir string, n int) error {
	files := map[string]string{
		"project.yaml":     "name: bench\nmodels:\n  .: {materialized: view}\n",
		"seeds/raw.csv":    "id,amount\n1,2\n",
		"macros/money.sql": `{{ define "cents" }}round({{ . }} * 100)::bigint{{ end }}` + "\n",
	}
	name := func(i int) string { return fmt.Sprintf("m%05d", i) }
	folder := func(i int) string { return fmt.Sprintf("models/f%03d", i/100) }
	ymls := map[string]*strings.Builder{}
	for i := 0; i < n; i++ {
		a, b := "raw", "raw"
		if i >= 1 {
			a = name(i - 1)
		}
		if i >= 2 {
			b = name(i / 2)
			if b == a {
				b = name(i - 2)
			}
		}
		files[folder(i)+"/"+name(i)+".sql"] = fmt.Sprintf("select x.id, {{ include \"cents\" \"x.amount\" }} as amount\nfrom {{ ref %q }} as x\njoin {{ ref %q }} as y using (id)\n", a, b)
		y := ymls[folder(i)]
		if y == nil {
			y = &strings.Builder{}
			y.WriteString("models:\n")
			ymls[folder(i)] = y
		}
		fmt.Fprintf(y, "  - name: %s\n    description: model %d\n    columns:\n      - name: id\n        tests: [not_null]\n      - name: amount\n        tests: [unique]\n", name(i), i)
	}
	for f, y := range ymls {
		files[f+"/schema.yml"] = y.String()
	}
	return write(dir, files)
}

// Layers writes, into dir, the project of BenchmarkDocsGenerate5000 and
// BenchmarkCheck2000: n view models in layers of 500, each model of a layer reading one to three models
// of the layer before, each with two column tests. target is the YAML of the
// project's only target (a flow mapping such as {type: postgres, url: '...'}).
func Layers(dir string, n int, target string) error {
	const per = 500
	files := map[string]string{
		"project.yaml": "name: big\ntarget: t\ntargets:\n  t: " + target + "\nmodels:\n  '.': {materialized: view, schema: big}\n",
	}
	yml := map[int]*strings.Builder{}
	for i := range n {
		layer := i / per
		var sql strings.Builder
		fmt.Fprintf(&sql, "-- model %d of layer %d\n", i, layer)
		if layer == 0 {
			fmt.Fprintf(&sql, "select %d as id, 'm%d' as name\n", i, i)
		} else {
			fmt.Fprintf(&sql, "select a.id, a.name from {{ ref \"m%05d\" }} as a\n", (layer-1)*per+i%per)
			for k := 1; k <= i%3; k++ {
				fmt.Fprintf(&sql, "union all select id, name from {{ ref \"m%05d\" }}\n", (layer-1)*per+(i*7+k*131)%per)
			}
		}
		files[fmt.Sprintf("models/l%02d/m%05d.sql", layer, i)] = sql.String()
		if yml[layer] == nil {
			yml[layer] = &strings.Builder{}
			yml[layer].WriteString("models:\n")
		}
		fmt.Fprintf(yml[layer], "  - name: m%05d\n    description: Model %d of layer %d.\n    columns:\n      - {name: id, tests: [not_null, unique]}\n      - {name: name, description: a name}\n", i, i, layer)
	}
	for layer, b := range yml {
		files[fmt.Sprintf("models/l%02d/schema.yml", layer)] = b.String()
	}
	return write(dir, files)
}

// UnitTests writes, into dir, the project of BenchmarkUnitTests200: a seed
// typed in YAML (no file: nothing is loaded), then models in a chain of
// views (each reading the model before and the seed, with a CASE, a join
// and an aggregate), each with perModel unit tests that give both inputs a
// few rows, in CSV or as mappings, and expect the output. Every test
// passes. target is the YAML of the project's only target.
func UnitTests(dir string, models, perModel int, target string) error {
	files := map[string]string{
		"project.yaml":    "name: units\ntarget: t\ntargets:\n  t: " + target + "\nmodels:\n  '.': {materialized: view, schema: units}\n",
		"seeds/seeds.yml": "seeds:\n  - name: raw\n    columns:\n      - {name: id, data_type: bigint}\n      - {name: amount, data_type: 'numeric(12,2)'}\n      - {name: day, data_type: date}\n",
	}
	name := func(i int) string { return fmt.Sprintf("m%04d", i) }
	var yml strings.Builder
	yml.WriteString("unit_tests:\n")
	for i := range models {
		up := "raw"
		if i > 0 {
			up = name(i - 1)
		}
		files["models/"+name(i)+".sql"] = fmt.Sprintf(`select u.id, sum(r.amount) as amount, min(r.day) as day,
    case when sum(r.amount) > 100 then 'big' when sum(r.amount) > 10 then 'mid' else 'small' end as size
from {{ ref %q }} as u
join {{ ref "raw" }} as r on r.id = u.id
group by u.id
`, up)
		if i == 0 {
			files["models/"+name(i)+".sql"] = strings.Replace(files["models/"+name(i)+".sql"], `{{ ref "raw" }} as u`, `(select distinct id from {{ ref "raw" }}) as u`, 1)
		}
		for k := range perModel {
			fmt.Fprintf(&yml, "  - name: %s_case_%d\n    model: %s\n    given:\n", name(i), k, name(i))
			a := 5 * (k + 1)
			if i > 0 {
				fmt.Fprintf(&yml, "      - input: ref('%s')\n        format: csv\n        rows: |\n          id\n          1\n          2\n", up)
			}
			fmt.Fprintf(&yml, "      - input: ref('raw')\n        rows:\n          - {id: 1, amount: %d, day: 2024-01-0%d}\n          - {id: 1, amount: %d.50, day: 2024-02-01}\n          - {id: 2, amount: 1, day: 2024-03-01}\n", a, k%9+1, a*4)
			total := float64(a) + float64(a*4) + 0.5
			size := "small"
			if total > 100 {
				size = "big"
			} else if total > 10 {
				size = "mid"
			}
			fmt.Fprintf(&yml, "    expect:\n      rows:\n        - {id: 1, amount: %.2f, day: 2024-01-0%d, size: %s}\n        - {id: 2, amount: 1, day: 2024-03-01, size: small}\n", total, k%9+1, size)
		}
	}
	files["models/unit_tests.yml"] = yml.String()
	return write(dir, files)
}

// write writes files (paths relative to dir, slash-separated) in a stable order.
func write(dir string, files map[string]string) error {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(files[p]), 0o644); err != nil {
			return err
		}
	}
	return nil
}
