package cli

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validate checks a seed's column_types against the CSV header (of a .csv.gz
// too, with the seed's delimiter) and reports each unknown column at its key.
func TestValidateSeedColumnTypesAgainstHeader(t *testing.T) {
	dir := writeProject(t, "", map[string]string{
		"project.yaml": "name: ph\n",
		"seeds/s.csv":  "id,amount,name\n1,2,x\n",
		"seeds/t.csv":  "id;amt\n1;2\n",
		"seeds/ok.csv": "id,amount\n1,2\n",
		"seeds/s.yml": `seeds:
  - name: s
    config:
      column_types:
        id: int
        amont: numeric
  - name: t
    config:
      delimiter: ";"
      column_types: {id: int, amount: int}
  - name: g
    config:
      column_types: {nam: text}
  - name: ok
    config:
      column_types: {amount: numeric}
`,
	})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("id,amount,name\n1,2,x\n"))
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "seeds", "g.csv.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := strata(t, dir, "validate")
	if code != 2 {
		t.Fatalf("validate exited %d, want 2:\n%s", code, out)
	}
	mustContain(t, out,
		`seeds/s.yml:6:9: column_types: column "amont" is not in the header of seeds/s.csv (expected one of id, amount, name) (did you mean "amount"?)`,
		`seeds/s.yml:10:31: column_types: column "amount" is not in the header of seeds/t.csv (expected one of id, amt) (did you mean "amt"?)`,
		`seeds/s.yml:13:22: column_types: column "nam" is not in the header of seeds/g.csv.gz (expected one of id, amount, name) (did you mean "name"?)`,
		"3 problems found")
}

// A target setting that fails to render does not hide the errors of the
// on-run-start and on-run-end hooks: validate reports them all in one run.
func TestValidateReportsHooksBesideTargetError(t *testing.T) {
	dir := writeProject(t, "", map[string]string{
		"project.yaml": `name: pt
on-run-start:
  - "select {{ var \"nope1\" }}"
on-run-end:
  - "select {{ var \"nope2\" }}"
target: t
targets:
  t: {type: postgres, url: '{{ env_var "STRATA_TEST_UNSET_VAR" }}'}
`,
		"models/m.sql": "select 1 as id",
	})
	code, out := strata(t, dir, "validate")
	if code != 2 {
		t.Fatalf("validate exited %d, want 2:\n%s", code, out)
	}
	mustContain(t, out,
		`project.yaml:3:5: var "nope1" is not defined`,
		`project.yaml:5:5: var "nope2" is not defined`,
		`project.yaml:8:32: target t: environment variable STRATA_TEST_UNSET_VAR is not set`,
		"3 problems found")
}

// freshClone copies the example project as a clone of the repository has
// it: project.yaml, models/, macros/, tests/ and seeds/*.yml, without the
// generated CSV files.
func freshClone(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	for _, p := range []string{"project.yaml", "models", "macros", "tests", "seeds/seeds.yml"} {
		if err := copyTree(filepath.Join(root, p), filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestFreshCloneValidates: on a fresh clone the example's CSVs do not exist
// yet. validate passes, warning once per missing CSV at its seed's
// declaration (refs to a declared seed resolve by the declaration, so no
// model name is offered as "did you mean"); build and seed refuse, naming
// every missing file, before connecting to anything.
func TestFreshCloneValidates(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	dir := freshClone(t)
	code, out := strata(t, dir, "validate")
	if code != ExitOK {
		t.Fatalf("validate on a fresh clone exited %d:\n%s", code, out)
	}
	seeds := []string{"generator_dirt", "raw_clickstream", "raw_customers", "raw_inventory", "raw_marketing_campaigns", "raw_order_items", "raw_orders", "raw_products"}
	for _, s := range seeds {
		mustContain(t, out, fmt.Sprintf(`: warning: seed %q has no CSV file seeds/%s.csv yet: refs to it resolve, but seed and build need the file`, s, s))
	}
	if strings.Contains(out, "did you mean") || strings.Count(out, "warning:") != len(seeds) {
		t.Errorf("want exactly one warning per missing CSV and no suggestion:\n%s", out)
	}
	mustContain(t, out, "OK: 31 models, 8 seeds, ")
	for _, cmd := range []string{"build", "seed"} {
		code, out = strata(t, dir, cmd)
		if code != ExitBadInput {
			t.Fatalf("%s on a fresh clone exited %d, want 2:\n%s", cmd, code, out)
		}
		var files []string
		for _, s := range seeds {
			files = append(files, "seeds/"+s+".csv")
		}
		mustContain(t, out, "strata "+cmd+": nothing was run: 8 selected seeds declared in YAML have no CSV file: "+strings.Join(files, ", "))
	}
	if _, err := os.Stat(filepath.Join(dir, ".strata")); !os.IsNotExist(err) {
		t.Errorf("a refused build created .strata/ (err %v): it must not start the local PostgreSQL", err)
	}
}
