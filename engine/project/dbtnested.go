package project

import (
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// dbtFolder is one level of dbt's nested folder config in project.yaml
// (models: {shop: {staging: {+materialized: view}}}): its folder path and
// its config, flattened as strata writes it.
type dbtFolder struct {
	path   string
	config *yaml.Node
}

// dbtNested reads the mapping n, under models: at key (or seeds: when key is
// ""), as dbt_project.yml nests it: a key that is no config key and holds a
// mapping is a folder (or the project's name, or a seed's name). It returns
// the levels that set config, with their flat path (the project's name
// dropped, + taken off the keys), or nil when n is not nested so.
//
// Aliases are followed within the bounds of vars (aliasBounds): one inside
// the value it names, met again and again, would never end, and lists of
// aliases of mappings multiply at each level. Beyond them, n is not said
// to be nested (the flat mapping to write instead would be as large): the
// decoder reports its keys.
func dbtNested(n *yaml.Node, key, project string, configKeys []string) []dbtFolder {
	b := &aliasBounds{}
	n = resolve(n)
	nested := false
	for _, kv := range merged(n) {
		if k := strings.TrimPrefix(kv[0].Value, "+"); !slices.Contains(configKeys, k) && looksLikeConfig(kv[1], configKeys, b) {
			nested = true
		}
	}
	if !nested {
		return nil
	}
	b = &aliasBounds{}
	var out []dbtFolder
	var walk func(n *yaml.Node, dir string)
	walk = func(n *yaml.Node, dir string) {
		n, pop, err := b.follow(n)
		if err != nil {
			return
		}
		defer pop()
		if b.count(1, n) != nil {
			return
		}
		config := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		var folders [][2]*yaml.Node
		for _, kv := range merged(n) {
			k, v := strings.TrimPrefix(kv[0].Value, "+"), resolve(kv[1])
			if slices.Contains(configKeys, k) || v == nil || v.Kind != yaml.MappingNode {
				config.Content = append(config.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, flow(kv[1], b))
			} else {
				folders = append(folders, [2]*yaml.Node{kv[0], kv[1]})
			}
		}
		if len(config.Content) > 0 {
			out = append(out, dbtFolder{path: dir, config: config})
		}
		for _, f := range folders {
			sub := path.Join(dir, f[0].Value)
			if dir == "" && f[0].Value == project {
				sub = ""
			}
			walk(f[1], sub)
		}
	}
	if key == "" {
		walk(n, "")
	} else {
		walk(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: key}, n}}, "")
	}
	if b.broken != nil {
		return nil // a flat mapping to write instead would be as large
	}
	return out
}

// dbtNestedModels is the error for the folder key of project.yaml's models:
// nested as in dbt_project.yml, with the flat mapping to write instead.
func dbtNestedModels(key string, nested []dbtFolder) string {
	flat := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for _, f := range nested {
		dir := f.path
		if dir == "" {
			dir = "."
		}
		flat.Content = append(flat.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: dir}, f.config)
	}
	return "models: " + key + " is nested as in dbt_project.yml; strata's folder defaults are one flat mapping per folder, its path relative to models/ (. for all), without the project's name and without + (docs/project.md#folder-defaults-models): write models: " + flowText(flat)
}

// dbtNestedSeeds is the error for project.yaml's seeds: nested as in
// dbt_project.yml: what applies to every seed goes under seeds:, a seed's
// own config in a YAML file under seeds/.
func dbtNestedSeeds(nested []dbtFolder) string {
	var all string
	own := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, f := range nested {
		if f.path == "" {
			all = "seeds: " + flowText(f.config) + " in project.yaml (config for every seed), and "
			continue
		}
		own.Content = append(own.Content, &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: "name"}, {Kind: yaml.ScalarNode, Value: path.Base(f.path)},
			{Kind: yaml.ScalarNode, Value: "config"}, f.config}})
	}
	msg := "seeds: is nested as in dbt_project.yml; strata's seeds: in project.yaml is one flat config for every seed, without + (docs/seeds-and-sources.md#seed-config): write "
	if len(own.Content) == 0 {
		return msg + strings.TrimSuffix(all, ", and ")
	}
	return msg + all + "each seed's own config in a YAML file under seeds/: seeds: " + flowText(own)
}

// looksLikeConfig says whether n is a mapping of config, as dbt nests it: a
// key with dbt's + or a config key, here or in a mapping below. A misspelled
// key holding a mapping (grantz: {select: [...]}) is not.
func looksLikeConfig(n *yaml.Node, configKeys []string, b *aliasBounds) bool {
	if n == nil {
		return false
	}
	n, pop, err := b.follow(n)
	if err != nil {
		return false
	}
	defer pop()
	if n.Kind != yaml.MappingNode || b.count(1, n) != nil {
		return false
	}
	for _, kv := range merged(n) {
		k := kv[0].Value
		if strings.HasPrefix(k, "+") || slices.Contains(configKeys, k) || looksLikeConfig(kv[1], configKeys, b) {
			return true
		}
	}
	return false
}

// merged is the key/value pairs of the mapping n with YAML's merge keys
// (<<: *base) expanded (mergeEntries), its own keys first; nothing when n
// is no mapping. It reports nothing: the decoder reports what is wrong
// with n.
func merged(n *yaml.Node) [][2]*yaml.Node {
	entries, _ := mergeEntries(n)
	return entries
}

// flow is a copy of n written in YAML's flow style, on one line; what is
// beyond b's bounds is written "...".
func flow(n *yaml.Node, b *aliasBounds) *yaml.Node {
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	n, pop, err := b.follow(n)
	if err != nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: "..."}
	}
	defer pop()
	if b.count(1, n) != nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: "..."}
	}
	c := *n
	c.Style = c.Style &^ (yaml.LiteralStyle | yaml.FoldedStyle)
	if c.Kind != yaml.ScalarNode {
		c.Style |= yaml.FlowStyle
	}
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	c.Content = nil
	for _, x := range n.Content {
		c.Content = append(c.Content, flow(x, b))
	}
	return &c
}

// flowText is n in YAML's flow style, on one line.
func flowText(n *yaml.Node) string {
	b, err := yaml.Marshal(n)
	if err != nil {
		return "..."
	}
	return strings.TrimSpace(string(b))
}
