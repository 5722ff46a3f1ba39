package project

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"strata/engine/diag"
)

// decoder walks yaml.Nodes of one file, reporting every problem with its position.
type decoder struct {
	file string
	// lines are the file's lines, when known: text inside a scalar (CSV
	// rows, a query) is placed in them (textOrigin).
	lines []string
	diags *diag.List
}

func (d *decoder) pos(n *yaml.Node) diag.Pos {
	if n == nil {
		return diag.Pos{File: d.file}
	}
	return diag.Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.diags.Errorf(d.pos(n), format, args...)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is absent or YAML's null (null, ~, or left empty).
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

type field struct {
	key   *yaml.Node
	value *yaml.Node
}

// mapping checks that n is a mapping whose keys are all in allowed, and returns its fields by key.
// Unknown and duplicated keys are reported; what is known is still returned.
func (d *decoder) mapping(n *yaml.Node, what string, allowed ...string) map[string]field {
	n = resolve(n)
	out := map[string]field{}
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return out
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping, got %s", what, kindName(n))
		return out
	}
	for _, kv := range d.entries(n) {
		k, v := kv[0], resolve(kv[1])
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: keys must be plain names", what)
			continue
		}
		if allowed != nil && !contains(allowed, k.Value) {
			d.errorf(k, "unknown key %q in %s%s", k.Value, what, diag.DidYouMean(k.Value, allowed))
			continue
		}
		if prev, dup := out[k.Value]; dup {
			d.errorf(k, "key %q appears twice in %s (first at line %d)", k.Value, what, prev.key.Line)
			continue
		}
		out[k.Value] = field{key: k, value: v}
	}
	return out
}

// mappingWith is mapping, but a key that is not allowed and that known
// names (dbt's name of one of ours) is the error known returns for it,
// and the keys known names are never offered as a suggestion: they are
// taken out of the mapping before mapping reads it.
func (d *decoder) mappingWith(n *yaml.Node, what string, allowed []string, known func(string) (string, bool)) map[string]field {
	if allowed == nil {
		return d.mapping(n, what)
	}
	n = resolve(n)
	if n != nil && n.Kind == yaml.MappingNode {
		// The mapping's own keys (entries would report a bad << twice).
		kept := *n
		kept.Content = nil
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Tag != "!!merge" && !contains(allowed, k.Value) {
				if msg, ok := known(k.Value); ok {
					d.errorf(k, "%s", msg)
					continue
				}
			}
			kept.Content = append(kept.Content, n.Content[i], n.Content[i+1])
		}
		n = &kept
	}
	return d.mapping(n, what, allowed...)
}

// pairs returns the fields of a mapping in file order (for maps whose keys are user names).
func (d *decoder) pairs(n *yaml.Node, what string) []field {
	n = resolve(n)
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping, got %s", what, kindName(n))
		return nil
	}
	var out []field
	seen := map[string]int{}
	for _, kv := range d.entries(n) {
		k := kv[0]
		if line, dup := seen[k.Value]; dup {
			d.errorf(k, "key %q appears twice in %s (first at line %d)", k.Value, what, line)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, field{key: k, value: resolve(kv[1])})
	}
	return out
}

// entries lists the key and value nodes of mapping n with YAML merge keys
// (`<<: *defaults`, or a list of such) expanded, as dbt projects use them
// (aliasBounds.entries), reporting a << that merges no mapping and merges
// beyond the bounds. Merged keys keep their own positions.
func (d *decoder) entries(n *yaml.Node) [][2]*yaml.Node {
	entries, errs := mergeEntries(n)
	for _, err := range errs {
		var m *mergeError
		var limit *VarLimitError
		switch {
		case errors.As(err, &m):
			d.errorf(m.key, "%v (write <<: *defaults, or <<: [*a, *b] for several)", m)
		case errors.As(err, &limit):
			d.errorf(limit.at, "%v", limit)
		}
	}
	return entries
}

func (d *decoder) list(n *yaml.Node, what string) []*yaml.Node {
	n = resolve(n)
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list, got %s", what, kindName(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out
}

func (d *decoder) str(n *yaml.Node, what string) string {
	n = resolve(n)
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s must be a string, got %s", what, kindName(n))
		return ""
	}
	return n.Value
}

// dbtDocBlock matches dbt's {{ doc("name") }}, which reads a docs block of
// a .md file into a description.
var dbtDocBlock = regexp.MustCompile(`\{\{-?\s*doc\s*\(\s*["'][^"']*["']\s*\)\s*-?\}\}`)

// description reads a description, which is plain text: a dbt doc block in
// it is a warning, since it would be shown as written.
func (d *decoder) description(n *yaml.Node) string {
	s := d.str(n, "description")
	if m := dbtDocBlock.FindString(s); m != "" {
		d.diags.Warnf(d.pos(n), "description: %s is a dbt doc block, which strata does not read: the docs site and the relation's comment would show it as written (write the text in the description instead)", m)
	}
	return s
}

func (d *decoder) strList(n *yaml.Node, what string) []string {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []string{n.Value}
	}
	var out []string
	for _, c := range d.list(n, what) {
		out = append(out, d.str(c, what+" item"))
	}
	return out
}

func (d *decoder) boolean(n *yaml.Node, what string) bool {
	n = resolve(n)
	if n == nil {
		return false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		return b
	}
	d.errorf(n, "%s must be true or false, got %s", what, kindName(n))
	return false
}

func (d *decoder) integer(n *yaml.Node, what string) int {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		i, err := strconv.Atoi(n.Value)
		if err == nil {
			return i
		}
	}
	d.errorf(n, "%s must be a whole number, got %s", what, kindName(n))
	return 0
}

// duration reads a duration written as Go writes one (200ms, 5s, 30m,
// 1h30m), or 0; ok is false when it is not one.
func (d *decoder) duration(n *yaml.Node, what string) (time.Duration, bool) {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		if n.Value == "0" {
			return 0, true
		}
		if v, err := time.ParseDuration(n.Value); err == nil && v >= 0 {
			return v, true
		}
	}
	d.errorf(n, "%s must be a duration such as 200ms, 5s or 30m, got %s", what, kindName(n))
	return 0, false
}

// value converts a node to plain Go values (string, bool, int, float64, []any, map[string]any).
func (d *decoder) value(n *yaml.Node) any {
	var v any
	if n == nil {
		return nil
	}
	if err := n.Decode(&v); err != nil {
		d.errorf(n, "%v", err)
		return nil
	}
	return normalize(v)
}

// normalize turns map[any]any (never produced by yaml.v3, but by callers) into map[string]any.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalize(x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = normalize(x)
		}
		return t
	}
	return v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parseYAML parses one file into its document node, reporting a syntax error with its line.
// A file holds one document: a second one (after ---) is an error rather
// than silently ignored.
func parseYAML(file string, data []byte, diags *diag.List) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		*diags = append(*diags, yamlSyntaxError(file, data, err))
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		diags.Errorf(diag.Pos{File: file, Line: next.Line, Col: next.Column}, "a second YAML document (after ---): a file here holds one; move it to a file of its own")
	} else if !errors.Is(err, io.EOF) {
		*diags = append(*diags, yamlSyntaxError(file, data, err))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

// yamlSyntaxError is the diagnostic of err, a syntax error in data, file's
// text. When the line it is placed on is indented with a tab, the tab is
// what to fix, whatever yaml.v3 calls it ("found character that cannot
// start any token", "found a tab character that violates indentation"):
// the error says so, at the tab.
func yamlSyntaxError(file string, data []byte, err error) diag.Diagnostic {
	pos := yamlErrPos(file, data, err)
	if pos.Line > 0 {
		lines := bytes.SplitAfter(data, []byte("\n"))
		if pos.Line <= len(lines) {
			line := lines[pos.Line-1]
			indent := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
			if i := bytes.IndexByte(indent, '\t'); i >= 0 {
				pos.Col = i + 1
				return diag.Diagnostic{Pos: pos, Severity: diag.Error, Msg: "invalid YAML: this line is indented with a tab, which YAML forbids: indent with spaces"}
			}
		}
	}
	msg := yamlErrMsg(err)
	if pos.Line > 0 {
		if lines := bytes.SplitAfter(data, []byte("\n")); pos.Line <= len(lines) {
			msg += yamlHint(msg, string(lines[pos.Line-1]))
		}
	}
	return diag.Diagnostic{Pos: pos, Severity: diag.Error, Msg: "invalid YAML: " + msg}
}

// yamlHint says what to do about yaml.v3's message msg, placed on line, for
// the mistakes of a file written by hand that it names least clearly: a
// line indented out of its level ("did not find expected key"), a value
// that goes on after its closing quote or bracket (the same message), a
// ": " inside a value not quoted ("mapping values are not allowed in this
// context"). "" for the others, whose message says enough.
func yamlHint(msg, line string) string {
	text := strings.TrimSpace(line)
	text = strings.TrimPrefix(text, "- ")
	key, value := "", ""
	if k, v, ok := strings.Cut(text, ": "); ok && !strings.ContainsAny(k, "\"'[{") {
		key, value = k, strings.TrimSpace(v)
	}
	switch msg {
	case "did not find expected key", "did not find expected '-' indicator":
		if rest := afterClosed(value); rest != "" && !strings.HasPrefix(rest, "#") {
			if i := strings.Index(rest, " #"); i >= 0 { // a comment
				value = strings.TrimSpace(value[:len(value)-len(rest)+i])
				rest = strings.TrimSpace(rest[:i])
			}
			return fmt.Sprintf(": the value of %s goes on after its closing %c (%q): quote all of it (%s: %s)", key, closer(value[0]), rest, key, quoteYAML(value))
		}
		return ": this line is not indented like the lines of its level above it (the keys of one mapping, and the items of one list, start in the same column)"
	case "mapping values are not allowed in this context":
		if value != "" && !strings.ContainsAny(value[:1], "\"'[{|>&*!") && strings.Contains(value, ": ") {
			return fmt.Sprintf(": the value of %s holds \": \", which starts a mapping unless the value is quoted (%s: %s)", key, key, quoteYAML(value))
		}
		return ": this line goes on a value begun above it; check the indentation of the lines above"
	}
	return ""
}

// quoteYAML is value as a quoted YAML text.
func quoteYAML(value string) string {
	if !strings.Contains(value, "'") || strings.ContainsAny(value, "\"\\") {
		return "'" + strings.ReplaceAll(value, "'", "''") + "'"
	}
	return `"` + value + `"`
}

// closer is the character that closes a value opened by c.
func closer(c byte) byte {
	switch c {
	case '[':
		return ']'
	case '{':
		return '}'
	}
	return c
}

// afterClosed is what follows, on its line, a value that opens with a
// quote or a bracket, once that closes; "" when it does not open so, or
// does not close on the line.
func afterClosed(value string) string {
	if value == "" || !strings.ContainsAny(value[:1], "\"'[{") {
		return ""
	}
	open, end := value[0], closer(value[0])
	depth := 0
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case open == '"' && i > 0 && c == '\\':
			i++
		case open == '\'' && i > 0 && c == '\'' && i+1 < len(value) && value[i+1] == '\'':
			i++
		case (open == '"' || open == '\'') && i > 0 && c == open:
			return strings.TrimSpace(value[i+1:])
		case (open == '[' || open == '{') && c == open:
			depth++
		case (open == '[' || open == '{') && c == end:
			if depth--; depth == 0 {
				return strings.TrimSpace(value[i+1:])
			}
		}
	}
	return ""
}

// yamlErrPos places a syntax error of data, file's text, at the line of
// the token the parser stumbled on. yaml.v3's message names the line where
// the enclosing block starts, not that token's (a mis-indented list item at
// line 133 is reported at line 1 or 130), and scanner errors are off by
// one line. A prefix of the text that ends with a whole line parses when
// the error is further on, so the first line whose prefix fails with the
// same message is the token's line, found by bisection. For the errors of
// a block whose offending token starts its line (a key or list item
// indented wrong, a tab) the column is that token's.
func yamlErrPos(file string, data []byte, err error) diag.Pos {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	want := yamlErrMsg(err)
	fails := func(k int) bool {
		perr := firstYAMLError(bytes.Join(lines[:k], nil))
		return perr != nil && yamlErrMsg(perr) == want
	}
	if len(lines) == 0 || !fails(len(lines)) {
		return yamlErrLine(file, err)
	}
	lo, hi := 0, len(lines) // the prefix of hi lines fails, that of lo does not
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	pos := diag.Pos{File: file, Line: hi}
	for _, m := range []string{"did not find expected key", "did not find expected '-' indicator", "found a tab character that violates indentation"} {
		if want == m {
			line := lines[hi-1]
			pos.Col = len(line) - len(bytes.TrimLeft(line, " ")) + 1
		}
	}
	return pos
}

// firstYAMLError is the first error in parsing every document of data.
func firstYAMLError(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// yamlErrLine digs the line out of yaml.v3's "yaml: line N: ..." messages.
func yamlErrLine(file string, err error) diag.Pos {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+5:]
		j := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if j > 0 {
			if line, e := strconv.Atoi(rest[:j]); e == nil {
				return diag.Pos{File: file, Line: line}
			}
		}
	}
	return diag.Pos{File: file}
}

func yamlErrMsg(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, "line "); i == 0 {
		if j := strings.Index(msg, ": "); j > 0 {
			msg = msg[j+2:]
		}
	}
	if strings.HasPrefix(msg, "unmarshal errors:") {
		msg = strings.TrimSpace(strings.TrimPrefix(msg, "unmarshal errors:"))
	}
	return msg
}
