package project

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"strata/engine/datatest"
	"strata/engine/diag"
)

type docIndex struct {
	models    map[string]*Model
	seeds     map[string]*Seed
	sources   map[string]*Source
	exposures map[string]*Exposure
	docPath   map[string]string // "model:x" -> where its YAML entry is
}

var docFileKeys = []string{"version", "models", "seeds", "sources", "exposures", "unit_tests"}
var modelDocKeys = []string{"name", "description", "config", "columns", "tests", "data_tests"}
var columnKeys = []string{"name", "description", "data_type", "tests", "data_tests"}
var sourceKeys = []string{"name", "schema", "description", "tables", "loaded_at_field", "freshness"}
var sourceTableKeys = []string{"name", "identifier", "description", "loaded_at_field", "freshness", "columns", "tests", "data_tests"}
var exposureKeys = []string{"name", "type", "label", "description", "owner", "maturity", "url", "depends_on", "charts"}

// exposureMaturities are dbt's values of an exposure's maturity:.
var exposureMaturities = []string{"high", "medium", "low"}

// exposureNameRe is dbt's rule for exposure names: the name is part of an id
// and of a selector (exposure:name).
var exposureNameRe = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

var chartKeys = []string{"title", "type", "model", "query", "x", "y", "value", "fields", "sort", "limit"}

// named returns an entry's name field. An entry without one is reported
// (unless it is not a mapping at all, which was reported already).
func (d *decoder) named(f map[string]field, item *yaml.Node, format string, args ...any) (field, bool) {
	nf, ok := f["name"]
	if !ok && item.Kind == yaml.MappingNode {
		d.errorf(item, format, args...)
	}
	return nf, ok
}

// resourceDoc is a models: or seeds: entry of a YAML file, decoded but not
// yet attached to its model or seed. Decoding is most of the work of reading
// a project's YAML and needs nothing but the entry, so decodeDocFile
// runs on every core; attaching (the name looked up, a second entry for the
// same name refused) is done in file order by readDocFile.
type resourceDoc struct {
	kind     string
	nameNode *yaml.Node // nil: the entry has no name (reported in head)
	name     string
	doc      *Doc
	// head are the problems of the entry itself, always reported; body those
	// of its description, config, columns and tests, reported only when the
	// entry is attached.
	head, body diag.List
}

// docFile is a YAML file of models/ or seeds/ as decodeDocFile left it:
// its keys, the problems with them and its models: and seeds: sections, and
// those sections' entries decoded.
type docFile struct {
	file      string
	lines     []string // the file's lines, to place text inside its scalars
	fields    map[string]field
	diags     diag.List
	resources []*resourceDoc
}

// decodeDocFile decodes the part of a YAML file that needs nothing but the
// file: its keys and its models: and seeds: entries, in order.
func decodeDocFile(file string, root *yaml.Node, lines []string) *docFile {
	df := &docFile{file: file, lines: lines}
	if root == nil {
		return df
	}
	d := &decoder{file: file, diags: &df.diags}
	df.fields = d.mapping(root, file, docFileKeys...)
	for _, kind := range []string{"model", "seed"} {
		if n, ok := df.fields[kind+"s"]; ok {
			for _, item := range d.list(n.value, kind+"s") {
				df.resources = append(df.resources, decodeResourceDoc(file, lines, item, kind))
			}
		}
	}
	return df
}

func decodeResourceDoc(file string, lines []string, item *yaml.Node, kind string) *resourceDoc {
	r := &resourceDoc{kind: kind}
	d := &decoder{file: file, diags: &r.head}
	f := d.mapping(item, kind, modelDocKeys...)
	nameF, ok := d.named(f, item, "%s entry has no name: (expected name: <%s name>)", kind, kind)
	if !ok {
		return r
	}
	r.name, r.nameNode = d.str(nameF.value, "name"), nameF.value
	allowed := ModelConfigKeys
	if kind == "seed" {
		allowed = SeedConfigKeys
	}
	b := &decoder{file: file, lines: lines, diags: &r.body}
	doc := &Doc{Pos: b.pos(nameF.value), Config: Layer{}}
	if x, ok := f["description"]; ok {
		doc.Description = b.description(x.value)
	}
	if x, ok := f["config"]; ok {
		doc.Config = b.layer(x.value, kind+" config", allowed)
	}
	doc.Columns = b.columns(f)
	doc.Tests = b.tests(f, false)
	r.doc = doc
	return r
}

// readDocFile finishes reading a YAML file that decodeDocFile decoded:
// attaches its models: and seeds: entries, reads its sources and exposures.
func (p *Project) readDocFile(df *docFile, idx *docIndex, diags *diag.List) {
	*diags = append(*diags, df.diags...)
	d := &decoder{file: df.file, lines: df.lines, diags: diags}
	for _, r := range df.resources {
		p.attachResourceDoc(d, r, idx)
	}
	if n, ok := df.fields["sources"]; ok {
		for _, item := range d.list(n.value, "sources") {
			p.readSource(d, item, idx)
		}
	}
	if n, ok := df.fields["exposures"]; ok {
		for _, item := range d.list(n.value, "exposures") {
			p.readExposure(d, item, idx)
		}
	}
	if n, ok := df.fields["unit_tests"]; ok {
		p.readUnitTests(d, n.value)
	}
}

func (p *Project) attachResourceDoc(d *decoder, r *resourceDoc, idx *docIndex) {
	*d.diags = append(*d.diags, r.head...)
	if r.nameNode == nil {
		return
	}
	name, kind := r.name, r.kind
	var target **Doc
	switch kind {
	case "model":
		m, ok := idx.models[name]
		if !ok {
			d.errorf(r.nameNode, "model %q is described here but there is no models/**/%s.sql%s", name, name, diag.DidYouMean(name, sortedKeys(idx.models)))
			return
		}
		target = &m.Doc
	case "seed":
		s, ok := idx.seeds[name]
		if !ok {
			if s = p.declaredSeed(d, r, idx); s == nil {
				return
			}
		}
		target = &s.Doc
	}
	key := kind + ":" + name
	if prev, dup := idx.docPath[key]; dup {
		d.errorf(r.nameNode, "%s %q is described twice: here and at %s", kind, name, prev)
		return
	}
	idx.docPath[key] = d.pos(r.nameNode).String()
	*d.diags = append(*d.diags, r.body...)
	*target = r.doc
}

// declaredSeed makes the seed that a seeds: entry declares when its CSV
// file is absent (the file is generated, as the example project's are, or
// not written yet): refs to it resolve by the declaration, and only loading
// it needs the file, so this is a warning, and seed and build refuse to run
// it. A model of that name is an error: names are unique across models and
// seeds.
func (p *Project) declaredSeed(d *decoder, r *resourceDoc, idx *docIndex) *Seed {
	name := r.name
	if m, ok := idx.models[name]; ok {
		d.errorf(r.nameNode, "seed %q is described here but there is no seeds/%s.csv, and %s is a model (%s)", name, name, name, m.Path)
		return nil
	}
	dir := "seeds"
	if strings.HasPrefix(d.file, "seeds/") {
		dir = path.Dir(d.file)
	}
	s := &Seed{Name: name, Path: dir + "/" + name + ".csv", Missing: true}
	var files []string
	for n, other := range idx.seeds {
		if !other.Missing {
			files = append(files, n)
		}
	}
	sort.Strings(files)
	// A typo in the declaration is one or two letters from a file's name;
	// any seed is "nearest" to a missing one, so only a close one is named.
	hint := ""
	if c := diag.SuggestWithin(name, files, 2); c != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", c)
	}
	d.diags.Warnf(d.pos(r.nameNode), "seed %q has no CSV file %s yet%s: refs to it resolve, but seed and build need the file", name, s.Path, hint)
	p.Seeds = append(p.Seeds, s)
	idx.seeds[name] = s
	return s
}

func (d *decoder) columns(f map[string]field) []*Column {
	x, ok := f["columns"]
	if !ok {
		return nil
	}
	var out []*Column
	seen := map[string]int{}
	for _, cn := range d.list(x.value, "columns") {
		cf := d.mapping(cn, "column", columnKeys...)
		nf, ok := d.named(cf, cn, "column entry has no name:")
		if !ok {
			continue
		}
		c := &Column{Name: d.str(nf.value, "name"), Pos: d.pos(nf.value)}
		if line, dup := seen[c.Name]; dup {
			d.errorf(nf.value, "column %q is described twice (first at line %d)", c.Name, line)
			continue
		}
		seen[c.Name] = nf.value.Line
		if v, ok := cf["description"]; ok {
			c.Description = d.description(v.value)
		}
		if v, ok := cf["data_type"]; ok {
			c.DataType = d.str(v.value, "data_type")
			if c.DataType != "" && !columnTypeRe.MatchString(c.DataType) {
				d.errorf(v.value, "data_type %q is not a PostgreSQL type name (expected e.g. numeric(12,2), date, text)", c.DataType)
			}
		}
		c.Tests = d.tests(cf, true)
		out = append(out, c)
	}
	return out
}

// tests reads a tests: (or data_tests:) list: each item a test name, or {name: {args and config}}.
func (d *decoder) tests(f map[string]field, onColumn bool) []*TestSpec {
	var out []*TestSpec
	for _, key := range []string{"tests", "data_tests"} {
		x, ok := f[key]
		if !ok {
			continue
		}
		for _, tn := range d.list(x.value, key) {
			if t := d.test(tn, onColumn); t != nil {
				out = append(out, t)
			}
		}
	}
	return out
}

func (d *decoder) test(n *yaml.Node, onColumn bool) *TestSpec {
	t := &TestSpec{Args: map[string]any{}, ArgPos: map[string]diag.Pos{}, Config: Layer{}, Pos: d.pos(n)}
	var argsNode *yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		t.Kind = n.Value
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			d.errorf(n, "a test must be a name or a mapping with one key, the test's name (got %d keys)", len(n.Content)/2)
			return nil
		}
		t.Kind = n.Content[0].Value
		argsNode = resolve(n.Content[1])
	default:
		d.errorf(n, "a test must be a name or a mapping, got %s", kindName(n))
		return nil
	}
	// A kind the registry does not know (or makes itself) is a custom
	// generic test: its macro says which arguments it reads (see manifest).
	kind := datatest.Lookup(t.Kind)
	builtin := kind != nil && !kind.Internal
	var allowed, argNames []string
	if builtin {
		argNames = append(append([]string{}, kind.Required()...), kind.Optional()...)
		allowed = append(append(allowed, argNames...), TestConfigKeys...)
		allowed = append(allowed, "config", "arguments")
	}
	// dbt_utils' names of its arguments are refused saying ours.
	dbtArg := func(k string) (string, bool) {
		hint, ok := datatest.DbtArg(t.Kind, k)
		return fmt.Sprintf("test %s: argument %q is not known: %s", t.Kind, k, hint), ok
	}
	arg := func(k string, f field) {
		v := f.value
		if prev, dup := t.ArgPos[k]; dup {
			d.errorf(v, "test %s: argument %q is given twice (first at %s)", t.Kind, k, prev)
			return
		}
		t.Args[k] = d.value(v)
		t.ArgPos[k] = d.pos(v)
	}
	var arguments *yaml.Node
	for k, fv := range d.mappingWith(argsNode, "test "+t.Kind, allowed, dbtArg) {
		if k == "arguments" {
			arguments = fv.value
			continue
		}
		if k == "config" {
			for ck, cv := range d.layer(fv.value, "test config", TestConfigKeys) {
				t.Config[ck] = cv
			}
			continue
		}
		if contains(TestConfigKeys, k) {
			v := d.value(fv.value)
			var probe Config
			if err := probe.Apply(k, v); err != nil {
				d.errorf(fv.value, "%s: %v", k, err)
				continue
			}
			t.Config[k] = Value{V: v, Pos: d.pos(fv.value)}
			continue
		}
		arg(k, fv)
	}
	// dbt 1.10's spelling: the arguments under arguments:, the settings
	// under config:.
	for ak, av := range d.mappingWith(arguments, "arguments of test "+t.Kind+" (its settings go under config:)", argNames, dbtArg) {
		arg(ak, av)
	}
	if builtin {
		for _, p := range kind.LoadProblems(t.Args, onColumn) {
			d.errorf(n, "%s", p)
		}
	}
	return t
}

func (p *Project) readSource(d *decoder, item *yaml.Node, idx *docIndex) {
	f := d.mapping(item, "source", sourceKeys...)
	nf, ok := d.named(f, item, "source entry has no name:")
	if !ok {
		return
	}
	s := &Source{Name: d.str(nf.value, "name"), Pos: d.pos(nf.value)}
	d.checkSourceName(nf.value, "source", s.Name)
	if prev, dup := idx.sources[s.Name]; dup {
		d.errorf(nf.value, "source %q is defined twice: here and at %s", s.Name, prev.Pos)
		return
	}
	idx.sources[s.Name] = s
	s.Schema = s.Name
	if x, ok := f["schema"]; ok {
		s.Schema = d.str(x.value, "schema")
	}
	if x, ok := f["description"]; ok {
		s.Description = d.description(x.value)
	}
	var loaded string
	if x, ok := f["loaded_at_field"]; ok {
		loaded = d.str(x.value, "loaded_at_field")
	}
	var fresh *Freshness
	if x, ok := f["freshness"]; ok {
		fresh = d.freshness(x.value)
	}
	seen := map[string]bool{}
	if x, ok := f["tables"]; ok {
		for _, tn := range d.list(x.value, "tables") {
			tf := d.mapping(tn, "source table", sourceTableKeys...)
			tnf, ok := d.named(tf, tn, "source table entry has no name:")
			if !ok {
				continue
			}
			t := &SourceTable{Name: d.str(tnf.value, "name"), Pos: d.pos(tnf.value), LoadedAtField: loaded, Freshness: fresh}
			d.checkSourceName(tnf.value, "source table", t.Name)
			if seen[t.Name] {
				d.errorf(tnf.value, "table %q is listed twice in source %q", t.Name, s.Name)
				continue
			}
			seen[t.Name] = true
			t.Identifier = t.Name
			if v, ok := tf["identifier"]; ok {
				t.Identifier = d.str(v.value, "identifier")
				if t.Identifier == "" {
					d.errorf(v.value, "identifier of source table %s.%s is empty (expected the table's name in the database)", s.Name, t.Name)
				}
			}
			if v, ok := tf["description"]; ok {
				t.Description = d.description(v.value)
			}
			if v, ok := tf["loaded_at_field"]; ok {
				t.LoadedAtField = d.str(v.value, "loaded_at_field")
			}
			if v, ok := tf["freshness"]; ok {
				t.Freshness = d.freshness(v.value)
			}
			if t.Freshness != nil && t.LoadedAtField == "" {
				d.errorf(tnf.value, "source table %s.%s has freshness but no loaded_at_field", s.Name, t.Name)
			}
			t.Columns = d.columns(tf)
			t.Tests = d.tests(tf, false)
			s.Tables = append(s.Tables, t)
		}
	}
	p.Sources = append(p.Sources, s)
}

// checkSourceName refuses a source or source table name that is empty or
// holds a dot: a source table's id joins the two with dots, so source "a.b"
// with table "c" and source "a" with table "b.c" would share one id.
func (d *decoder) checkSourceName(n *yaml.Node, what, name string) {
	switch {
	case name == "":
		d.errorf(n, "%s name is empty", what)
	case strings.Contains(name, "."):
		d.errorf(n, "%s name %q contains a dot (expected a name without dots; to read a table with dots in its name, set identifier:)", what, name)
	}
}

// freshness reads a source's or a source table's freshness; nil for
// freshness: null, which on a table turns off its source's.
func (d *decoder) freshness(n *yaml.Node) *Freshness {
	if isNull(n) {
		return nil
	}
	f := d.mapping(n, "freshness", "warn_after", "error_after", "filter")
	fr := &Freshness{Pos: d.pos(n)}
	if x, ok := f["filter"]; ok {
		// dbt's filter: the freshness test reads the whole table here.
		d.errorf(x.key, "freshness: strata's has no filter, it reads the newest loaded_at_field of the whole table; for a filtered check, give the table a recency test with a where: data_tests: [{recency: {field: <loaded_at_field>, max_age: 24h, config: {where: %q}}}] (docs/tests.md)", d.str(x.value, "filter"))
	}
	for k, dst := range map[string]*string{"warn_after": &fr.WarnAfter, "error_after": &fr.ErrorAfter} {
		x, ok := f[k]
		if !ok {
			continue
		}
		if v := resolve(x.value); v != nil && v.Kind == yaml.MappingNode {
			*dst = d.dbtFreshness(v, k)
			continue
		}
		*dst = d.str(x.value, k)
		if _, err := datatest.ParseDuration(*dst); err != nil {
			d.errorf(x.value, "%s: %v", k, err)
		}
	}
	return fr
}

// dbtPeriods are the units of dbt's spelling of a freshness bound,
// {count: 12, period: hour}, and strata's unit for each.
var dbtPeriods = map[string]string{"minute": "m", "hour": "h", "day": "d"}

// dbtFreshness reads a freshness bound written as dbt writes it,
// {count: 12, period: hour}, as the duration strata writes (12h), so that a
// sources.yml moved from dbt works as it is; "" when it is not one.
func (d *decoder) dbtFreshness(n *yaml.Node, what string) string {
	f := d.mapping(n, what, "count", "period")
	c, hasCount := f["count"]
	p, hasPeriod := f["period"]
	if !hasCount || !hasPeriod {
		d.errorf(n, "%s: expected a duration such as 30m, 24h or 7d, or dbt's {count: 24, period: hour} with both count and period", what)
		return ""
	}
	count := d.integer(c.value, what+": count")
	if count < 0 {
		d.errorf(c.value, "%s: count must not be negative, got %d", what, count)
		return ""
	}
	period := d.str(p.value, what+": period")
	unit, ok := dbtPeriods[period]
	if !ok {
		d.errorf(p.value, "%s: period %q is not known (expected minute, hour or day)%s", what, period, diag.DidYouMean(period, []string{"minute", "hour", "day"}))
		return ""
	}
	return strconv.Itoa(count) + unit
}

func (p *Project) readExposure(d *decoder, item *yaml.Node, idx *docIndex) {
	f := d.mapping(item, "exposure", exposureKeys...)
	nf, ok := d.named(f, item, "exposure entry has no name:")
	if !ok {
		return
	}
	e := &Exposure{Name: d.str(nf.value, "name"), Pos: d.pos(nf.value)}
	if !exposureNameRe.MatchString(e.Name) {
		d.errorf(nf.value, "exposure name %q must contain only letters, digits and underscores", e.Name)
	}
	if prev, dup := idx.exposures[e.Name]; dup {
		d.errorf(nf.value, "exposure %q is defined twice: here and at %s", e.Name, prev.Pos)
		return
	}
	idx.exposures[e.Name] = e
	types := []string{"dashboard", "notebook", "analysis", "ml", "application"}
	if x, ok := f["type"]; ok {
		e.Type = d.str(x.value, "type")
		if !contains(types, e.Type) {
			d.errorf(x.value, "exposure type %q is not known (expected one of dashboard, notebook, analysis, ml, application)%s", e.Type, diag.DidYouMean(e.Type, types))
		}
	} else {
		d.errorf(nf.value, "exposure %q has no type: (expected dashboard, notebook, analysis, ml or application)", e.Name)
	}
	for k, dst := range map[string]*string{"label": &e.Label, "description": &e.Description, "url": &e.URL} {
		if x, ok := f[k]; ok && k == "description" {
			*dst = d.description(x.value)
		} else if ok {
			*dst = d.str(x.value, k)
		}
	}
	// maturity: left empty (null) is no maturity, as in dbt and as the
	// other keys here; one that is no string is said once, by str.
	if x, ok := f["maturity"]; ok && !isNull(x.value) {
		e.Maturity = d.str(x.value, "maturity")
		if r := resolve(x.value); r.Kind == yaml.ScalarNode && !contains(exposureMaturities, e.Maturity) {
			d.errorf(x.value, "exposure maturity %q is not known (expected high, medium or low)%s", e.Maturity, diag.DidYouMean(e.Maturity, exposureMaturities))
		}
	}
	if x, ok := f["owner"]; ok {
		of := d.mapping(x.value, "owner", "name", "email")
		if v, ok := of["name"]; ok {
			e.OwnerName = d.str(v.value, "name")
		}
		if v, ok := of["email"]; ok {
			e.OwnerEmail = d.str(v.value, "email")
		}
	}
	if x, ok := f["depends_on"]; ok {
		items := []*yaml.Node{resolve(x.value)}
		if n := items[0]; n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			items = d.list(n, "depends_on")
		}
		for _, c := range items {
			e.DependsOn = append(e.DependsOn, d.str(c, "depends_on item"))
			e.DependsOnPos = append(e.DependsOnPos, d.pos(c))
		}
	}
	if x, ok := f["charts"]; ok {
		for _, cn := range d.list(x.value, "charts") {
			cf := d.mapping(cn, "chart", chartKeys...)
			c := Chart{Pos: d.pos(cn)}
			for k, dst := range map[string]*string{"title": &c.Title, "type": &c.Type, "model": &c.Model, "query": &c.Query, "x": &c.X, "value": &c.Value} {
				if v, ok := cf[k]; ok {
					*dst = d.str(v.value, k)
				}
			}
			if v, ok := cf["y"]; ok {
				c.Y = d.strList(v.value, "y")
			}
			if v, ok := cf["fields"]; ok {
				c.Fields = d.strList(v.value, "fields")
			}
			if v, ok := cf["limit"]; ok {
				c.Limit = d.integer(v.value, "limit")
			}
			if v, ok := cf["sort"]; ok {
				items := []*yaml.Node{v.value}
				if n := resolve(v.value); n != nil && n.Kind == yaml.SequenceNode {
					items = d.list(n, "sort")
				}
				for _, item := range items {
					key := d.str(item, "sort")
					if err := checkSortKey(key); err != nil {
						d.errorf(item, "chart %q: sort: %v", c.Title, err)
						continue
					}
					c.Sort = append(c.Sort, key)
					c.SortPos = append(c.SortPos, d.pos(item))
				}
			}
			d.checkChart(cn, &c)
			e.Charts = append(e.Charts, c)
		}
	}
	p.Exposures = append(p.Exposures, e)
}

func (d *decoder) checkChart(n *yaml.Node, c *Chart) {
	types := []string{"kpi", "line", "bar", "table"}
	if !contains(types, c.Type) {
		d.errorf(n, "chart %q: type %q is not known (expected kpi, line, bar or table)%s", c.Title, c.Type, diag.DidYouMean(c.Type, types))
	}
	if (c.Model == "") == (c.Query == "") {
		d.errorf(n, "chart %q needs exactly one of model: or query:", c.Title)
	}
	switch c.Type {
	case "kpi":
		if c.Value == "" {
			d.errorf(n, "chart %q (kpi) needs value: (the column to show)", c.Title)
		}
	case "line", "bar":
		if c.X == "" || len(c.Y) == 0 {
			d.errorf(n, "chart %q (%s) needs x: and y:", c.Title, c.Type)
		}
	}
}

// checkSortKey checks one key of a chart's sort: a column name, with a leading
// "-" for descending order.
func checkSortKey(key string) error {
	col := strings.TrimPrefix(key, "-")
	switch {
	case strings.TrimSpace(col) == "":
		return fmt.Errorf("%q names no column (expected a column, or -column for descending order)", key)
	case strings.HasPrefix(col, "-") || strings.HasPrefix(col, "+"):
		return fmt.Errorf("%q: write -column for descending order and column for ascending", key)
	}
	if f := strings.Fields(col); len(f) == 2 && (strings.EqualFold(f[1], "desc") || strings.EqualFold(f[1], "asc")) {
		if strings.EqualFold(f[1], "desc") {
			return fmt.Errorf("%q is SQL; write -%s for descending order", key, f[0])
		}
		return fmt.Errorf("%q is SQL; write %s for ascending order", key, f[0])
	}
	if strings.ContainsAny(col, ",\n") {
		return fmt.Errorf("%q: list several columns as a YAML list, [-revenue, name]", key)
	}
	return nil
}
