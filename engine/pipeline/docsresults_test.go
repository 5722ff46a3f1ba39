package pipeline

import (
	"context"
	"os"
	"testing"
	"time"

	"strata/engine/run"
)

// The docs site of a target shows the results of runs on that target (in
// production) only: a failing build on dev after a build on prod leaves
// prod's site with prod's results and its last run, and an environment's
// run on prod does not reach it either.
func TestDocsInputShowsItsTargetsResults(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(dir+"/models", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("project.yaml", "name: p\ntarget: dev\ntargets:\n  dev: {type: postgres, url: 'postgres://localhost/dev'}\n  prod: {type: postgres, url: 'postgres://localhost/prod'}\n")
	write("models/a.sql", "select 1 as a")
	loadOn := func(target, env string) *Project {
		t.Helper()
		l, diags := Load(Options{Dir: dir, Target: target, Env: env, LookupEnv: func(string) (string, bool) { return "", false }})
		if diags.HasErrors() {
			t.Fatalf("load: %v", diags)
		}
		return l
	}
	start := time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)
	for i, w := range []struct {
		target, env string
		status      run.Status
	}{
		{"prod", "", run.Success},
		{"dev", "", run.Error},
		{"prod", "pr_1", run.Error},
	} {
		l := loadOn(w.target, w.env)
		if errs := l.WriteResults("build", start.Add(time.Duration(i)*time.Hour), []run.Result{{ID: "model.p.a", Status: w.status, Message: "on " + w.target + " " + w.env}}); len(errs) > 0 {
			t.Fatal(errs)
		}
	}
	for _, c := range []struct{ target, env, status string }{
		{"prod", "", "success"},
		{"dev", "", "error"},
		{"prod", "pr_1", "error"},
	} {
		in, err := loadOn(c.target, c.env).DocsInput(context.Background(), true, start)
		if err != nil {
			t.Fatal(err)
		}
		if in.Results == nil || in.Results.Target != c.target || in.Results.Env != c.env {
			t.Errorf("%s %s: last run %+v, want the one on %s %s", c.target, c.env, in.Results, c.target, c.env)
		}
		r := in.History.Results["model.p.a"]
		if r == nil || r.Status != c.status || r.Target != c.target || r.Env != c.env {
			t.Errorf("%s %s: a's latest result %+v, want %s there", c.target, c.env, r, c.status)
		}
	}
}
