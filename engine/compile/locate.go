package compile

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/template"
)

// piece is a part of a node's compiled SQL: out and n are where it is in
// the SQL; m, when not nil, is the source map of the render it was taken
// from, at offset from of that render's output. Text strata wrote (the
// CTE heads of ephemeral models) has no map.
type piece struct {
	out, n int
	m      *template.SourceMap
	from   int
}

// mapped builds a node's SQL from pieces.
type mapped struct {
	b      strings.Builder
	pieces []piece
}

func (w *mapped) add(s string, m *template.SourceMap, from int) {
	if s == "" {
		return
	}
	w.pieces = append(w.pieces, piece{out: w.b.Len(), n: len(s), m: m, from: from})
	w.b.WriteString(s)
}

func (w *mapped) result() Result { return Result{SQL: w.b.String(), pieces: w.pieces} }

// Locate says where the byte at off of the compiled SQL came from,
// outermost first: a place in the model's (or an inlined ephemeral
// model's, or a singular test's, or a hook's) own file, then, for a
// macro's output, in the macro. A generic test starts at its declaration.
// Nil when nothing is known (text strata wrote).
func (r Result) Locate(off int) []diag.Pos {
	if off >= len(r.SQL) {
		off = len(r.SQL) - 1
	}
	if off < 0 {
		off = 0
	}
	var out []diag.Pos
	if r.at.File != "" {
		out = append(out, r.at)
	}
	i := sort.Search(len(r.pieces), func(i int) bool { return r.pieces[i].out+r.pieces[i].n > off })
	if i == len(r.pieces) || r.pieces[i].m == nil {
		return out
	}
	p := r.pieces[i]
	trace := p.m.Trace(p.from + off - p.out)
	if r.at.File != "" && len(trace) > 0 {
		// A custom generic test renders an include of its macro from a
		// text of strata's: its first place is that text, not the user's.
		trace = trace[1:]
	}
	return append(out, trace...)
}

// Positioned is a database error that knows at which character of the
// node's SQL the server placed it (postgres.Error): the character offset
// from the start of the SQL, false when the server gave no position or it
// is outside the SQL.
type Positioned interface {
	error
	Offset() (int, bool)
}

// Placed is a database error placed in the user's files: it reads as its
// diagnostic, is one for diag.List.Add and errors.As, and unwraps to the
// database's error, so that callers still branch on its SQLSTATE (a retry
// of a transient error, a view rebuilt when its columns changed).
type Placed struct {
	Diag diag.Diagnostic
	Err  error
}

func (p *Placed) Error() string { return p.Diag.Error() }
func (p *Placed) Unwrap() error { return p.Err }

// As makes a Placed a diag.Diagnostic for errors.As.
func (p *Placed) As(target any) bool {
	if d, ok := target.(*diag.Diagnostic); ok {
		*d = p.Diag
		return true
	}
	return false
}

// SQLError places err, a database error in node n's SQL as r compiled it,
// in n's own files: "models/x.sql:LINE:COL: message (at line L of
// target/compiled/models/x.sql)", with the macro's place when the error
// is in a macro's output. It is the one way a database error in a
// model's, test's or hook's SQL is reported, by run and check alike. An
// error without a position keeps its message, placed at the node.
func (r Result) SQLError(n *manifest.Node, err error) *Placed {
	return &Placed{Diag: r.sqlDiag(n, err), Err: err}
}

func (r Result) sqlDiag(n *manifest.Node, err error) diag.Diagnostic {
	var pe Positioned
	at := n.Pos
	if r.at.File != "" {
		at = r.at
	}
	// Without a position from the server (a division by zero, a cast that
	// fails on a row) the error is the node's as a whole: its file alone,
	// not the file's first character, which reads as a place in it. A
	// node declared at a line (a test in YAML) keeps that line.
	if at.Line <= 1 && at.Col <= 1 {
		at = diag.Pos{File: at.File}
	}
	if !errors.As(err, &pe) {
		return diag.Diagnostic{Pos: at, Msg: err.Error()}
	}
	off, ok := pe.Offset()
	if !ok {
		return diag.Diagnostic{Pos: at, Msg: pe.Error()}
	}
	b := byteOffset(r.SQL, off)
	trace := r.Locate(b)
	var hints []string
	pos := at
	if len(trace) > 0 {
		pos = trace[0]
	}
	if len(trace) > 1 {
		hints = append(hints, "in "+trace[len(trace)-1].String())
	}
	line := 1 + strings.Count(r.SQL[:min(b, len(r.SQL))], "\n")
	if path, err := Path(filepath.Join("target", "compiled"), n); err == nil && n.Kind != manifest.Exposure {
		hints = append(hints, fmt.Sprintf("at line %d of %s", line, filepath.ToSlash(path)))
	}
	msg := pe.Error()
	if len(hints) > 0 {
		msg += " (" + strings.Join(hints, "; ") + ")"
	}
	return diag.Diagnostic{Pos: pos, Msg: msg}
}

// HookError places err, a database error in a hook's SQL as r rendered
// it, in the file the hook is written in (project.yaml), with the macro's
// place when the error is in a macro's output.
func (r Result) HookError(err error) (diag.Pos, string, bool) {
	var pe Positioned
	if !errors.As(err, &pe) {
		return diag.Pos{}, err.Error(), false
	}
	off, ok := pe.Offset()
	if !ok {
		return diag.Pos{}, pe.Error(), false
	}
	trace := r.Locate(byteOffset(r.SQL, off))
	if len(trace) == 0 {
		return diag.Pos{}, pe.Error(), false
	}
	msg := pe.Error()
	if len(trace) > 1 {
		msg += " (in " + trace[len(trace)-1].String() + ")"
	}
	return trace[0], msg, true
}

// byteOffset is the byte offset in s of its character at index chars
// (PostgreSQL counts characters).
func byteOffset(s string, chars int) int {
	i := 0
	for b := range s {
		if i == chars {
			return b
		}
		i++
	}
	return len(s)
}
