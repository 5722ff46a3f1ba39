package template

import "text/template/parse"

// DataFields returns the names macro name reads from its data (its dot), as
// .x, $.x or index . "x", in itself and in the macros it includes with the
// same dot. A custom generic test uses it to tell an argument the macro
// never reads, almost surely a typo, from one it does.
//
// known is false when the answer cannot be trusted: the macro is not
// defined, or it uses its data whole (range over it, pass it to a function,
// assign it to a variable), so any name might be read.
func (s *Set) DataFields(name string) (fields map[string]bool, known bool) {
	m := s.base.Lookup(name)
	if m == nil || m.Tree == nil {
		return nil, false
	}
	w := &fieldWalker{set: s, fields: map[string]bool{}, seen: map[string]bool{name: true}}
	w.node(m.Tree.Root, true)
	if w.opaque {
		return nil, false
	}
	return w.fields, true
}

// fieldWalker collects field names over every branch of a parse tree. root
// tells whether dot is still the macro's data: inside range and with it is
// something else, whose fields are not the macro's arguments.
type fieldWalker struct {
	set    *Set
	fields map[string]bool
	seen   map[string]bool // macros already walked
	opaque bool
}

func (w *fieldWalker) node(n parse.Node, root bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			w.node(c, root)
		}
	case *parse.ActionNode:
		w.pipe(n.Pipe, root)
	case *parse.IfNode:
		w.pipe(n.Pipe, root)
		w.node(n.List, root)
		w.node(n.ElseList, root)
	case *parse.RangeNode:
		w.pipe(n.Pipe, root)
		w.node(n.List, false)
		w.node(n.ElseList, root)
	case *parse.WithNode:
		w.pipe(n.Pipe, root)
		w.node(n.List, false)
		w.node(n.ElseList, root)
	case *parse.TemplateNode:
		if root && isDotPipe(n.Pipe) {
			w.macro(n.Name)
			return
		}
		w.pipe(n.Pipe, root)
	}
}

func (w *fieldWalker) pipe(p *parse.PipeNode, root bool) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		w.command(c, root)
	}
}

func (w *fieldWalker) command(c *parse.CommandNode, root bool) {
	args := c.Args
	if id, ok := first(args).(*parse.IdentifierNode); ok && root && len(args) >= 3 {
		switch {
		case id.Ident == "include" && len(args) == 3 && isString(args[1]) && isDot(args[2]):
			// include "m" . hands the data on: what m reads counts.
			w.macro(args[1].(*parse.StringNode).Text)
			return
		case id.Ident == "index" && isDot(args[1]) && isString(args[2]):
			w.fields[args[2].(*parse.StringNode).Text] = true
			args = args[3:] // further keys index the value, not the data
		}
	}
	for _, a := range args {
		w.arg(a, root)
	}
}

func (w *fieldWalker) arg(a parse.Node, root bool) {
	switch a := a.(type) {
	case *parse.FieldNode:
		if root {
			w.fields[a.Ident[0]] = true
		}
	case *parse.VariableNode:
		// $ is the data the macro was included with, whatever dot is now.
		if a.Ident[0] == "$" {
			if len(a.Ident) == 1 {
				w.opaque = true
				return
			}
			w.fields[a.Ident[1]] = true
		}
	case *parse.DotNode:
		if root {
			w.opaque = true
		}
	case *parse.ChainNode:
		w.arg(a.Node, root)
	case *parse.PipeNode:
		w.pipe(a, root)
	}
}

// macro walks a macro that gets the same data.
func (w *fieldWalker) macro(name string) {
	if w.seen[name] {
		return
	}
	w.seen[name] = true
	m := w.set.base.Lookup(name)
	if m == nil || m.Tree == nil {
		w.opaque = true
		return
	}
	w.node(m.Tree.Root, true)
}

func isDotPipe(p *parse.PipeNode) bool {
	return p != nil && len(p.Cmds) == 1 && len(p.Decl) == 0 && len(p.Cmds[0].Args) == 1 && isDot(p.Cmds[0].Args[0])
}

func isDot(n parse.Node) bool {
	_, ok := n.(*parse.DotNode)
	return ok
}

func isString(n parse.Node) bool {
	_, ok := n.(*parse.StringNode)
	return ok
}

func first(args []parse.Node) parse.Node {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}
