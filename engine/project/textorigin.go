package project

import (
	"strings"
	"unicode/utf8"

	"strata/engine/diag"

	"gopkg.in/yaml.v3"
)

// textOrigin returns where the text of the YAML scalar n starts in the file
// whose lines are given, so that an error in a template held by the scalar
// (a hook, a target setting) points into the file. When the scalar's text is
// not a verbatim copy of the file (folded, escaped, spread over lines), every
// position in it is placed at the scalar itself.
func textOrigin(lines []string, n *yaml.Node) diag.Origin {
	fixed := diag.Origin{Line: n.Line, Col: n.Column, Fixed: true}
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		return blockOrigin(lines, n, fixed)
	case n.Line < 1 || n.Line > len(lines):
		return fixed
	case n.Style&yaml.FoldedStyle != 0:
		return foldedOrigin(lines, n, fixed)
	case strings.Contains(n.Value, "\n"):
		return fixed
	}
	col := n.Column
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		col++ // past the opening quote
	}
	raw := []rune(lines[n.Line-1]) // YAML columns count characters
	if col < 1 || col-1 > len(raw) {
		return fixed
	}
	if !strings.HasPrefix(string(raw[col-1:]), n.Value) {
		if n.Style == 0 || n.Style == yaml.FlowStyle {
			return foldedOrigin(lines, n, fixed) // a plain text over lines
		}
		return fixed
	}
	return diag.Origin{Line: n.Line, Col: col}
}

// blockOrigin is textOrigin for a literal block scalar ("|"): its text starts
// on the line after the indicator, each line after the block's indentation.
func blockOrigin(lines []string, n *yaml.Node, fixed diag.Origin) diag.Origin {
	indent := -1
	for i, text := range strings.Split(strings.TrimRight(n.Value, "\n"), "\n") {
		line := n.Line + 1 + i
		if line > len(lines) {
			return fixed
		}
		raw := lines[line-1]
		if text == "" {
			continue
		}
		if indent < 0 {
			indent = len(raw) - len(strings.TrimLeft(raw, " "))
		}
		if indent > len(raw) || raw[indent:] != text {
			return fixed // an explicit indentation indicator, or tabs: do not guess
		}
	}
	if indent < 0 {
		return fixed
	}
	return diag.Origin{Line: n.Line + 1, Col: indent + 1, Indent: indent}
}

// fileLines splits a file into lines without their line breaks.
func fileLines(data []byte) []string {
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// foldedOrigin is textOrigin for a text YAML folded from several lines of
// the file: a folded block scalar (">", ">-"), whose lines start on the line
// after the indicator, after the block's indentation, or a plain scalar
// written over lines, which starts at the node. Each line's content is found
// in the value in order, past the spaces and line breaks the folding left
// between them; where one is not, the text is not placed (fixed).
func foldedOrigin(lines []string, n *yaml.Node, fixed diag.Origin) diag.Origin {
	value := n.Value
	block := n.Style&yaml.FoldedStyle != 0
	first, indent := n.Line, -1
	if block {
		first = n.Line + 1
	}
	var pieces []diag.Piece
	p := 0
	for line := first; line <= len(lines) && p < len(value); line++ {
		raw := lines[line-1]
		start := 0
		switch {
		case !block && line == n.Line:
			start = len(string([]rune(raw)[:min(n.Column-1, len([]rune(raw)))]))
		case !block:
			start = len(raw) - len(strings.TrimLeft(raw, " \t"))
		case strings.TrimSpace(raw) == "":
			continue
		default:
			if indent < 0 {
				indent = len(raw) - len(strings.TrimLeft(raw, " "))
			}
			if len(raw) < indent || strings.TrimSpace(raw[:indent]) != "" {
				break // the block ends at a line less indented
			}
			start = indent
		}
		content := raw[start:]
		if !block {
			content = strings.TrimRight(content, " \t")
		}
		if content == "" {
			continue
		}
		q := p
		for ; q < len(value) && !strings.HasPrefix(value[q:], content) && !strings.HasPrefix(content, value[q:]); q++ {
			if value[q] != ' ' && value[q] != '\n' {
				return fixed
			}
		}
		if q >= len(value) {
			break
		}
		pieces = append(pieces, diag.Piece{Off: q, Line: line, Col: utf8.RuneCountInString(raw[:start]) + 1})
		p = min(q+len(content), len(value))
	}
	if len(pieces) == 0 || p < len(strings.TrimRight(value, "\n ")) {
		return fixed
	}
	return diag.Origin{Line: pieces[0].Line, Col: pieces[0].Col, Pieces: pieces}
}
