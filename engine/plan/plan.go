// Package plan is what strata plan reports (docs/environments.md): the models added,
// removed, directly and indirectly modified since production recorded
// them, each direct change's SQL diff, config changes, output columns and
// their readers, whether it needs a full refresh, the views its build
// could not recreate, and what a build would rebuild. It holds the report's types, the SQL diff and the three ways
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
	// Parents are the models and seeds the build reads but does not
	// select that are not what it expects them to be.
	Parents []Parent `json:"unselected_parents,omitempty"`
	Notes   []string `json:"notes,omitempty"`
}

// Parent is a model or seed that a selected model reads, which the build
// does not select (it reads it as it is), and that is not what the build
// expects: missing, stale, or changed by hand. Its Relation is the one
// the build reads.
type Parent struct {
	Model
	// ReadBy are the selected models that read it.
	ReadBy []string `json:"read_by"`
	// Why: "missing" (its relation does not exist), "stale" (it, or an
	// unselected model or seed above it, changed in the project since it
	// was built, or it was never recorded), "changed_by_hand" (its
	// relation is not of the kind, or has not the columns, recorded when
	// it was built).
	Why []string `json:"why"`
	// Says is what plan prints of it.
	Says string `json:"says"`
}

// Model names a model or seed.
type Model struct {
	Name         string `json:"name"`
	Kind         string `json:"resource_type"`
	Materialized string `json:"materialized,omitempty"`
	// Relation is production's ("" for an ephemeral model): where the
	// change goes when it is deployed; in Rebuild, where the build in Env
	// places it.
	Relation string `json:"relation,omitempty"`
	// CheckError, of an added model or seed, is why strata check could
	// not prove it; "" when it could (or, elsewhere, was not asked).
	CheckError string `json:"check_error,omitempty"`
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
	// Views are the views on a table, view, materialized view or
	// incremental model's relation that its build could not recreate on
	// the new version, so it would refuse the change (from check).
	Views []View `json:"views_build_cannot_recreate,omitempty"`
	// FullRefreshViews are, for an incremental model whose FullRefresh
	// says to fully refresh it, the views on its table that the full
	// refresh (built anew and swapped in) could not recreate, so build
	// --full-refresh would refuse it (from check).
	FullRefreshViews []View `json:"views_full_refresh_cannot_recreate,omitempty"`
}

// View is a view the build could not recreate, and why, in check's words.
type View struct {
	View  string `json:"view"`
	Error string `json:"error"`
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
	// Views are the views on its relation that its build could not
	// recreate on its new columns, which a parent changes (from check),
	// as Change.Views.
	Views []View `json:"views_build_cannot_recreate,omitempty"`
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
		enc.SetEscapeHTML(false) // SQL's <, > and & as they are
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

// Text is the changes as plan prints them: "+ a text; - b integer".
func (c *Columns) Text() string { return strings.Join(columnsText(c), "; ") }

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
	if digits == "1" {
		return "~1 row"
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
		if m.CheckError != "" {
			fmt.Fprintf(&b, "      not proven: %s\n", m.CheckError)
		}
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
			fmt.Fprintf(&b, "      columns: %s\n", c.Columns.Text())
		}
		for _, r := range c.Readers {
			fmt.Fprintf(&b, "      read downstream by %s\n", readerText(r))
		}
		if c.FullRefresh != "" {
			fmt.Fprintf(&b, "      full refresh: %s\n", c.FullRefresh)
		}
		for _, v := range c.Views {
			fmt.Fprintf(&b, "      build refuses: %s\n", v.Error)
		}
		for _, v := range c.FullRefreshViews {
			fmt.Fprintf(&b, "      build --full-refresh refuses: %s\n", v.Error)
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
		for _, v := range m.Views {
			fmt.Fprintf(&b, "      build refuses: %s\n", v.Error)
		}
	}
	if len(p.Parents) > 0 {
		fmt.Fprintf(&b, "\nRead but not selected, and not as the build expects (%d):\n", len(p.Parents))
	}
	for _, par := range p.Parents {
		fmt.Fprintf(&b, "  ! %s, read by %s: %s\n", par.label(), strings.Join(par.ReadBy, ", "), par.Says)
	}
	if len(p.Rebuild) == 0 {
		fmt.Fprintf(&b, "\nBuild would rebuild nothing in %s.\n", where(p))
	} else {
		fmt.Fprintf(&b, "\nBuild would rebuild %d node%s in %s, in this order:\n", len(p.Rebuild), plural(len(p.Rebuild)), where(p))
	}
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

// md is text as markdown shows it as written, in a table cell or not:
// the characters markdown gives a meaning are escaped with a backslash
// (which a table also takes for |), a newline is a space. An _ inside a
// word (stg_orders, pr_42), which never emphasizes, is left as it is.
func md(s string) string {
	var b strings.Builder
	word := func(i int) bool {
		return i >= 0 && i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9')
	}
	for i, r := range s {
		switch r {
		case '_':
			if !word(i-1) || !word(i+1) {
				b.WriteByte('\\')
			}
		case '\\', '`', '*', '<', '>', '[', ']', '|', '~':
			b.WriteByte('\\')
		case '\n':
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cell is s as a markdown code span in a table cell, whose | are escaped
// (GitHub's tables unescape them in a code span, the text elsewhere does not).
func cell(s string) string {
	return strings.ReplaceAll(code(s), "|", `\|`)
}

// code is s as a markdown code span: a span holding backticks is opened
// and closed by a longer run of them.
func code(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return ticks + " " + s + " " + ticks
	}
	return ticks + s + ticks
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	most, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] != c {
			n = 0
			continue
		}
		n++
		most = max(most, n)
	}
	return most
}

// The markdown is a pull-request comment, which GitHub refuses over
// 65,536 characters: lists stop at listLimit entries, a diff at
// diffLimit lines, and when the whole is still over commentLimit bytes,
// the diffs that do not fit are left out (strata plan, in text or JSON,
// has them all).
const (
	commentLimit = 60000
	listLimit    = 100
	diffLimit    = 200
	// collapseOver: a list longer than this is in a collapsed section.
	collapseOver = 10
)

// tooLong ends a comment cut short (fitComment).
const tooLong = "\n\n… the comment stops here: it would be too long for a pull request (`strata plan` prints the whole plan)\n"

func writeMarkdown(w io.Writer, p *Plan) error {
	s := markdown(p, -1, false)
	if len(s) > commentLimit {
		s = markdown(p, max(0, commentLimit-len(markdown(p, 0, false))), false)
	}
	if len(s) > commentLimit {
		// Without diffs still too long (many models with long config
		// values or many columns changed): each model's details go.
		s = markdown(p, 0, true)
	}
	_, err := io.WriteString(w, fitComment(s))
	return err
}

// fitComment is s, or when s is over commentLimit bytes, the lines of it
// that fit with tooLong after them.
func fitComment(s string) string {
	if len(s) <= commentLimit {
		return s
	}
	cut := strings.LastIndexByte(s[:commentLimit-len(tooLong)], '\n')
	return s[:max(0, cut)] + tooLong
}

// markdown is p as a pull-request comment, with at most diffBudget bytes
// of diffs (negative: no limit); brief leaves out each directly modified
// model's config, columns, readers and diff.
func markdown(p *Plan, diffBudget int, brief bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### strata plan: %s on %s\n\n", md(p.Project), md(p.Target))
	fmt.Fprintf(&b, "Compared with production's recorded state; the build goes to **%s**.\n\n", md(where(p)))
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "> %s\n\n", md(n))
	}
	fmt.Fprintf(&b, "| added | removed | directly modified | indirectly modified | to rebuild |\n|---:|---:|---:|---:|---:|\n| %d | %d | %d | %d | %d |\n\n",
		len(p.Added), len(p.Removed), len(p.Modified), len(p.Indirect), len(p.Rebuild))
	// list writes a titled list of n entries, collapsed when long.
	list := func(title string, n int, entry func(i int) string) {
		if n == 0 {
			return
		}
		if n > collapseOver {
			fmt.Fprintf(&b, "<details><summary>%s (%d)</summary>\n\n", title, n)
		} else {
			fmt.Fprintf(&b, "#### %s\n\n", title)
		}
		for i := 0; i < n && i < listLimit; i++ {
			b.WriteString(entry(i) + "\n")
		}
		if n > listLimit {
			fmt.Fprintf(&b, "\n… and %d more (`strata plan --output json` lists them all)\n", n-listLimit)
		}
		if n > collapseOver {
			b.WriteString("\n</details>\n")
		}
		b.WriteString("\n")
	}
	model := func(m Model) string {
		if m.Relation == "" {
			return fmt.Sprintf("- %s (%s)", code(m.Name), md(m.kindText()))
		}
		return fmt.Sprintf("- %s (%s, %s)", code(m.Name), md(m.kindText()), code(m.Relation))
	}
	list("Added", len(p.Added), func(i int) string {
		m := p.Added[i]
		if m.CheckError != "" {
			return model(m) + ": **not proven**: " + md(m.CheckError)
		}
		return model(m)
	})
	list("Removed", len(p.Removed), func(i int) string { return model(p.Removed[i]) })
	if len(p.Modified) > 0 {
		b.WriteString("#### Directly modified\n\n")
		if brief {
			b.WriteString("What changed in each model (config, columns, readers, SQL) is left out: the comment would be too long for a pull request (`strata plan` prints it).\n\n")
		}
	}
	for i, c := range p.Modified {
		if i == listLimit {
			fmt.Fprintf(&b, "… and %d more (`strata plan --output json` lists them all)\n\n", len(p.Modified)-listLimit)
			break
		}
		head := c.kindText()
		if c.Relation != "" {
			head += ", " + code(c.Relation)
		}
		fmt.Fprintf(&b, "**%s** (%s): %s changed\n\n", code(c.Name), head, md(strings.Join(c.Why, ", ")))
		if brief {
			if c.FullRefresh != "" {
				fmt.Fprintf(&b, "- :warning: %s\n", md(c.FullRefresh))
			}
			c.refusals(&b)
			if c.FullRefresh != "" || len(c.Views)+len(c.FullRefreshViews) > 0 {
				b.WriteString("\n")
			}
			continue
		}
		if len(c.Config) > 0 {
			b.WriteString("| config | before | after |\n|---|---|---|\n")
			for _, cc := range c.Config {
				fmt.Fprintf(&b, "| %s | %s | %s |\n", md(cc.Key), cell(cc.Old), cell(cc.New))
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
				fmt.Fprintf(&b, "| %s | added, %s |\n", cell(x.Name), md(x.Type))
			}
			for _, x := range c.Columns.Removed {
				fmt.Fprintf(&b, "| %s | **removed** (was %s) |\n", cell(x.Name), md(x.Type))
			}
			for _, x := range c.Columns.Retyped {
				fmt.Fprintf(&b, "| %s | **retyped** %s → %s |\n", cell(x.Name), md(x.Old), md(x.New))
			}
			b.WriteString("\n")
		}
		for _, r := range c.Readers {
			if r.Error != "" {
				fmt.Fprintf(&b, "- :warning: read downstream by %s, which %s\n", code(r.Model), md(r.Error))
				continue
			}
			cols := make([]string, len(r.Columns))
			for i, x := range r.Columns {
				cols[i] = code(x)
			}
			fmt.Fprintf(&b, "- :warning: read downstream by %s (%s)\n", code(r.Model), strings.Join(cols, ", "))
		}
		if c.FullRefresh != "" {
			fmt.Fprintf(&b, "- :warning: %s\n", md(c.FullRefresh))
		}
		c.refusals(&b)
		if len(c.Readers) > 0 || c.FullRefresh != "" || len(c.Views)+len(c.FullRefreshViews) > 0 {
			b.WriteString("\n")
		}
		if c.Diff != "" {
			d := diffBlock(c.Diff)
			if diffBudget >= 0 && len(d) > diffBudget {
				b.WriteString("SQL diff left out: the comment would be too long for a pull request (`strata plan` prints it).\n\n")
				diffBudget = 0
				continue
			}
			if diffBudget >= 0 {
				diffBudget -= len(d)
			}
			b.WriteString(d)
		}
	}
	list("Indirectly modified", len(p.Indirect), func(i int) string {
		m := p.Indirect[i]
		through := make([]string, len(m.Through))
		for i, x := range m.Through {
			through[i] = code(x)
		}
		line := fmt.Sprintf("- %s through %s", code(m.Name), strings.Join(through, ", "))
		for _, v := range m.Views {
			line += fmt.Sprintf("\n  - :warning: build refuses: %s", md(v.Error))
		}
		return line
	})
	list("Read but not selected, and not as the build expects", len(p.Parents), func(i int) string {
		par := p.Parents[i]
		readers := make([]string, len(par.ReadBy))
		for i, x := range par.ReadBy {
			readers[i] = code(x)
		}
		return fmt.Sprintf("%s, read by %s: :warning: %s", model(par.Model), strings.Join(readers, ", "), md(par.Says))
	})
	title := fmt.Sprintf("Build would rebuild %d node%s", len(p.Rebuild), plural(len(p.Rebuild)))
	if len(p.Rebuild) == 0 {
		fmt.Fprintf(&b, "#### Build would rebuild nothing\n")
		return b.String()
	}
	if len(p.Rebuild) > collapseOver {
		fmt.Fprintf(&b, "<details><summary>%s</summary>\n\n", title)
	} else {
		fmt.Fprintf(&b, "#### %s\n\n", title)
	}
	b.WriteString("| # | node | materialized | relation | why | estimate |\n|---:|---|---|---|---|---:|\n")
	for i, s := range p.Rebuild {
		if i == listLimit {
			fmt.Fprintf(&b, "\n… and %d more (`strata plan --output json` lists them all)\n", len(p.Rebuild)-listLimit)
			break
		}
		rel := ""
		if s.Relation != "" {
			rel = cell(s.Relation)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", i+1, cell(s.Name), md(s.kindText()), rel, s.Why, rowsText(s))
	}
	if len(p.Rebuild) > collapseOver {
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

// refusals writes, in markdown, a warning for each view c's build, and
// its full refresh, could not recreate.
func (c Change) refusals(b *strings.Builder) {
	for _, v := range c.Views {
		fmt.Fprintf(b, "- :warning: build refuses: %s\n", md(v.Error))
	}
	for _, v := range c.FullRefreshViews {
		fmt.Fprintf(b, "- :warning: build --full-refresh refuses: %s\n", md(v.Error))
	}
}

// kindText is how m is materialized, or its resource type.
func (m Model) kindText() string {
	if m.Materialized != "" {
		return m.Materialized
	}
	return m.Kind
}

// diffBlock is a collapsed section holding diff in a code fence longer
// than any run of backticks in it (the SQL is shown as it is), cut after
// diffLimit lines.
func diffBlock(diff string) string {
	lines := strings.Split(strings.TrimSuffix(diff, "\n"), "\n")
	more := 0
	if len(lines) > diffLimit {
		more = len(lines) - diffLimit
		lines = lines[:diffLimit]
	}
	body := strings.Join(lines, "\n") + "\n"
	fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>SQL diff</summary>\n\n%sdiff\n%s%s\n", fence, body, fence)
	if more > 0 {
		fmt.Fprintf(&b, "\n… %d more line%s of this diff (`strata plan` prints it whole)\n", more, plural(more))
	}
	b.WriteString("\n</details>\n\n")
	return b.String()
}
