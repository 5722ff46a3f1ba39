package cli

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"strata/engine/artifacts"
)

// exampleProject copies the repository's example project (project.yaml,
// models/, macros/, tests/, seeds/*.yml) into a temporary folder. Seeds get
// header-only CSV files: compiling needs their names, not their rows.
func exampleProject(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyFile := func(rel string) {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("project.yaml")
	for _, top := range []string{"models", "macros", "tests", "seeds"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			ext := filepath.Ext(p)
			if d.IsDir() || (top == "seeds" && ext != ".yml" && ext != ".yaml") {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			copyFile(rel)
			if top == "seeds" {
				b, _ := os.ReadFile(p)
				for _, s := range seedHeaders(t, b) {
					if err := os.WriteFile(filepath.Join(dir, "seeds", s.name+".csv"), []byte(s.header+"\n"), 0o644); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// seedHeaders lists the seeds of a seeds YAML file with a header for each:
// id, the columns it declares and those of its column_types, which validate
// checks the header for.
func seedHeaders(t *testing.T, yml []byte) []struct{ name, header string } {
	t.Helper()
	var doc struct {
		Seeds []struct {
			Name    string
			Columns []struct{ Name string }
			Config  struct {
				ColumnTypes map[string]string `yaml:"column_types"`
			}
		}
	}
	if err := yaml.Unmarshal(yml, &doc); err != nil {
		t.Fatal(err)
	}
	var out []struct{ name, header string }
	for _, s := range doc.Seeds {
		cols := []string{"id"}
		for _, c := range s.Columns {
			if !slices.Contains(cols, c.Name) {
				cols = append(cols, c.Name)
			}
		}
		for c := range s.Config.ColumnTypes {
			if !slices.Contains(cols, c) {
				cols = append(cols, c)
			}
		}
		sort.Strings(cols[1:])
		out = append(out, struct{ name, header string }{s.Name, strings.Join(cols, ",")})
	}
	return out
}

func runCLI(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), args, &stdout, &stderr); code != ExitOK {
		t.Fatalf("strata %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String(), stderr.String()
}

var update = flag.Bool("update", false, "rewrite testdata/golden/ from what strata compiles now")

// TestCompileExampleGolden compiles the example project and compares every
// file of target/compiled/ with testdata/golden/compiled/ (-update rewrites them).
func TestCompileExampleGolden(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	t.Setenv("DATABASE_URL", "")
	dir := exampleProject(t)
	runCLI(t, "--project-dir", dir, "validate")
	runCLI(t, "--project-dir", dir, "compile")
	got := readTree(t, filepath.Join(dir, "target", "compiled"))
	goldenDir := filepath.Join("testdata", "golden", "compiled")
	if *update {
		if err := os.RemoveAll(goldenDir); err != nil {
			t.Fatal(err)
		}
		for rel, text := range got {
			p := filepath.Join(goldenDir, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := readTree(t, goldenDir)
	for rel, text := range want {
		if got[rel] != text {
			t.Errorf("target/compiled/%s differs from %s/%s (go test ./engine/cli -run Golden -update)\n--- got\n%s\n--- want\n%s", rel, goldenDir, rel, got[rel], text)
		}
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			t.Errorf("target/compiled/%s has no golden file", rel)
		}
	}
	if len(got) < 100 {
		t.Errorf("only %d compiled files", len(got))
	}

	// manifest.json has the documented shape (docs/manifest.md).
	m, err := artifacts.ReadManifest(filepath.Join(dir, "target", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	n := m.Nodes["model.shop.fact_orders"]
	if n == nil || n.Path != "models/warehouse/fact_orders.sql" || len(n.Checksum) != 64 || len(n.DependsOn.Nodes) == 0 ||
		n.Compiled != "target/compiled/models/warehouse/fact_orders.sql" || len(n.Config) == 0 || n.Raw == "" || n.CompiledCode == "" {
		t.Errorf("manifest node of fact_orders is incomplete: %+v", n)
	}
	if len(m.Macros) == 0 || len(m.Parents) == 0 || len(m.Children) == 0 {
		t.Errorf("manifest lacks macros or parent/child maps")
	}
	checkExampleExposures(t, dir, m)
}

// checkExampleExposures: each dashboard of the example project is in
// manifest.json's exposures with what models/dashboards/dashboards.yml says
// of it, read here on its own: type, label, description, owner, maturity,
// url, and depends_on (its models and its charts' models, as ids).
func checkExampleExposures(t *testing.T, dir string, m *artifacts.Manifest) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "models", "dashboards", "dashboards.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Exposures []struct {
			Name, Type, Label, Description, Maturity, URL string
			Owner                                         *artifacts.Owner
			DependsOn                                     []string `yaml:"depends_on"`
			Charts                                        []struct{ Model string }
		}
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Exposures) == 0 {
		t.Fatal("dashboards.yml declares no exposures")
	}
	for _, e := range doc.Exposures {
		id := "exposure.shop." + e.Name
		n := m.Exposure[id]
		if n == nil {
			t.Errorf("manifest.json has no %s", id)
			continue
		}
		deps := []string{}
		for _, name := range e.DependsOn {
			deps = append(deps, "model.shop."+name)
		}
		for _, c := range e.Charts {
			if c.Model != "" && !slices.Contains(deps, "model.shop."+c.Model) {
				deps = append(deps, "model.shop."+c.Model)
			}
		}
		sort.Strings(deps)
		if n.ResourceType != "exposure" || n.Name != e.Name || n.Path != "models/dashboards/dashboards.yml" || n.Type != e.Type || n.Label != e.Label ||
			n.Description != e.Description || n.Maturity != e.Maturity || n.URL != e.URL || !slices.Equal(n.DependsOn.Nodes, deps) {
			t.Errorf("manifest.json's %s = %+v, want type %q, label %q, description %q, maturity %q, url %q, depends_on %v as dashboards.yml says",
				id, n, e.Type, e.Label, e.Description, e.Maturity, e.URL, deps)
		}
		if (n.Owner == nil) != (e.Owner == nil) || n.Owner != nil && *n.Owner != *e.Owner {
			t.Errorf("manifest.json's %s: owner %+v, want %+v", id, n.Owner, e.Owner)
		}
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}
