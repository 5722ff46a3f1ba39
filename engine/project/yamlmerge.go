package project

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// YAML merge keys (<<: *defaults, <<: [*a, *b]) are expanded here, one way
// for all the project's YAML: the vars (VarReader), the mappings the
// decoder reads, and the check for dbt's nested folder config.

// aliasBounds follows YAML aliases and expands merge keys within
// MaxVarValues values and MaxVarDepth levels, counting across all it
// reads: aliases let a few lines stand for billions of values (an "alias
// bomb"), and an alias inside the value it names would never end. The zero
// value is ready to use, its errors naming the vars.
type aliasBounds struct {
	// what is what the bounds' errors name: "vars" when empty.
	what   string
	values int
	// aliases are the anchors being expanded, to tell a value that holds an
	// alias of itself.
	aliases []*yaml.Node
	// broken is the bound broken, after which nothing more is read.
	broken *VarLimitError
}

// mergeError is a << whose value is no mapping nor a list of them.
type mergeError struct {
	key *yaml.Node // the << key
	got string     // what it merges, as kindName says it
}

func (e *mergeError) Error() string {
	return "<< merges a mapping or a list of mappings, got " + e.got
}

// isMergeKey says whether k is YAML's merge key: << written plain ('<<' is
// a key like any other).
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Tag == "!!merge"
}

func (b *aliasBounds) name() string {
	if b.what == "" {
		return "vars"
	}
	return b.what
}

// limit notes that a bound is broken, at the node at.
func (b *aliasBounds) limit(at *yaml.Node, format string, args ...any) *VarLimitError {
	if b.broken == nil {
		b.broken = &VarLimitError{Msg: fmt.Sprintf(format, args...), at: at}
	}
	return b.broken
}

// count counts n more values read at the node at.
func (b *aliasBounds) count(n int, at *yaml.Node) error {
	if b.broken != nil {
		return b.broken
	}
	b.values += n
	if b.values > MaxVarValues {
		return b.limit(at, "%s expand to more than %d values through YAML aliases (expected at most %d: an alias repeated in lists of aliases multiplies at each level)", b.name(), MaxVarValues, MaxVarValues)
	}
	return nil
}

// deep is the error for a value read depth levels down at the node at, or nil.
func (b *aliasBounds) deep(depth int, at *yaml.Node) error {
	if b.broken != nil {
		return b.broken
	}
	if depth > MaxVarDepth {
		return b.limit(at, "%s nest more than %d levels deep (line %d; expected at most %d)", b.name(), MaxVarDepth, at.Line, MaxVarDepth)
	}
	return nil
}

// follow resolves the aliases of n, noting each as being expanded until
// pop is called; an alias inside the value it names is an error.
func (b *aliasBounds) follow(n *yaml.Node) (*yaml.Node, func(), error) {
	pushed := 0
	pop := func() { b.aliases = b.aliases[:len(b.aliases)-pushed] }
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		for _, a := range b.aliases {
			if a == n.Alias {
				pop()
				return nil, nil, b.limit(n, "alias *%s (line %d) is inside the value it names, which would never end", n.Value, n.Line)
			}
		}
		b.aliases = append(b.aliases, n.Alias)
		pushed++
		n = n.Alias
	}
	return n, pop, nil
}

// entries lists the key and value nodes of the mapping n, depth levels
// down, with its merge keys expanded as YAML 1.1 and yaml.v3 expand them:
// n's own keys first, in file order (a key written twice is listed twice,
// for the caller to report in its words), then each merged key that is not
// among them, the mappings of a list (<<: [*a, *b]) and of several << in
// file order, the first one's key winning. A merged mapping's own merge
// keys are expanded the same way; merged keys keep their positions.
//
// check, when not nil, is called on n and on each mapping merged into it
// before their keys are taken (the vars' keys have rules of their own).
// A << that merges no mapping is a *mergeError and merges nothing; the
// other problems are all listed too. A bound broken is a *VarLimitError
// that ends the reading, placed at the outermost << of those it was found
// under: the entries listed by then are returned with it.
func (b *aliasBounds) entries(n *yaml.Node, depth int, check func(*yaml.Node) error) ([][2]*yaml.Node, []error) {
	var own, merged [][2]*yaml.Node
	var errs []error
	if check != nil {
		if err := check(n); err != nil {
			errs = append(errs, err)
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !isMergeKey(k) {
			own = append(own, [2]*yaml.Node{k, v})
			continue
		}
		if b.broken == nil {
			m, e := b.merged(k, v, depth, check)
			merged = append(merged, m...)
			errs = append(errs, e...)
			if b.broken != nil {
				b.broken.at = k // said at the outermost <<: the one the reader reads
			}
		}
	}
	if len(merged) == 0 {
		return own, errs
	}
	have := make(map[string]bool, len(own)+len(merged))
	for _, kv := range own {
		have[kv[0].Value] = true
	}
	for _, kv := range merged {
		if !have[kv[0].Value] {
			have[kv[0].Value] = true
			own = append(own, kv)
		}
	}
	return own, errs
}

// merged is what the merge key k brings in with its value v: the entries
// of a mapping, or of each mapping of a list.
func (b *aliasBounds) merged(k, v *yaml.Node, depth int, check func(*yaml.Node) error) ([][2]*yaml.Node, []error) {
	if err := b.deep(depth, k); err != nil {
		return nil, []error{err}
	}
	src, pop, err := b.follow(v)
	if err != nil {
		return nil, []error{err}
	}
	defer pop()
	srcs := []*yaml.Node{src}
	if src.Kind == yaml.SequenceNode {
		srcs = src.Content
	}
	var out [][2]*yaml.Node
	var errs []error
	for _, s := range srcs {
		if b.broken != nil {
			break
		}
		e, es := b.mergedMapping(k, s, depth, check)
		out = append(out, e...)
		errs = append(errs, es...)
	}
	return out, errs
}

// mergedMapping is the entries of s, one mapping that k merges.
func (b *aliasBounds) mergedMapping(k, s *yaml.Node, depth int, check func(*yaml.Node) error) ([][2]*yaml.Node, []error) {
	s, pop, err := b.follow(s)
	if err != nil {
		return nil, []error{err}
	}
	defer pop()
	if s.Kind != yaml.MappingNode {
		return nil, []error{&mergeError{key: k, got: kindName(s)}}
	}
	// Each merge counts its keys against the bound: merges of merges of
	// lists of aliases multiply as lists of them do.
	if err := b.count(len(s.Content)/2, k); err != nil {
		return nil, []error{err}
	}
	return b.entries(s, depth+1, check)
}

// mergeEntries is the entries of the mapping n with its merge keys
// expanded (aliasBounds.entries), within bounds of its own; n is followed
// when an alias, and has no entries when it is no mapping.
func mergeEntries(n *yaml.Node) ([][2]*yaml.Node, []error) {
	if n == nil {
		return nil, nil
	}
	b := aliasBounds{what: "merge keys (<<)"}
	n, pop, err := b.follow(n)
	if err != nil {
		return nil, []error{err}
	}
	defer pop()
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	return b.entries(n, 0, nil)
}
