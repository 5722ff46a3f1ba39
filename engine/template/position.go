package template

import (
	"regexp"
	"strings"
	"text/template/parse"

	"strata/engine/diag"
)

// offsetOf is the byte offset in text of byte byteCol (from 0) of line
// (from 1), or -1 when text has no such place.
func offsetOf(text string, line, byteCol int) int {
	if line < 1 || byteCol < 0 {
		return -1
	}
	off := 0
	for i := 1; i < line; i++ {
		j := strings.IndexByte(text[off:], '\n')
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	if off+byteCol > len(text) {
		return -1
	}
	return off + byteCol
}

var (
	quotedRe  = regexp.MustCompile(`"([^"]+)"`)
	keywordRe = regexp.MustCompile(`(?:for |\{\{)(\w+)\}?\}?$`)
)

// parseErrCol finds the action a text/template parse error is about, since
// the parser reports only a line: the action on that line holding the token
// the message quotes (a function name, a keyword), else the line's first
// action. It returns the byte offset of the action's "{{" in the line, or -1.
func parseErrCol(text string, line int, msg string) int {
	s := diag.LineOf(text, line)
	needle := ""
	if m := quotedRe.FindStringSubmatch(msg); m != nil {
		needle = m[1]
	} else if m := keywordRe.FindStringSubmatch(msg); m != nil {
		needle = m[1]
	}
	first := -1
	for off := 0; ; {
		i := strings.Index(s[off:], "{{")
		if i < 0 {
			break
		}
		start := off + i
		end := len(s)
		if j := strings.Index(s[start+2:], "}}"); j >= 0 {
			end = start + 2 + j
		}
		if first < 0 {
			first = start
		}
		if needle != "" && holds(s[start+2:end], needle) {
			return start
		}
		off = end
	}
	return first
}

var (
	wordRe       = regexp.MustCompile(`^\w+$`)
	actionTextRe = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`")
)

// holds reports whether action, the text between "{{" and "}}", holds
// needle: a name (a function's) as a word outside the action's quoted texts,
// so that {{ define "uses_now" }} is not taken for the {{ now }} after it;
// anything else anywhere.
func holds(action, needle string) bool {
	if !wordRe.MatchString(needle) {
		return strings.Contains(action, needle)
	}
	bare := actionTextRe.ReplaceAllStringFunc(action, func(q string) string { return strings.Repeat(" ", len(q)) })
	return regexp.MustCompile(`(^|[^\w.$])` + regexp.QuoteMeta(needle) + `\b`).MatchString(bare)
}

// unclosedRe matches text/template's "unclosed action", which names the line
// the action started on ("started at <file>:<line>") when it is not the
// line where the file ended: the start is where the user has to look.
var unclosedRe = regexp.MustCompile(`^unclosed action(?: started at .*:(\d+))?$`)

// unclosedCol returns the byte offset in line of the "{{" that the last "}}"
// of the line does not close, or -1.
func unclosedCol(text string, line int) int {
	s := diag.LineOf(text, line)
	from := strings.LastIndex(s, "}}") + 1 // 0 when there is none
	if i := strings.Index(s[from:], "{{"); i >= 0 {
		return from + i
	}
	return -1
}

// unclosedBlock finds the {{ if }}, {{ range }}, {{ with }}, {{ define }} or
// {{ block }} that text leaves open, where text/template only says that the
// file ended ("unexpected EOF"), at a line past the last. The text is parsed
// again with one {{ end }} after the other added at its end until it parses:
// the innermost block the added ones close is the one to point at. It
// returns the line and byte column of that block's "{{" and its keyword;
// ok is false when no such block is found.
func unclosedBlock(text string) (line, byteCol int, keyword string, ok bool) {
	const most = 20 // blocks left open at once; more is not worth the parses
	for k := 1; k <= most; k++ {
		t := parse.New("unclosed")
		t.Mode = parse.SkipFuncCheck
		trees := map[string]*parse.Tree{}
		if _, err := t.Parse(text+strings.Repeat("{{end}}", k), "{{", "}}", trees); err != nil {
			if strings.Contains(err.Error(), "unexpected EOF") {
				continue
			}
			return 0, 0, "", false
		}
		// The outermost open block is the last node of the file's own
		// tree or the last {{ define }} of the file, whichever is later;
		// each next one is the last node of the one before.
		off, keyword := -1, ""
		var node parse.Node
		if root := trees["unclosed"]; root != nil && root.Root != nil && len(root.Root.Nodes) > 0 {
			node = root.Root.Nodes[len(root.Root.Nodes)-1]
		}
		for name, tr := range trees {
			if name == "unclosed" || tr.Root == nil {
				continue
			}
			if p := int(tr.Root.Pos); p <= len(text) && p > off && (node == nil || p > int(node.Position())) {
				off, keyword = p, "define"
			}
		}
		depth := k
		if keyword == "define" {
			depth--
			node = nil
			if tr := lastDefine(trees, off); tr != nil && len(tr.Root.Nodes) > 0 {
				node = tr.Root.Nodes[len(tr.Root.Nodes)-1]
			}
		}
		for ; depth > 0 && node != nil; depth-- {
			var list, elseList *parse.ListNode
			kw := ""
			switch n := node.(type) {
			case *parse.IfNode:
				list, elseList, kw = n.List, n.ElseList, "if"
			case *parse.RangeNode:
				list, elseList, kw = n.List, n.ElseList, "range"
			case *parse.WithNode:
				list, elseList, kw = n.List, n.ElseList, "with"
			default:
				depth = 0
				continue
			}
			if p := int(node.Position()); p < len(text) {
				start := max(strings.LastIndex(text[:p], "{{"), 0)
				if strings.HasPrefix(strings.TrimLeft(strings.TrimPrefix(text[start:], "{{"), " \t\r\n-"), "else") {
					depth++ // an {{ else if }}: the same block as the if before it
				} else {
					off, keyword = p, kw
				}
			}
			l := list
			if elseList != nil {
				l = elseList
			}
			node = nil
			if l != nil && len(l.Nodes) > 0 {
				node = l.Nodes[len(l.Nodes)-1]
			}
		}
		if off < 0 {
			return 0, 0, "", false
		}
		start := strings.LastIndex(text[:off], "{{")
		if start < 0 {
			return 0, 0, "", false
		}
		line = 1 + strings.Count(text[:start], "\n")
		return line, start - (strings.LastIndex(text[:start], "\n") + 1), keyword, true
	}
	return 0, 0, "", false
}

// lastDefine is the tree of trees whose body starts at off.
func lastDefine(trees map[string]*parse.Tree, off int) *parse.Tree {
	for name, tr := range trees {
		if name != "unclosed" && tr.Root != nil && int(tr.Root.Pos) == off {
			return tr
		}
	}
	return nil
}
