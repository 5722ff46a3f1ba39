package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"strata/engine/artifacts"
)

// TestLsExposureNamedLikeModel: an exposure prints as exposure:<name>, the
// selector that picks it alone, so one named like a model is told apart.
func TestLsExposureNamedLikeModel(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"project.yaml":  "name: p\n",
		"models/m1.sql": "select 1 as id",
		"models/m.yml":  "exposures:\n  - name: m1\n    type: dashboard\n    depends_on: [m1]\n",
	})
	for sel, want := range map[string]string{"m1": "exposure:m1\nm1\n", "exposure:m1": "exposure:m1\n", "resource_type:model": "m1\n"} {
		if out, _ := runCLI(t, "--project-dir", dir, "ls", "-s", sel); out != want {
			t.Errorf("ls -s %s = %q, want %q", sel, out, want)
		}
	}
}

// TestMaterializedViewSelectsNoSeed: a seed's materialized is seed, as in dbt.
func TestMaterializedViewSelectsNoSeed(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"project.yaml": "name: p\n", "seeds/s.csv": "id\n1\n", "models/v.sql": "select 1 as id"})
	for sel, want := range map[string]string{"config.materialized:view": "v", "config.materialized:seed": "s"} {
		out, _ := runCLI(t, "--project-dir", dir, "ls", "-s", sel)
		if got := strings.Join(strings.Fields(out), " "); got != want {
			t.Errorf("ls -s %s = %q, want %q", sel, got, want)
		}
	}
}

// TestLsOutputs: ls prints names, paths or one JSON object per line.
func TestLsOutputs(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	dir := exampleProject(t)
	names, _ := runCLI(t, "--project-dir", dir, "ls", "-s", "+fact_orders", "--resource-type", "model", "--output", "name")
	if want := "dim_customers\ndim_products\nfact_order_items\nfact_orders\nstg_customers\nstg_order_items\nstg_orders\nstg_products\n"; names != want {
		t.Errorf("ls --output name:\n%s\nwant:\n%s", names, want)
	}
	paths, _ := runCLI(t, "--project-dir", dir, "ls", "-s", "fact_orders", "--resource-type", "model", "--output", "path")
	if paths != "models/warehouse/fact_orders.sql\n" {
		t.Errorf("ls --output path: %q", paths)
	}
	js, _ := runCLI(t, "--project-dir", dir, "ls", "-s", "tag:staging", "--output", "json")
	lines := strings.Split(strings.TrimSpace(js), "\n")
	if len(lines) < 7 {
		t.Fatalf("ls --output json: %d lines", len(lines))
	}
	for _, line := range lines {
		var n artifacts.Node
		if err := json.Unmarshal([]byte(line), &n); err != nil || n.ID == "" || n.ResourceType == "" || n.Path == "" {
			t.Errorf("ls --output json line %q: %v", line, err)
		}
	}
}

// TestLsListsWhatIsAskedFor: the README's ls -s config.materialized:table
// --output path prints each table model's file once, not the YAML file of
// their tests once per test; tests are listed when asked for.
func TestLsListsWhatIsAskedFor(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	dir := exampleProject(t)
	paths, _ := runCLI(t, "--project-dir", dir, "ls", "-s", "config.materialized:table", "--output", "path")
	lines := strings.Split(strings.TrimSpace(paths), "\n")
	seen := map[string]bool{}
	for _, p := range lines {
		if seen[p] || !strings.HasPrefix(p, "models/") || !strings.HasSuffix(p, ".sql") {
			t.Errorf("ls --output path printed %q (twice, or not a model's file):\n%s", p, paths)
		}
		seen[p] = true
	}
	if len(lines) < 10 {
		t.Errorf("ls -s config.materialized:table printed %d paths, want the table models'", len(lines))
	}
	all, _ := runCLI(t, "--project-dir", dir, "ls")
	if strings.Contains(all, "not_null_") {
		t.Errorf("ls without selectors lists tests:\n%s", all)
	}
	tests, _ := runCLI(t, "--project-dir", dir, "ls", "-s", "daily_sales", "--resource-type", "test")
	if names := strings.Fields(tests); len(names) == 0 || slices.Contains(names, "daily_sales") {
		t.Errorf("ls -s daily_sales --resource-type test printed %q, want its tests only", tests)
	}
	if one, _ := runCLI(t, "--project-dir", dir, "ls", "-s", "daily_sales"); one != "daily_sales\n" {
		t.Errorf("ls -s daily_sales = %q, want the model alone", one)
	}
}

// TestLsUnitTestResourceType: --resource-type unit_test, dbt's, was 'not
// known ... (did you mean "test"?)', not saying where the unit tests are;
// it says that they are tests, and what lists them.
func TestLsUnitTestResourceType(t *testing.T) {
	dir := writeProject(t, "", map[string]string{"project.yaml": "name: pj\n", "models/a.sql": "select 1 as x\n"})
	for _, k := range []string{"unit_test", "unit-test", "unit_tests"} {
		code, out := strata(t, dir, "ls", "--resource-type", k)
		want := "strata ls: --resource-type \"" + k + "\" is not known: unit tests are tests here, and strata ls -s test_type:unit lists them (docs/unit-tests.md)\n"
		if code != ExitBadInput || out != want {
			t.Errorf("ls --resource-type %s: exit %d, %q; want 2 and %q", k, code, out, want)
		}
	}
}

// TestLsEnvSaysWhatItChanges: --env changes only --output json (names and
// paths are the same in every environment), so ls --env with name or path
// output says so on stderr instead of ignoring it silently; stdout is the
// list as without --env.
func TestLsEnvSaysWhatItChanges(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"project.yaml": "name: p\nmodels: {'.': {schema: s}}\n", "models/m1.sql": "select 1 as id"})
	const note = "strata ls: --env changes only --output json (schema, relation_name, compiled_code); names and paths are the same in every environment\n"
	for _, output := range []string{"name", "path"} {
		plain, _ := runCLI(t, "--project-dir", dir, "ls", "-o", output)
		out, errOut := runCLI(t, "--project-dir", dir, "ls", "-o", output, "--env", "e1")
		if out != plain || errOut != note {
			t.Errorf("ls -o %s --env e1: stdout %q (without --env %q), stderr %q, want %q", output, out, plain, errOut, note)
		}
	}
	out, errOut := runCLI(t, "--project-dir", dir, "ls", "-o", "json", "--env", "e1")
	if errOut != "" || !strings.Contains(out, "s__e1") {
		t.Errorf("ls -o json --env e1: stdout %q, stderr %q", out, errOut)
	}
}
