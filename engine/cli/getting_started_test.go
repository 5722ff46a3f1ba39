package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// readDoc is docs/name of the repository.
func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docBlock is the first fenced block of doc after the text after: what a
// page tells the reader to write, or shows as output.
func docBlock(t *testing.T, doc, after string) string {
	t.Helper()
	i := strings.Index(doc, after)
	if i < 0 {
		t.Fatalf("the page no longer says %q", after)
	}
	rest := doc[i+len(after):]
	start := strings.Index(rest, "```")
	if start < 0 {
		t.Fatalf("no block after %q", after)
	}
	rest = rest[start:]
	rest = rest[strings.Index(rest, "\n")+1:]
	end := strings.Index(rest, "```")
	if end < 0 {
		t.Fatalf("the block after %q does not end", after)
	}
	return rest[:end]
}

// gettingStartedModel writes the model and the YAML of getting-started.md's
// "Your first model" into the project in dir, as the page says to.
func gettingStartedModel(t *testing.T, dir string) {
	t.Helper()
	doc := readDoc(t, "getting-started.md")
	for file, after := range map[string]string{
		"models/analytics/sales_by_channel.sql": "Create `models/analytics/sales_by_channel.sql`:",
		"models/analytics/sales_by_channel.yml": "Create `models/analytics/sales_by_channel.yml`",
	} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(docBlock(t, doc, after)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var validateOK = regexp.MustCompile(`OK: (\d+) models, (\d+) seeds, (\d+) tests, `)

// TestDocsQuoteTheExampleAsItIs: the figures the docs quote of the example
// project (how many nodes make run builds and pass, what validate prints,
// before and after getting-started.md's first model) are those of the
// project as it is. They said 147 nodes and 143 passes, 108 and 112 tests,
// while make run built 154 and validate counted 115 and 119.
func TestDocsQuoteTheExampleAsItIs(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	t.Setenv("DATABASE_URL", "")
	dir := exampleProject(t)
	out, _ := runCLI(t, "--project-dir", dir, "validate")
	m := validateOK.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("validate printed %q", out)
	}
	okLine := strings.TrimSpace(out[strings.Index(out, "OK: "):])
	nodes := 0
	for _, n := range m[1:] {
		k, _ := strconv.Atoi(n)
		nodes += k
	}
	passes := nodes - 4 // the example's four warnings
	gettingStarted := readDoc(t, "getting-started.md")
	for _, c := range []struct {
		doc, re string
		want    int
	}{
		{"getting-started.md", `Finished (\d+) nodes`, nodes},
		{"getting-started.md", `PASS=(\d+) WARN=4`, passes},
		{"commands.md", `Finished (\d+) nodes`, nodes},
		{"commands.md", `\d+ of (\d+) `, nodes},
		{"commands.md", `PASS=(\d+) WARN=4`, passes},
		{"docs-site.md", `(\d+) pass, 4 warn`, passes},
		{"artifacts.md", `"pass": (\d+), "warn": 4`, passes},
	} {
		text := readDoc(t, c.doc)
		if c.doc == "getting-started.md" {
			text = text[:strings.Index(text, "## Your first model")]
		}
		found := regexp.MustCompile(c.re).FindAllStringSubmatch(text, -1)
		if len(found) == 0 {
			t.Errorf("docs/%s no longer matches %s", c.doc, c.re)
		}
		for _, f := range found {
			if f[1] != strconv.Itoa(c.want) {
				t.Errorf("docs/%s says %q; the example has %d", c.doc, f[0], c.want)
			}
		}
	}
	if cmds := readDoc(t, "commands.md"); !strings.Contains(cmds, "`"+okLine+"`") {
		t.Errorf("docs/commands.md does not quote validate's %q", okLine)
	}

	// After the first model of getting-started.md.
	gettingStartedModel(t, dir)
	out, _ = runCLI(t, "--project-dir", dir, "validate")
	quoted := regexp.MustCompile("`(OK: [^`]*), \\.\\.\\.` when all is well").FindStringSubmatch(gettingStarted)
	if quoted == nil {
		t.Fatal("docs/getting-started.md no longer quotes validate's OK line")
	}
	if !strings.HasPrefix(out, quoted[1]+", ") {
		t.Errorf("docs/getting-started.md quotes %q; validate printed %q", quoted[1], out)
	}
}

// outputLine is a line of strata's output or of a page quoting it, without
// what changes from run to run: the time it starts with, durations, and
// the number of dots before the bracket.
func outputLine(s string) string {
	s = regexp.MustCompile(`^\d\d:\d\d:\d\d  `).ReplaceAllString(s, "")
	s = regexp.MustCompile(`in \d+\.\d+s`).ReplaceAllString(s, "in Ns")
	s = regexp.MustCompile(` \.+ `).ReplaceAllString(s, " ... ")
	return strings.TrimRight(s, " ")
}

// quotedIn reports the lines of the page's block (but "...") that out does
// not have.
func quotedIn(block, out string) []string {
	have := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		have[outputLine(l)] = true
	}
	var missing []string
	for _, l := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		if l = outputLine(l); l != "..." && !have[l] {
			missing = append(missing, l)
		}
	}
	return missing
}

// TestGettingStarted follows docs/getting-started.md's "Your first model"
// on the example project: the output it shows is strata's. Its step 4
// showed the failing test of a build without write-audit-publish (PASS=4
// ERROR=0, a file named), which build has done since: the model is an
// AUDIT FAILED error, and only test names the file.
func TestGettingStarted(t *testing.T) {
	url := pgtest.DB(t)
	dir := pipelineProject(t, 0.2, 1)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("STRATA_TARGET", "prod")
	if code, out := strata(t, dir, "build"); code != ExitOK {
		t.Fatalf("build exited %d:\n%s", code, out)
	}
	doc := readDoc(t, "getting-started.md")
	gettingStartedModel(t, dir)

	// 3. Check it, then build it.
	code, out := strata(t, dir, "build", "-s", "sales_by_channel")
	if missing := quotedIn(docBlock(t, doc, "selecting a model brings its tests\nalong. The output"), out); code != ExitOK || len(missing) > 0 {
		t.Errorf("build -s sales_by_channel: exit %d; the page shows lines it did not print: %q\n%s", code, missing, out)
	}

	// The YAML describes every column the model produces: check has
	// nothing to warn about (it said orders was undeclared).
	if code, out := strata(t, dir, "check", "-s", "sales_by_channel"); code != ExitOK || strings.Contains(out, "warning") {
		t.Errorf("check -s sales_by_channel: exit %d, want 0 and no warning:\n%s", code, out)
	}

	// 4. See a test fail.
	yml := filepath.Join(dir, "models", "analytics", "sales_by_channel.yml")
	b, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	failing := strings.Replace(string(b), "[web, mobile_app, marketplace]", "[web, mobile_app]", 1)
	if err := os.WriteFile(yml, []byte(failing), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = strata(t, dir, "build", "-s", "sales_by_channel")
	if missing := quotedIn(docBlock(t, doc, "Change the accepted values to `[web, mobile_app]` and build again:"), out); code != ExitFailed || len(missing) > 0 {
		t.Errorf("build -s sales_by_channel, failing: exit %d; the page shows lines it did not print: %q\n%s", code, missing, out)
	}
	file := "target/compiled/models/analytics/sales_by_channel.yml/accepted_values_sales_by_channel_channel.sql"
	if !strings.Contains(doc, "`see\n"+file+"`") {
		t.Errorf("docs/getting-started.md no longer names %s", file)
	}
	if code, out := strata(t, dir, "test", "-s", "sales_by_channel"); code != ExitFailed || !strings.Contains(out, "see "+file+`; e.g. "marketplace"`) {
		t.Errorf("test -s sales_by_channel: exit %d, want 1 naming %s:\n%s", code, file, out)
	}
	if err := os.WriteFile(yml, b, 0o644); err != nil {
		t.Fatal(err)
	}

	// 5. Put it on a dashboard.
	exposure := docBlock(t, doc, "Add an exposure to the same YAML file:")
	if err := os.WriteFile(yml, append(b, exposure...), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := strata(t, dir, "docs", "generate"); code != ExitOK {
		t.Fatalf("docs generate: exit %d\n%s", code, out)
	}
	page, err := os.ReadFile(filepath.Join(dir, "target", "docs", "dashboards", "channel_report.html"))
	if err != nil || !strings.Contains(string(page), "Sales by channel") || !strings.Contains(string(page), "marketplace: revenue = ") {
		t.Errorf("the dashboard Sales by channel is not drawn with its bars (%v)", err)
	}
}
