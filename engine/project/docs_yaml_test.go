package project

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"

	"strata/engine/diag"
	"strata/engine/internal/mdsnip"
)

// docsKinds are the kinds of YAML block the documentation shows, as its
// <!-- yaml: KIND --> comments name them, each with how to make it a file
// of a project: the file it goes in and the text around it. A block marked
// with a path (project.yaml, models/x.yml, seeds/x.yml) is that whole file.
var docsKinds = map[string]struct {
	file   string
	before string // the text before the block, which is indented to follow it
	indent int
}{
	// The keys of one model's entry in a YAML file (config:, columns:, ...).
	"model": {"models/doc.yml", "models:\n  - name: doc_model\n", 4},
	// Entries of a model's columns: list.
	"columns": {"models/doc.yml", "models:\n  - name: doc_model\n    columns:\n", 6},
	// Entries of a column's tests: list.
	"tests": {"models/doc.yml", "models:\n  - name: doc_model\n    columns:\n      - name: doc_column\n        tests:\n", 10},
	// Entries of project.yaml's targets:.
	"targets": {"project.yaml", "name: doc\ntargets:\n", 2},
	// Entries of an exposure's charts: list.
	"charts": {"models/doc.yml", "exposures:\n  - name: doc_exposure\n    type: dashboard\n    owner: {name: doc}\n    depends_on: [doc_model]\n    charts:\n", 6},
	// The keys of one unit test, besides its name, model, given and expect.
	"unit test": {"models/doc.yml", "unit_tests:\n  - name: doc_unit_test\n    model: doc_model\n    given: []\n    expect: {rows: []}\n", 4},
	// One input of a unit test (its given: entry, without input:) per
	// paragraph: several ways of writing the same thing, one after the other.
	"unit test inputs": {"models/doc.yml", "unit_tests:\n  - name: doc_unit_test\n    model: doc_model\n    expect: {rows: []}\n    given:\n      - input: ref('doc_model')\n", 8},
}

// otherYAML marks a YAML block that is no file of a strata project (a CI
// workflow, say): <!-- yaml: other: what it is -->. It must be YAML.
const otherYAML = "other:"

// TestDocsYAML: every YAML block of the user documentation (docs/*.md,
// README.md) says what it is, and each that is a strata file, or part of
// one, is read by Load without an error: a key the loader does not know, a
// value of the wrong kind, a file in the wrong place. A block is put into a
// project of its own, with a SQL file for each model its YAML describes.
func TestDocsYAML(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := mdsnip.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := mdsnip.Read(root, files)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range blocks {
		if b.Lang != "yaml" && b.Kind == "" {
			continue
		}
		n++
		if msg := checkDocsYAML(b); msg != "" {
			t.Errorf("%s: %s", b.Pos(), msg)
		}
	}
	if n < 30 {
		t.Errorf("found %d YAML blocks in %v, want the documentation's 30 or more", n, files)
	}
}

// checkDocsYAML says what is wrong with the YAML block b, "" if nothing.
func checkDocsYAML(b mdsnip.Block) string {
	switch {
	case b.Kind == "":
		return "say what this ```yaml block is on the line before it, <!-- yaml: KIND -->: project.yaml, models/NAME.yml, seeds/NAME.yml, " + strings.Join(sortedKeys(docsKinds), ", ") + " (a part of one, engine/project/docs_yaml_test.go), or other: WHAT (no file of strata's)"
	case b.Lang != "yaml":
		return "a block marked <!-- yaml: ... --> opens with ```yaml"
	case strings.HasPrefix(b.Kind, otherYAML):
		var v any
		if err := yaml.Unmarshal([]byte(b.Text), &v); err != nil {
			return "invalid YAML: " + err.Error()
		}
		return ""
	}
	var fsys fstest.MapFS
	var err string
	if b.Kind == "unit test inputs" {
		// One project per paragraph.
		for _, para := range strings.Split(strings.TrimSpace(b.Text), "\n\n") {
			if fsys, err = docsProject(b.Kind, para+"\n"); err == "" {
				err = loadDocsProject(fsys)
			}
			if err != "" {
				return err
			}
		}
		return ""
	}
	if fsys, err = docsProject(b.Kind, b.Text); err != "" {
		return err
	}
	return loadDocsProject(fsys)
}

// docsProject is the project that holds the YAML text of kind kind.
func docsProject(kind, text string) (fstest.MapFS, string) {
	fsys := fstest.MapFS{"project.yaml": {Data: []byte("name: doc\n")}}
	file := kind
	if k, ok := docsKinds[kind]; ok {
		file = k.file
		text = k.before + indentText(text, k.indent)
	} else if kind != "project.yaml" && !regexp.MustCompile(`^(models|seeds)/[a-z0-9_/]+\.ya?ml$`).MatchString(kind) {
		return nil, "<!-- yaml: " + kind + " --> is not known: a block is project.yaml, models/NAME.yml, seeds/NAME.yml, one of " + strings.Join(sortedKeys(docsKinds), ", ") + ", or other: WHAT"
	}
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(text), &root); err != nil {
		return nil, "invalid YAML as " + file + ": " + err.Error()
	}
	if file == "project.yaml" && !strings.Contains("\n"+text, "\nname:") {
		text = "name: doc\n" + text // a part of project.yaml
	}
	fsys[file] = &fstest.MapFile{Data: []byte(text)}
	// A SQL file for each model the YAML describes, and for doc_model.
	fsys["models/doc_model.sql"] = &fstest.MapFile{Data: []byte("select 1 as id")}
	if len(root.Content) == 1 && root.Content[0].Kind == yaml.MappingNode {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value != "models" || m.Content[i+1].Kind != yaml.SequenceNode || file == "project.yaml" {
				continue
			}
			for _, item := range m.Content[i+1].Content {
				var e struct{ Name string }
				if item.Decode(&e) == nil && e.Name != "" {
					fsys["models/"+e.Name+".sql"] = &fstest.MapFile{Data: []byte("select 1 as id")}
				}
			}
		}
	}
	// The files the YAML names as fixtures.
	for _, m := range regexp.MustCompile(`fixture:\s*(tests/fixtures/\S+)`).FindAllStringSubmatch(text, -1) {
		fsys[m[1]] = &fstest.MapFile{Data: []byte("id\n1\n")}
	}
	return fsys, ""
}

// loadDocsProject is the errors Load finds in fsys, one a line; "" if none.
func loadDocsProject(fsys fstest.MapFS) string {
	_, diags := Load(fsys)
	var errs []string
	for _, d := range diags {
		if d.Severity == diag.Error {
			errs = append(errs, d.Error())
		}
	}
	if len(errs) == 0 {
		return ""
	}
	return "strata would refuse it:\n\t" + strings.Join(errs, "\n\t")
}

// indentText indents every line of text that is not empty by n spaces.
func indentText(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = strings.Repeat(" ", n) + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestDocsKeys: every key the loader accepts is in the documentation, in
// code (a code span or a YAML block) on the page that describes it.
func TestDocsKeys(t *testing.T) {
	groups := []struct {
		what  string
		keys  []string
		pages []string
	}{
		{"project.yaml", projectKeys, []string{"project.md"}},
		{"a target", targetKeys, []string{"project.md"}},
		{"project.yaml's check:", checkConfigKeys, []string{"check.md"}},
		{"a model's config", ModelConfigKeys, []string{"models.md"}},
		{"a seed's config", SeedConfigKeys, []string{"seeds-and-sources.md"}},
		{"a test's config", TestConfigKeys, []string{"tests.md"}},
		{"a YAML file", docFileKeys, []string{"models.md"}},
		{"a model's YAML entry", modelDocKeys, []string{"models.md"}},
		{"a column", columnKeys, []string{"models.md"}},
		{"a source", sourceKeys, []string{"seeds-and-sources.md"}},
		{"a source's table", sourceTableKeys, []string{"seeds-and-sources.md"}},
		{"an exposure", exposureKeys, []string{"docs-site.md"}},
		{"a chart", chartKeys, []string{"docs-site.md"}},
		{"a unit test", unitTestKeys, []string{"unit-tests.md"}},
		{"a unit test's config", unitConfigKeys, []string{"unit-tests.md"}},
		{"a unit test's input", unitGivenKeys, []string{"unit-tests.md"}},
		{"a unit test's expect", unitExpectKeys, []string{"unit-tests.md"}},
		{"a unit test's overrides", unitOverrideKeys, []string{"unit-tests.md"}},
	}
	root := filepath.Join("..", "..")
	span := regexp.MustCompile("`[^`]+`")
	for _, g := range groups {
		words := map[string]bool{}
		for _, page := range g.pages {
			file := "docs/" + page
			data, err := os.ReadFile(filepath.Join(root, file))
			if err != nil {
				t.Fatal(err)
			}
			blocks, err := mdsnip.Parse(file, string(data))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(data), "\n")
			var code []string
			for i := len(blocks) - 1; i >= 0; i-- {
				b := blocks[i]
				if b.Lang == "yaml" {
					code = append(code, b.Text)
				}
				end := b.Line + strings.Count(b.Text, "\n") + 1 // the closing fence's line
				lines = slices.Delete(lines, b.Line-1, end)
			}
			code = append(code, span.FindAllString(strings.Join(lines, "\n"), -1)...)
			for _, c := range code {
				for _, w := range regexp.MustCompile(`[a-z0-9_-]+`).FindAllString(c, -1) {
					words[w] = true
				}
			}
		}
		for _, k := range g.keys {
			if !words[k] {
				t.Errorf("docs/%s does not show the key %s of %s", strings.Join(g.pages, ", docs/"), k, g.what)
			}
		}
	}
}
