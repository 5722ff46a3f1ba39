package project

import (
	"strings"

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
	case n.Style&yaml.FoldedStyle != 0, strings.Contains(n.Value, "\n"), n.Line < 1, n.Line > len(lines):
		return fixed
	}
	col := n.Column
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		col++ // past the opening quote
	}
	raw := []rune(lines[n.Line-1]) // YAML columns count characters
	if col < 1 || col-1 > len(raw) || !strings.HasPrefix(string(raw[col-1:]), n.Value) {
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
