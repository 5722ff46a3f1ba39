// Package plan is what strata plan reports (docs/environments.md): the models added,
// removed, directly and indirectly modified since production recorded
// them, each direct change's SQL diff, config changes, output columns and
// their readers, whether it needs a full refresh, and what a build would
// rebuild. It holds the report's types, the SQL diff and the three ways
// of writing it (text, markdown for a pull-request comment, JSON); the
// pipeline fills it in. It touches no database.
package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Plan is the report.
type Plan struct {
	Project string `json:"project"`
	Target  string `json:"target"`
	// Env is the environment the build would go to; "" is production.
	Env string `json:"env,omitempty"`
	// NothingRecorded: production has recorded nothing yet, so every
	// model is added.
	NothingRecorded bool       `json:"nothing_recorded,omitempty"`
	Added           []Model    `json:"added"`
	Removed         []Model    `json:"removed"`
	Modified        []Change   `json:"modified"`
	Indirect        []Indirect `json:"indirectly_modified"`
	Rebuild         []Step     `json:"rebuild"`
	Notes           []string   `json:"notes,omitempty"`
}

// Model names a model or seed.
type Model struct {
	Name         string `json:"name"`
	Kind         string `json:"resource_type"`
	Materialized string `json:"materialized,omitempty"`
	Relation     string `json:"relation,omitempty"`
}

// Change is a directly modified model or seed.
type Change struct {
	Model
	// Why: "sql", "config", "vars", "env_vars".
	Why []string `json:"why"`
	// Diff is the unified diff of the compiled SQL, comments and
	// whitespace ignored; "" when only the config or a var changed.
	Diff   string         `json:"diff,omitempty"`
	Config []ConfigChange `json:"config_changes,omitempty"`
	// Columns are its output columns' changes, from check; nil when
	// they could not be found (ColumnsError says why).
	Columns      *Columns `json:"columns,omitempty"`
	ColumnsError string   `json:"columns_error,omitempty"`
	// Readers are the downstream models that read a removed or retyped column.
	Readers []Reader `json:"readers_of_changed_columns,omitempty"`
	// FullRefresh says what an incremental or scd2 model needs to take
	// the change; "" when nothing.
	FullRefresh string `json:"full_refresh,omitempty"`
}

// ConfigChange is one config key whose value changed, as JSON.
type ConfigChange struct {
	Key string `json:"key"`
	Old string `json:"old"`
	New string `json:"new"`
}

// Columns are the changes of a model's output columns.
type Columns struct {
	Added   []Column  `json:"added"`
	Removed []Column  `json:"removed"`
	Retyped []Retyped `json:"retyped"`
}

// Empty says whether no column changed.
func (c *Columns) Empty() bool {
	return c == nil || len(c.Added)+len(c.Removed)+len(c.Retyped) == 0
}

// Column is an output column and its type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Retyped is a column whose type changed.
type Retyped struct {
	Name string `json:"name"`
	Old  string `json:"old_type"`
	New  string `json:"new_type"`
}

// Reader is a downstream model and the removed or retyped columns it
// reads (or, when check could not tell, why it would fail).
type Reader struct {
	Model   string   `json:"model"`
	Columns []string `json:"columns,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Indirect is a model that changes only because something it reads does.
type Indirect struct {
	Model
	Through []string `json:"through"`
}

// Step is one node a build would rebuild, in order, with an estimate of
// its rows from the catalog (negative: unknown).
type Step struct {
	Model
	Why  string  `json:"why"` // added, modified, downstream, selected
	Rows float64 `json:"estimated_rows"`
}

// Write writes p as format: "text", "markdown" or "json".
func Write(w io.Writer, p *Plan, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "markdown":
		return writeMarkdown(w, p)
	case "text":
		return writeText(w, p)
	}
	return fmt.Errorf("--output must be text, markdown or json, got %q", format)
}

func where(p *Plan) string {
	if p.Env == "" {
		return "production"
	}
	return "environment " + p.Env
}

func (m Model) label() string {
	var parts []string
	if m.Materialized != "" {
		parts = append(parts, m.Materialized)
	} else {
		parts = append(parts, m.Kind)
	}
	if m.Relation != "" {
		parts = append(parts, m.Relation)
	}
	return m.Name + " (" + strings.Join(parts, ", ") + ")"
}

func names(ms []Model) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.label())
	}
	return strings.Join(s, ", ")
}

func columnsText(c *Columns) []string {
	var out []string
	for _, x := range c.Added {
		out = append(out, "+ "+x.Name+" "+x.Type)
	}
	for _, x := range c.Removed {
		out = append(out, "- "+x.Name+" "+x.Type)
	}
	for _, x := range c.Retyped {
		out = append(out, "~ "+x.Name+" "+x.Old+" -> "+x.New)
	}
	return out
}

func readerText(r Reader) string {
	if r.Error != "" {
		return r.Model + " (" + r.Error + ")"
	}
	return r.Model + " (" + strings.Join(r.Columns, ", ") + ")"
}

// rowsText is a step's estimate as people read it.
func rowsText(s Step) string {
	r := s.Rows
	switch {
	case r < 0 && (s.Materialized == "view" || s.Materialized == "ephemeral"):
		return "a " + s.Materialized + ", no rows of its own"
	case r < 0:
		return "rows unknown (not built yet)"
	}
	digits := fmt.Sprint(int64(r))
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return "~" + b.String() + " rows"
}

func writeText(w io.Writer, p *Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan of project %s on target %s, against production's recorded state; build goes to %s\n", p.Project, p.Target, where(p))
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	section := func(title string, n int) {
		fmt.Fprintf(&b, "\n%s (%d)%s\n", title, n, map[bool]string{true: ": none", false: ":"}[n == 0])
	}
	section("Added", len(p.Added))
	for _, m := range p.Added {
		fmt.Fprintf(&b, "  + %s\n", m.label())
	}
	section("Removed", len(p.Removed))
	for _, m := range p.Removed {
		fmt.Fprintf(&b, "  - %s\n", m.label())
	}
	section("Directly modified", len(p.Modified))
	for _, c := range p.Modified {
		fmt.Fprintf(&b, "  ~ %s: %s changed\n", c.label(), strings.Join(c.Why, ", "))
		for _, cc := range c.Config {
			fmt.Fprintf(&b, "      config %s: %s -> %s\n", cc.Key, cc.Old, cc.New)
		}
		switch {
		case c.ColumnsError != "":
			fmt.Fprintf(&b, "      columns: not known (%s)\n", c.ColumnsError)
		case c.Columns.Empty():
			fmt.Fprintf(&b, "      columns: unchanged\n")
		default:
			fmt.Fprintf(&b, "      columns: %s\n", strings.Join(columnsText(c.Columns), "; "))
		}
		for _, r := range c.Readers {
			fmt.Fprintf(&b, "      read downstream by %s\n", readerText(r))
		}
		if c.FullRefresh != "" {
			fmt.Fprintf(&b, "      full refresh: %s\n", c.FullRefresh)
		}
		if c.Diff != "" {
			for _, line := range strings.Split(strings.TrimSuffix(c.Diff, "\n"), "\n") {
				fmt.Fprintf(&b, "      %s\n", line)
			}
		}
	}
	section("Indirectly modified", len(p.Indirect))
	for _, m := range p.Indirect {
		fmt.Fprintf(&b, "  ~ %s, through %s\n", m.label(), strings.Join(m.Through, ", "))
	}
	fmt.Fprintf(&b, "\nBuild would rebuild %d node%s in %s, in this order:\n", len(p.Rebuild), plural(len(p.Rebuild)), where(p))
	for i, s := range p.Rebuild {
		fmt.Fprintf(&b, "  %d. %s [%s] %s\n", i+1, s.label(), s.Why, rowsText(s))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// md escapes text for a markdown table cell.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

func writeMarkdown(w io.Writer, p *Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### strata plan: %s on %s\n\n", p.Project, p.Target)
	fmt.Fprintf(&b, "Compared with production's recorded state; the build goes to **%s**.\n\n", where(p))
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "> %s\n\n", md(n))
	}
	fmt.Fprintf(&b, "| added | removed | directly modified | indirectly modified | to rebuild |\n|---:|---:|---:|---:|---:|\n| %d | %d | %d | %d | %d |\n\n",
		len(p.Added), len(p.Removed), len(p.Modified), len(p.Indirect), len(p.Rebuild))
	if len(p.Added) > 0 {
		fmt.Fprintf(&b, "**Added:** %s\n\n", md(names(p.Added)))
	}
	if len(p.Removed) > 0 {
		fmt.Fprintf(&b, "**Removed:** %s\n\n", md(names(p.Removed)))
	}
	if len(p.Modified) > 0 {
		b.WriteString("#### Directly modified\n\n")
	}
	for _, c := range p.Modified {
		fmt.Fprintf(&b, "**`%s`** (%s): %s changed\n\n", c.Name, md(strings.TrimPrefix(strings.TrimSuffix(c.label(), ")"), c.Name+" (")), strings.Join(c.Why, ", "))
		if len(c.Config) > 0 {
			b.WriteString("| config | before | after |\n|---|---|---|\n")
			for _, cc := range c.Config {
				fmt.Fprintf(&b, "| %s | `%s` | `%s` |\n", md(cc.Key), md(cc.Old), md(cc.New))
			}
			b.WriteString("\n")
		}
		switch {
		case c.ColumnsError != "":
			fmt.Fprintf(&b, "Columns: not known (%s)\n\n", md(c.ColumnsError))
		case c.Columns.Empty():
			b.WriteString("Columns: unchanged\n\n")
		default:
			b.WriteString("| column | change |\n|---|---|\n")
			for _, x := range c.Columns.Added {
				fmt.Fprintf(&b, "| `%s` | added, %s |\n", md(x.Name), md(x.Type))
			}
			for _, x := range c.Columns.Removed {
				fmt.Fprintf(&b, "| `%s` | **removed** (was %s) |\n", md(x.Name), md(x.Type))
			}
			for _, x := range c.Columns.Retyped {
				fmt.Fprintf(&b, "| `%s` | **retyped** %s → %s |\n", md(x.Name), md(x.Old), md(x.New))
			}
			b.WriteString("\n")
		}
		for _, r := range c.Readers {
			fmt.Fprintf(&b, "- :warning: read downstream by `%s`\n", md(readerText(r)))
		}
		if c.FullRefresh != "" {
			fmt.Fprintf(&b, "- :warning: %s\n", md(c.FullRefresh))
		}
		if len(c.Readers) > 0 || c.FullRefresh != "" {
			b.WriteString("\n")
		}
		if c.Diff != "" {
			fmt.Fprintf(&b, "<details><summary>SQL diff</summary>\n\n```diff\n%s```\n\n</details>\n\n", strings.ReplaceAll(c.Diff, "```", "` ` `"))
		}
	}
	if len(p.Indirect) > 0 {
		b.WriteString("#### Indirectly modified\n\n")
		for _, m := range p.Indirect {
			fmt.Fprintf(&b, "- `%s` through %s\n", m.Name, md(strings.Join(m.Through, ", ")))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "#### Build would rebuild %d node%s\n\n", len(p.Rebuild), plural(len(p.Rebuild)))
	if len(p.Rebuild) > 0 {
		b.WriteString("| # | node | materialized | relation | why | estimate |\n|---:|---|---|---|---|---:|\n")
		for i, s := range p.Rebuild {
			mat := s.Materialized
			if mat == "" {
				mat = s.Kind
			}
			fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s | %s |\n", i+1, md(s.Name), md(mat), md(s.Relation), s.Why, rowsText(s))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
