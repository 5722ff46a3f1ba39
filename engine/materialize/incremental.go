package materialize

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"strata/engine/pgname"

	"strata/engine/project"
)

func idents(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pgname.Ident(c)
	}
	return strings.Join(q, ", ")
}

// Stage holds a model's new rows in a temporary table dropped at commit, so
// the delete or merge that follows reads an indexed, analyzed relation
// instead of re-running the model's query.
func Stage(stage, body string) Step {
	prefix := "create temporary table " + pgname.Ident(stage) + " on commit drop as (\n"
	return Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// StageView names a model's new rows without computing them: a temporary
// view of its query, which the merge or insert that follows runs in the
// same statement (Direct). It is dropped before the transaction ends.
func StageView(stage, body string) Step {
	prefix := "create temporary view " + pgname.Ident(stage) + " as (\n"
	return Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// StageIndex indexes the staged rows on the unique key and gathers their statistics.
func StageIndex(stage string, key []string) []Step {
	var out []Step
	if len(key) > 0 {
		out = append(out, Step{SQL: fmt.Sprintf("create index on %s (%s)", pgname.Ident(stage), idents(key)), Body: -1})
	}
	return append(out, Step{SQL: "analyze " + pgname.Ident(stage), Body: -1})
}

// Strategy resolves the incremental strategy: merge when a unique key is
// given and none is configured, append otherwise.
func Strategy(c project.Config) (string, error) {
	s := c.IncrementalStrategy
	if s == "" {
		if len(c.UniqueKey) > 0 {
			return "merge", nil
		}
		return "append", nil
	}
	switch s {
	case "append":
		return s, nil
	case "merge", "delete+insert":
		if len(c.UniqueKey) == 0 {
			return "", fmt.Errorf("incremental_strategy: %s needs a unique_key (one column or a list of them)", s)
		}
		return s, nil
	}
	return "", fmt.Errorf("incremental_strategy: %q is not one of append, merge, delete+insert", s)
}

// Incremental applies the staged rows, in the relation from (quoted), to
// target with the strategy. cols are the columns to write (present in
// both), key the unique key.
func Incremental(strategy string, target pgname.Rel, from string, cols, key []string) []Step {
	list := idents(cols)
	insert := Step{SQL: fmt.Sprintf("insert into %s (%s)\nselect %s from %s", target.Quoted(), list, list, from), Body: -1}
	on := make([]string, len(key))
	for i, k := range key {
		on[i] = fmt.Sprintf("t.%s = s.%s", pgname.Ident(k), pgname.Ident(k))
	}
	switch strategy {
	case "delete+insert":
		del := Step{SQL: fmt.Sprintf("delete from %s as t\nusing %s as s\nwhere %s", target.Quoted(), from, strings.Join(on, " and ")), Body: -1}
		return []Step{del, insert}
	case "merge":
		isKey := map[string]bool{}
		for _, k := range key {
			isKey[k] = true
		}
		var set, vals []string
		for _, c := range cols {
			vals = append(vals, "s."+pgname.Ident(c))
			if !isKey[c] {
				set = append(set, fmt.Sprintf("%s = s.%s", pgname.Ident(c), pgname.Ident(c)))
			}
		}
		matched := "when matched then do nothing"
		if len(set) > 0 {
			matched = "when matched then update set " + strings.Join(set, ", ")
		}
		return []Step{{SQL: fmt.Sprintf("merge into %s as t\nusing %s as s\non %s\n%s\nwhen not matched then insert (%s) values (%s)",
			target.Quoted(), from, strings.Join(on, " and "), matched, list, strings.Join(vals, ", ")), Body: -1}}
	}
	return []Step{insert}
}

// Column is a column and its type as PostgreSQL's format_type prints it.
type Column struct{ Name, Type string }

// SchemaChange compares the columns of an incremental model's table (old)
// with those of its new rows (new) and returns the statements on_schema_change
// asks for, and the columns to write. mode fail returns an error naming every
// difference; ignore writes only the columns both have.
func SchemaChange(mode string, target pgname.Rel, old, new []Column) ([]Step, []string, error) {
	oldT := map[string]string{}
	for _, c := range old {
		oldT[c.Name] = c.Type
	}
	newT := map[string]string{}
	for _, c := range new {
		newT[c.Name] = c.Type
	}
	var added, removed, changed []string
	for _, c := range new {
		t, ok := oldT[c.Name]
		switch {
		case !ok:
			added = append(added, c.Name)
		case t != c.Type:
			changed = append(changed, c.Name)
		}
	}
	for _, c := range old {
		if _, ok := newT[c.Name]; !ok {
			removed = append(removed, c.Name)
		}
	}
	var common []string
	for _, c := range new {
		if _, ok := oldT[c.Name]; ok {
			common = append(common, c.Name)
		}
	}
	if len(added)+len(removed)+len(changed) == 0 {
		return nil, common, nil
	}
	switch mode {
	case "", "ignore":
		return nil, common, nil
	case "fail":
		var parts []string
		for _, c := range added {
			parts = append(parts, fmt.Sprintf("new column %s %s", c, newT[c]))
		}
		for _, c := range removed {
			parts = append(parts, fmt.Sprintf("column %s is gone", c))
		}
		for _, c := range changed {
			parts = append(parts, fmt.Sprintf("column %s changed from %s to %s", c, oldT[c], newT[c]))
		}
		return nil, nil, fmt.Errorf("on_schema_change: fail: the model's columns changed (%s); run with --full-refresh or set on_schema_change", strings.Join(parts, "; "))
	case "append_new_columns", "sync_all_columns":
		var steps []Step
		for _, c := range added {
			steps = append(steps, Step{SQL: fmt.Sprintf("alter table %s add column %s %s", target.Quoted(), pgname.Ident(c), newT[c]), Body: -1})
		}
		cols := append(common, added...)
		if mode == "sync_all_columns" {
			for _, c := range removed {
				steps = append(steps, Step{SQL: fmt.Sprintf("alter table %s drop column %s", target.Quoted(), pgname.Ident(c)), Body: -1})
			}
			for _, c := range changed {
				steps = append(steps, Step{SQL: fmt.Sprintf("alter table %s alter column %s type %s using %s::%s", target.Quoted(), pgname.Ident(c), newT[c], pgname.Ident(c), newT[c]), Body: -1})
			}
		}
		return steps, cols, nil
	}
	return nil, nil, fmt.Errorf("on_schema_change: %q is not one of ignore, fail, append_new_columns, sync_all_columns", mode)
}

// KeptType is a column whose type the query changed and the table keeps.
type KeptType struct{ Name, Table, Query string }

func (k KeptType) String() string {
	return fmt.Sprintf("%s is %s in the table, %s in the query", k.Name, k.Table, k.Query)
}

// KeptTypes are the columns whose type the query (new) changed and the
// table (old) keeps under on_schema_change mode (all but
// sync_all_columns): their values are converted as an insert converts
// them, which fails for types without an assignment cast.
func KeptTypes(mode string, old, new []Column) []KeptType {
	if mode == "sync_all_columns" {
		return nil
	}
	var out []KeptType
	for _, c := range new {
		if t := typeOf(old, c.Name); t != "" && t != c.Type {
			out = append(out, KeptType{Name: c.Name, Table: t, Query: c.Type})
		}
	}
	return out
}

// NotConverted says, of kept (KeptTypes), which PostgreSQL refused to
// convert, given its message (SQLSTATE 42804, 'column "d" is of type
// date but expression is of type text'): those it names in double
// quotes, and whether it named any. Most kept types convert (integer from
// bigint), so the others are not said not to; a message in another
// language, which may quote otherwise, names none: all of kept are given.
func NotConverted(kept []KeptType, msg string) ([]KeptType, bool) {
	var out []KeptType
	for _, k := range kept {
		if strings.Contains(msg, `"`+k.Name+`"`) {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return kept, false
	}
	return out, true
}

// NotConvertedError is the error of a load that PostgreSQL refused
// (SQLSTATE 42804, its message msg, explained as PostgreSQL's error in
// full) because on_schema_change mode keeps the types of kept (KeptTypes)
// and it does not convert the query's values to some of them: it names
// those (NotConverted) and says what to do.
func NotConvertedError(mode string, kept []KeptType, msg, explained string) error {
	if mode == "" {
		mode = "ignore"
	}
	refused, named := NotConverted(kept, msg)
	what := make([]string, len(refused))
	for i, k := range refused {
		what[i] = k.String()
	}
	said := "PostgreSQL does not convert the query's to them: " + strings.Join(what, "; ")
	if !named && len(refused) > 1 {
		said = "PostgreSQL does not convert the query's to one of them at least (" + strings.Join(what, "; ") + ")"
	}
	return fmt.Errorf("on_schema_change: %s keeps the table's column types, and %s (%s); cast in the query, set on_schema_change: sync_all_columns to change the table's types, or rebuild the table with --full-refresh",
		mode, said, explained)
}

// SamePartitioning refuses to load an incremental model's new rows into
// its table (kind existing) when the table is partitioned otherwise than
// partition_by says: an existing table is never partitioned, unpartitioned
// or repartitioned in place, and loading on would create partitions for one
// column's periods while PostgreSQL routes the rows by another's. column
// and partitions are the table's partition key and partitions' names, read
// when it is partitioned ("" and nil when not read).
func SamePartitioning(rel pgname.Rel, by *project.PartitionBy, existing, column string, partitions []string) error {
	const fix = "; a load never changes how the table is partitioned: rebuild it with --full-refresh"
	want := by != nil && by.Column != ""
	switch {
	case want && existing == "table":
		return fmt.Errorf("partition_by: %s is not partitioned (it was built without partition_by)%s", rel, fix)
	case !want && existing == "partitioned_table":
		return fmt.Errorf("partition_by: %s is partitioned, but the model's config has no partition_by%s", rel, fix)
	case !want || existing != "partitioned_table" || partitions == nil && column == "":
		return nil
	case column != by.Column:
		on := "an expression"
		if column != "" {
			on = fmt.Sprintf("column %q", column)
		}
		return fmt.Errorf("partition_by: %s is partitioned on %s, but partition_by says column %q%s", rel, on, by.Column, fix)
	}
	digits := PeriodDigits(by.Granularity)
	for _, p := range partitions {
		if strings.HasSuffix(p, "_pdefault") {
			continue
		}
		end := len(p)
		for end > 0 && p[end-1] >= '0' && p[end-1] <= '9' {
			end--
		}
		if n := len(p) - end; n != digits && strings.HasSuffix(p[:end], "_p") {
			granularity := by.Granularity
			if granularity == "" {
				granularity = "month"
			}
			return fmt.Errorf("partition_by: %s is partitioned by %s (partition %s), but partition_by says granularity: %s%s", rel, granularityOf[n], p, granularity, fix)
		}
	}
	return nil
}

// granularityOf is the granularity whose periods have this many digits.
var granularityOf = map[int]string{8: "day", 6: "month", 4: "year"}

// RewritesColumns says whether steps (of SchemaChange) drop or retype a
// column of the table, which PostgreSQL refuses while a view reads it: the
// views on the table are then dropped and recreated around them.
func RewritesColumns(steps []Step) bool {
	for _, s := range steps {
		if strings.Contains(s.SQL, " drop column ") || strings.Contains(s.SQL, " alter column ") {
			return true
		}
	}
	return false
}

// Partition is one range partition: its name suffix and bounds.
type Partition struct{ Suffix, From, To string }

var granularities = map[string]string{"day": "YYYYMMDD", "month": "YYYYMM", "year": "YYYY"}

// PeriodDigits is how many digits a partition name's period has for
// granularity (month when empty): the length of its to_char format; 0 for an
// unknown granularity.
func PeriodDigits(granularity string) int {
	if granularity == "" {
		granularity = "month"
	}
	return len(granularities[granularity])
}

// PartitionPeriods is the query listing the periods present in rel's column,
// one row per partition: suffix, lower bound, upper bound (as text).
func PartitionPeriods(rel string, p project.PartitionBy) (string, error) {
	g := p.Granularity
	if g == "" {
		g = "month"
	}
	f, ok := granularities[g]
	if !ok {
		return "", fmt.Errorf("partition_by: granularity %q is not one of day, month, year", g)
	}
	col := pgname.Ident(p.Column)
	return fmt.Sprintf(`select distinct to_char(date_trunc('%[1]s', %[2]s), '%[3]s'),
  to_char(date_trunc('%[1]s', %[2]s), 'YYYY-MM-DD'), to_char(date_trunc('%[1]s', %[2]s) + interval '1 %[1]s', 'YYYY-MM-DD')
from %[4]s where %[2]s is not null
union all
select 'default', null, null where exists (select from %[4]s where %[2]s is null)
order by 1`, g, col, f, rel), nil
}

// PartitionColumnError says what is wrong with the partition_by column
// among the model's columns: missing, or of a type that has no periods
// (date_trunc needs a date or a timestamp). nil when it is fine.
func PartitionColumnError(by project.PartitionBy, cols []Column) error {
	for _, c := range cols {
		if c.Name != by.Column {
			continue
		}
		t := strings.ToLower(c.Type)
		if t == "date" || strings.HasPrefix(t, "timestamp") {
			return nil
		}
		return fmt.Errorf("partition_by: column %q is %s, but a table is partitioned by the day, month or year of a date or timestamp column (cast it in the query, or partition by another column)", by.Column, c.Type)
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return fmt.Errorf("partition_by: column %q is not among the model's columns (%s)", by.Column, strings.Join(names, ", "))
}

// CreatePartitioned creates rel with the columns of like, range-partitioned on the column.
func CreatePartitioned(rel pgname.Rel, like string, p project.PartitionBy) Step {
	return Step{SQL: fmt.Sprintf("create table %s (like %s) partition by range (%s)", rel.Quoted(), like, pgname.Ident(p.Column)), Body: -1}
}

// CreatePartitions creates the partitions of parent (named after base) that do not exist yet.
func CreatePartitions(parent pgname.Rel, base string, parts []Partition) []Step {
	var out []Step
	for _, p := range parts {
		name := parent.In(pgname.Partition(base, p.Suffix)).Quoted()
		bounds := "default"
		if p.Suffix != "default" {
			bounds = fmt.Sprintf("for values from (%s) to (%s)", pgname.Literal(p.From), pgname.Literal(p.To))
		}
		out = append(out, Step{SQL: fmt.Sprintf("create table if not exists %s partition of %s %s", name, parent.Quoted(), bounds), Body: -1})
	}
	return out
}

// InsertAll copies every row of from into rel.
func InsertAll(rel pgname.Rel, from string) Step {
	return Step{SQL: fmt.Sprintf("insert into %s select * from %s", rel.Quoted(), from), Body: -1}
}

var typeRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])?$`)

// ContractProbe is a statement whose result columns have the declared types
// of a contract, so PostgreSQL itself resolves names like int or varchar(20).
func ContractProbe(cols []*project.Column) (string, error) {
	var sel []string
	for _, c := range cols {
		if c.DataType == "" {
			continue
		}
		if !typeRe.MatchString(strings.TrimSpace(c.DataType)) {
			return "", fmt.Errorf("contract: column %s: data_type %q is not a type name (expected e.g. bigint, numeric(12,2), text[])", c.Name, c.DataType)
		}
		sel = append(sel, fmt.Sprintf("null::%s as %s", strings.TrimSpace(c.DataType), pgname.Ident(c.Name)))
	}
	if len(sel) == 0 {
		return "", nil
	}
	return "select " + strings.Join(sel, ", "), nil
}

// Privilege is a privilege held on a relation by a role other than its
// owner; Grantee "-" is PUBLIC.
type Privilege struct {
	Name, Grantee string
	Grantable     bool
}

// GrantSet is the set of privileges on a relation, as "PRIVILEGE role" pairs.
type GrantSet map[[2]string]bool

// GrantMissing grants what config asks for and have lacks. It revokes
// nothing: a privilege granted by hand stays, as on a replaced relation,
// where the swap carries the old relation's privileges over (Carry).
func GrantMissing(rel pgname.Rel, want map[string][]string, have []Privilege) []Step {
	w := GrantSet{}
	for p, roles := range want {
		for _, r := range roles {
			w[[2]string{strings.ToUpper(p), r}] = true
		}
	}
	h := GrantSet{}
	for _, g := range have {
		h[[2]string{strings.ToUpper(g.Name), g.Grantee}] = true
		if g.Grantee == "-" {
			h[[2]string{strings.ToUpper(g.Name), "public"}] = true
		}
	}
	var out []Step
	for _, g := range sortedKeys(w) {
		if !h[g] {
			out = append(out, Step{SQL: fmt.Sprintf("grant %s on %s to %s", strings.ToLower(g[0]), rel.Quoted(), grantee(g[1])), Body: -1, Config: "grants"})
		}
	}
	return out
}

// Carry grants on rel, the new version of a relation, the privileges the
// old one had (besides those config grants, which the build granted
// already) and, when keepComment (the model has no description), the old
// one's comment: what was granted or written on it by hand survives the
// swap.
func Carry(rel pgname.Rel, kind string, old []Privilege, comment *string, keepComment bool, config map[string][]string) []Step {
	granted := GrantSet{}
	for p, roles := range config {
		for _, r := range roles {
			granted[[2]string{strings.ToUpper(p), r}] = true
		}
	}
	var out []Step
	for _, g := range old {
		if granted[[2]string{strings.ToUpper(g.Name), g.Grantee}] && !g.Grantable {
			continue
		}
		s := fmt.Sprintf("grant %s on %s to %s", strings.ToLower(g.Name), rel.Quoted(), grantee(g.Grantee))
		if g.Grantable {
			s += " with grant option"
		}
		out = append(out, Step{SQL: s, Body: -1})
	}
	if keepComment && comment != nil {
		out = append(out, Comment(rel, kind, *comment))
	}
	return out
}

func grantee(r string) string {
	if r == "-" || strings.EqualFold(r, "public") {
		return "public"
	}
	return pgname.Ident(r)
}

func sortedKeys(s GrantSet) [][2]string {
	out := make([][2]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][1] != out[j][1] {
			return out[i][1] < out[j][1]
		}
		return out[i][0] < out[j][0]
	})
	return out
}

// RefreshMaterializedView refreshes a materialized view in place;
// concurrently (readers keep reading) when it has a unique index.
func RefreshMaterializedView(rel pgname.Rel, concurrently bool) Step {
	c := ""
	if concurrently {
		c = "concurrently "
	}
	return Step{SQL: "refresh materialized view " + c + rel.Quoted(), Body: -1}
}
