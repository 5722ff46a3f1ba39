package cli

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"strata/engine/internal/pgtest"
)

// TestExampleSeedTypes: the example's load validates the data types of its raw exports. Every column
// that seeds.yml declares other than text is pinned to its type, so a value that does not fit fails the
// seed at the file, line and column, and the table loaded before stays; were a column typed by
// inference only, the value would make it text and the load pass.
func TestExampleSeedTypes(t *testing.T) {
	url := pgtest.DB(t)
	dir := pipelineProject(t, 0.05, 1)
	t.Setenv("DATABASE_URL", url)
	if code, out := strata(t, dir, "--target", "prod", "seed"); code != 0 {
		t.Fatalf("seed exited %d:\n%s", code, out)
	}
	var doc struct {
		Seeds []struct {
			Name    string
			Columns []struct {
				Name     string
				DataType string `yaml:"data_type"`
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "seeds", "seeds.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, s := range doc.Seeds {
		if !strings.HasPrefix(s.Name, "raw_") {
			continue // generator_dirt is the generator's own summary, not an export
		}
		path := filepath.Join(dir, "seeds", s.Name+".csv")
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(string(orig))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		before := queryInt(t, url, "select count(*) from raw."+s.Name)
		for _, c := range s.Columns {
			if c.DataType == "text" {
				continue
			}
			col := -1
			for i, h := range rows[0] {
				if h == c.Name {
					col = i
				}
			}
			if col < 0 {
				t.Fatalf("%s: no column %s in the header", s.Name, c.Name)
			}
			bad := make([][]string, len(rows))
			copy(bad, rows)
			bad[3] = append([]string(nil), rows[3]...)
			bad[3][col] = "n/a"
			var sb strings.Builder
			w := csv.NewWriter(&sb)
			_ = w.WriteAll(bad)
			if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out := strata(t, dir, "--target", "prod", "seed", "-s", s.Name)
			want := fmt.Sprintf("seeds/%s.csv:4:", s.Name)
			if code == 0 || !strings.Contains(out, want) || !strings.Contains(out, fmt.Sprintf("column %q", c.Name)) {
				t.Errorf("%s.%s (%s) holding \"n/a\": exit %d, want an error at %s naming the column:\n%s", s.Name, c.Name, c.DataType, code, want, out)
			}
			if got := queryInt(t, url, "select count(*) from raw."+s.Name); got != before {
				t.Errorf("%s after the failed load: %d rows, want the %d loaded before", s.Name, got, before)
			}
			checked++
		}
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if checked < 30 {
		t.Errorf("only %d typed columns checked", checked)
	}
}
