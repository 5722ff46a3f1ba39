package template

import (
	"sort"
	"strings"
	"sync"
	"text/template/parse"

	"strata/engine/diag"
)

// A SourceMap says where each byte of a render's output came from, so that
// a position the database reports in the rendered SQL can be placed in the
// user's file: text copied from the template maps to the very character it
// was copied from; what an action printed (a ref, a var) maps to the
// action; what an include printed maps to the include and, inside it, to
// the macro's own text.
//
// It works without changing text/template: the executor writes a text
// node's bytes with one Write of the node's own slice, so the first byte's
// address names the node. Recording costs one append per write; the nodes
// are looked up only when a position is asked for.
type SourceMap struct {
	t *Template
	// file is the file whose actions printed what no text node wrote: the
	// template's own file, or for an include's output the macro's file.
	file string
	segs []segment
	size int
}

// segment is one Write of the executor.
type segment struct {
	out, n int
	// text is the address of the first byte written, which is a text
	// node's when the bytes were copied from the template.
	text *byte
	// sub is the map of an include's output, when the write was that output.
	sub *SourceMap
}

// recorder is the writer a mapped render executes into.
type recorder struct {
	b strings.Builder
	m *SourceMap
	r *renderer
}

func (w *recorder) Write(p []byte) (int, error) {
	s := segment{out: w.b.Len(), n: len(p)}
	if len(p) > 0 {
		s.text = &p[0]
	}
	// An include's output is printed by the action that called it in one
	// write of the same bytes; any other write in between means the output
	// was piped through something else, and only the action is known.
	if inc := w.r.included; inc != nil {
		w.r.included = nil
		if inc.text == string(p) {
			s.sub, s.text = inc.m, nil
		}
	}
	w.m.segs = append(w.m.segs, s)
	w.m.size += len(p)
	return w.b.Write(p)
}

// pendingInclude is an include's output and its map, waiting for the write
// that prints it.
type pendingInclude struct {
	text string
	m    *SourceMap
}

// textLoc is where a text node is: its file and its byte offset there.
type textLoc struct {
	file string
	pos  int
}

// textIndex finds the text nodes of a set of trees by the address of
// their first byte.
type textIndex map[*byte]textLoc

func (ix textIndex) add(file string, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			ix.add(file, c)
		}
	case *parse.TextNode:
		if len(n.Text) > 0 {
			ix[&n.Text[0]] = textLoc{file: file, pos: int(n.Pos)}
		}
	case *parse.IfNode:
		ix.add(file, n.List)
		ix.add(file, n.ElseList)
	case *parse.RangeNode:
		ix.add(file, n.List)
		ix.add(file, n.ElseList)
	case *parse.WithNode:
		ix.add(file, n.List)
		ix.add(file, n.ElseList)
	}
}

// index is the set's text nodes: every macro's.
func (s *Set) index() textIndex {
	s.indexOnce.Do(func() {
		s.textIx = textIndex{}
		for _, m := range s.base.Templates() {
			if m.Tree != nil && s.files[m.Name()] != "" {
				s.textIx.add(s.files[m.Name()], m.Tree.Root)
			}
		}
	})
	return s.textIx
}

// index is the template's own text nodes: its file's and its {{ define }} blocks'.
func (t *Template) index() textIndex {
	t.indexOnce.Do(func() {
		t.textIx = textIndex{}
		for _, tr := range t.trees {
			t.textIx.add(t.Path, tr.Root)
		}
	})
	return t.textIx
}

func (t *Template) lookupText(p *byte) (textLoc, bool) {
	if p == nil {
		return textLoc{}, false
	}
	if l, ok := t.index()[p]; ok {
		return l, true
	}
	l, ok := t.set.index()[p]
	return l, ok
}

// indexState is embedded where an index is built lazily, once.
type indexState struct {
	indexOnce sync.Once
	textIx    textIndex
}

// Len is the length of the output the map describes.
func (m *SourceMap) Len() int {
	if m == nil {
		return 0
	}
	return m.size
}

// Trace says where the output byte at off came from, outermost first: the
// place in the template's own file, then, when it was printed by an include,
// the place in the macro (and so on for nested includes). The last position
// is the most precise. An offset at or past the end is placed at the last
// byte. Nil when nothing is known.
func (m *SourceMap) Trace(off int) []diag.Pos {
	if m == nil || len(m.segs) == 0 {
		return nil
	}
	if off >= m.size {
		off = m.size - 1
	}
	if off < 0 {
		off = 0
	}
	i := sort.Search(len(m.segs), func(i int) bool { return m.segs[i].out+m.segs[i].n > off })
	if i == len(m.segs) {
		i = len(m.segs) - 1
	}
	s := m.segs[i]
	if l, ok := m.t.lookupText(s.text); ok {
		return []diag.Pos{m.t.placeOffset(l.file, l.pos+off-s.out)}
	}
	at := m.actionAt(i)
	if s.sub != nil {
		return append([]diag.Pos{at}, s.sub.Trace(off-s.out)...)
	}
	return []diag.Pos{at}
}

// actionAt places the action that printed segment i: the first "{{" after
// the text written last before it, in that text's file, or the first of
// the map's file.
func (m *SourceMap) actionAt(i int) diag.Pos {
	file, from := m.file, 0
	for j := i - 1; j >= 0; j-- {
		if l, ok := m.t.lookupText(m.segs[j].text); ok {
			file, from = l.file, l.pos+m.segs[j].n
			break
		}
	}
	text, _ := m.t.source(file)
	if from > len(text) {
		from = len(text)
	}
	if k := strings.Index(text[from:], "{{"); k >= 0 {
		from += k
	}
	return m.t.placeOffset(file, from)
}

// placeOffset places the byte at off of a template file's text in the file.
func (t *Template) placeOffset(file string, off int) diag.Pos {
	text, at := t.source(file)
	if off > len(text) {
		off = len(text)
	}
	before := text[:off]
	line := 1 + strings.Count(before, "\n")
	byteCol := off - (strings.LastIndexByte(before, '\n') + 1)
	return at.Place(file, text, line, byteCol)
}
