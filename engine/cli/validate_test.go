package cli

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
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
