package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestCIRecipe runs scripts/ci-deploy.sh and scripts/ci-pull-request.sh as
// a CI system would, with the strata binary built from this tree: deploy
// builds production, a pull request that changes one staging model gets
// its plan, its environment build with tests, its junit.xml, and leaves no
// environment behind; deploying the branch then leaves nothing to plan.
func TestCIRecipe(t *testing.T) {
	url := pgtest.DB(t)
	root := repoRoot(t)
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "cmd", "strata")).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	prod := pipelineProject(t, 0.05, 1)
	script := func(dir, name string, env ...string) (int, string) {
		t.Helper()
		cmd := exec.Command("bash", filepath.Join(root, "scripts", name))
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{"STRATA=" + bin, "STRATA_TARGET=prod", "DATABASE_URL=" + url}, env...)...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if code, out := script(prod, "ci-deploy.sh"); code != 0 {
		t.Fatalf("ci-deploy.sh exited %d:\n%s", code, out)
	}

	branch := filepath.Join(t.TempDir(), "branch")
	if err := copyTree(prod, branch); err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(filepath.Join(branch, "target"))
	file := filepath.Join(branch, "models", "staging", "stg_customers.sql")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), "lower(trim(email)) as email,", "lower(btrim(email)) as email, -- reviewed", 1)
	if changed == string(src) {
		t.Fatal("stg_customers.sql no longer has the line this test changes")
	}
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	code, log := script(branch, "ci-pull-request.sh", "PR_ID=7", "OUT_DIR="+out)
	if code != 0 {
		t.Fatalf("ci-pull-request.sh exited %d:\n%s", code, log)
	}
	plan, err := os.ReadFile(filepath.Join(out, "plan.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### strata plan: shop on prod", "**`stg_customers`**", "+lower(btrim(email)) as email,", "environment pr_7"} {
		if !strings.Contains(string(plan), want) {
			t.Errorf("plan.md lacks %q:\n%s", want, plan)
		}
	}
	junit, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil || !strings.Contains(string(junit), "<testsuite") || strings.Contains(string(junit), "<failure") {
		t.Errorf("junit.xml (%v):\n%s", err, junit)
	}
	if !strings.Contains(log, "environment pr_7") || !strings.Contains(log, "Dropped environment pr_7") {
		t.Errorf("the job's log:\n%s", log)
	}
	if left := queryText(t, url, `select coalesce(string_agg(nspname, ','), 'none') from pg_namespace where nspname like '%pr\_7'`); left != "none" {
		t.Errorf("the job left schemas %s", left)
	}

	// Merged and deployed: production has the change, nothing is left to plan.
	if code, log := script(branch, "ci-deploy.sh", "BUILD_ARGS=-s state:modified+"); code != 0 {
		t.Fatalf("ci-deploy.sh of the branch exited %d:\n%s", code, log)
	}
	t.Setenv("DATABASE_URL", url)
	_, after, errOut := strataOut(t, branch, "--target", "prod", "plan")
	if errOut != "" || !strings.Contains(after, "Directly modified (0): none") || !strings.Contains(after, "Build would rebuild nothing in production.") {
		t.Errorf("plan after deploying the branch:\n%s%s", after, errOut)
	}
}
