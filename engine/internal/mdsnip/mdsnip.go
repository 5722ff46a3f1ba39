// Package mdsnip reads the fenced code blocks of the user documentation
// (docs/*.md and README.md) for the tests that keep the documentation true
// to the tool: a YAML block is read by the project loader, a command line
// by the CLI's flag sets. It is used by tests only, and knows nothing of
// strata.
//
// A block's kind is said by an HTML comment on the line before its fence,
// which GitHub does not show:
//
//	<!-- yaml: project.yaml -->
//	```yaml
//	targets: ...
//	```
//
// The comment's text after "yaml:" is the block's Kind; each test says
// which kinds it knows.
package mdsnip

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Block is one fenced code block.
type Block struct {
	// File is the markdown file, relative to the repository (docs/models.md).
	File string
	// Line is the line of the opening fence, 1-based.
	Line int
	// Lang is the fence's info string (yaml, sh, ...; "" for a bare fence).
	Lang string
	// Kind is what the comment before the fence says the block is
	// (<!-- yaml: KIND -->), "" when there is none.
	Kind string
	// Text is the block's content, with the indentation of its fence
	// removed from every line (a block inside a list item).
	Text string
}

// Pos is where the block is, as file:line.
func (b Block) Pos() string { return fmt.Sprintf("%s:%d", b.File, b.Line) }

var (
	fenceRe  = regexp.MustCompile("^( *)```\\s*([A-Za-z0-9_+-]*)\\s*$")
	markerRe = regexp.MustCompile(`^\s*<!--\s*yaml:\s*(.*?)\s*-->\s*$`)
)

// Files are the markdown files of the user documentation under root (the
// repository): README.md and docs/*.md, sorted. docs/architecture.md is for
// contributors, not users, and is left out.
func Files(root string) ([]string, error) {
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	out := []string{"README.md"}
	for _, d := range docs {
		if filepath.Base(d) == "architecture.md" {
			continue
		}
		out = append(out, filepath.ToSlash(filepath.Join("docs", filepath.Base(d))))
	}
	sort.Strings(out[1:])
	return out, nil
}

// Read returns the fenced code blocks of the markdown files (paths relative
// to root), in file order. A fence that is never closed is an error.
func Read(root string, files []string) ([]Block, error) {
	var out []Block
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return nil, err
		}
		blocks, err := Parse(f, string(data))
		if err != nil {
			return nil, err
		}
		out = append(out, blocks...)
	}
	return out, nil
}

// Parse returns the fenced code blocks of text, the markdown file named file.
func Parse(file, text string) ([]Block, error) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var out []Block
	for i := 0; i < len(lines); i++ {
		m := fenceRe.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		b := Block{File: file, Line: i + 1, Lang: m[2]}
		for j := i - 1; j >= 0; j-- {
			if strings.TrimSpace(lines[j]) == "" {
				continue
			}
			if mm := markerRe.FindStringSubmatch(lines[j]); mm != nil {
				b.Kind = mm[1]
			}
			break
		}
		indent := len(m[1])
		var body []string
		closed := false
		for i++; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) == "```" {
				closed = true
				break
			}
			l := lines[i]
			if strings.TrimSpace(l[:min(indent, len(l))]) == "" {
				l = l[min(indent, len(l)):]
			}
			body = append(body, l)
		}
		if !closed {
			return nil, fmt.Errorf("%s: the block opened here is never closed with ```", b.Pos())
		}
		b.Text = strings.Join(body, "\n") + "\n"
		out = append(out, b)
	}
	return out, nil
}
