package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"strata/engine/cli"
)

func TestRunWritesProjectsStrataAccepts(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		models int
	}{
		{[]string{"compile", "--models", "250"}, 250},
		{[]string{"docs", "--models", "1200"}, 1200}, // three layers
		{[]string{"check", "--models", "600"}, 600},
	} {
		dir := filepath.Join(t.TempDir(), "project")
		var stdout, stderr bytes.Buffer
		if code := run(append(tc.args, dir), &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d\n%s", tc.args, code, stderr.String())
		}
		stdout.Reset()
		if code := cli.Main(context.Background(), []string{"--project-dir", dir, "validate"}, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: strata validate exit %d\n%s", tc.args, code, stderr.String())
		}
		// validate counts the models, and the tests: two per model.
		if got, want := stdout.String(), "OK: "+strconv.Itoa(tc.models)+" models"; !strings.HasPrefix(got, want) {
			t.Errorf("%v: validate says %q, want it to start with %q", tc.args, got, want)
		}
		if !strings.Contains(stdout.String(), " "+strconv.Itoa(2*tc.models)+" tests") {
			t.Errorf("%v: validate says %q, want %d tests", tc.args, stdout.String(), 2*tc.models)
		}
	}
}

func TestRunBadCommandLines(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: benchgen compile"},
		{[]string{"render"}, `benchgen: "render" is not a project (expected compile, docs or check)`},
		{[]string{"compile"}, "benchgen compile: want one folder and --models of at least 1"},
		{[]string{"docs", "--models", "0", t.TempDir()}, "benchgen docs: want one folder and --models of at least 1"},
		{[]string{"compile", "--bogus", t.TempDir()}, "benchgen: unknown flag: --bogus"},
		{[]string{"compile", full}, "is not empty (give a new or empty folder)"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
