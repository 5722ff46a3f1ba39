package materialize

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"strata/engine/pgname"
	"strata/engine/project"
)

// Distribution is where a model's or seed's table goes on a Citus cluster
// (SPEC 13): sharded on Column, colocated with Colocate (or in Citus's
// default group for its column type and shard count), or, Reference, a
// reference table copied whole to every node. The plans of a model with a
// Distribution build its table empty, distribute it, and only then fill
// it, so the rows go straight to their shards.
type Distribution struct {
	Column    string
	Reference bool
	// Colocate is the relation of the model or seed colocate_with names
	// (Name), nil for Citus's default colocation.
	Colocate     *pgname.Rel
	ColocateName string
	ShardCount   int
	// Where is the position of the config that asked for it
	// ("models/warehouse/warehouse.yml:12:7"), which errors start with;
	// ColocateWhere that of colocate_with, for errors about colocation;
	// ShardWhere that of shard_count.
	Where, ColocateWhere, ShardWhere string
	// What is what the table is built from, for errors: "model" or "seed".
	What string
}

// String says where the table goes, in the config's words.
func (d Distribution) String() string {
	if d.Reference {
		return "reference: true"
	}
	return "distributed_by: " + d.Column
}

// Create distributes the empty table rel as d says.
func (d Distribution) Create(rel pgname.Rel) Step {
	table := pgname.Literal(rel.Quoted())
	if d.Reference {
		return Step{SQL: "select create_reference_table(" + table + ")", Body: -1}
	}
	args := []string{table, pgname.Literal(d.Column)}
	if d.Colocate != nil {
		args = append(args, "colocate_with => "+pgname.Literal(d.Colocate.Quoted()))
	}
	if d.ShardCount > 0 {
		args = append(args, "shard_count => "+strconv.Itoa(d.ShardCount))
	}
	return Step{SQL: "select create_distributed_table(" + strings.Join(args, ", ") + ")", Body: -1}
}

// Placed is how an existing table sits on the Citus cluster, as the run
// read it: Method "local", "distributed" (on Column, of Type), "reference"
// or "other"; of the table colocate_with names, also "missing" (there is
// none) or the kind of a relation that is no table ("view",
// "materialized_view", "foreign_table").
type Placed struct {
	Method       string
	Column, Type string
	// Colocation and Shards are a distributed table's colocation group
	// and shard count (0 when not read). The fields are postgres.Placement's,
	// in its order, so that a placement read converts: Placed(p).
	Colocation, Shards int
}

// Matches says whether the table placed as p is where d puts it (the shard
// count and colocation group aside).
func (d Distribution) Matches(p Placed) bool {
	if d.Reference {
		return p.Method == "reference"
	}
	return p.Method == "distributed" && p.Column == d.Column
}

func (p Placed) String() string {
	switch p.Method {
	case "distributed":
		return "distributed by " + p.Column
	case "reference":
		return "a reference table"
	case "local":
		return "a table on the coordinator only"
	case "missing":
		return "not there"
	case "view", "materialized_view", "foreign_table":
		return "a " + strings.ReplaceAll(p.Method, "_", " ")
	case "other":
		// postgres.RelKind's word for a sequence, an index, a type...
		return "a relation that is not a table"
	}
	return "a Citus table of another kind"
}

// Distribute distributes Rel, an empty table just built from the model's
// query (or the seed's file), as Dist says. It reads Rel's columns and, for
// colocate_with, how the colocated table is placed, so that a distribution
// column the query does not return, or whose type differs from the
// colocated table's, is said in the config's words before Citus says it in
// its own.
type Distribute struct {
	op
	Rel  pgname.Rel
	Dist Distribution
	// Beside, when set, is a distributed table placed as BesideAt, which
	// the build joins with Rel shard by shard: Rel joins its colocation
	// group (colocate_with => Beside) when its distribution column has
	// the type of Beside's, whatever shards Citus would give a new table
	// (an scd2 update's staged source, beside the dimension).
	Beside   *pgname.Rel
	BesideAt *Placed
}

// Steps checks that Rel, with columns cols, can be distributed as asked,
// colocated with a table placed as with (nil without colocate_with), and
// returns the statement that distributes it. canCast says whether the
// server casts one type to another, for the hint of a distribution column
// whose type is not the colocated table's.
func (d Distribute) Steps(cols []Column, with *Placed, canCast func(from, to string) (bool, error)) ([]Step, error) {
	dist := d.Dist
	if dist.Reference {
		return []Step{dist.Create(d.Rel)}, nil
	}
	i := slices.IndexFunc(cols, func(c Column) bool { return c.Name == dist.Column })
	if i < 0 {
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.Name
		}
		source := "the model's query returns"
		if dist.What == "seed" {
			source = "the seed's file has"
		}
		return nil, fmt.Errorf("%sdistributed_by: %s no column %q (it has: %s)", prefix(dist.Where), source, dist.Column, strings.Join(names, ", "))
	}
	if b := d.BesideAt; d.Beside != nil && b != nil && b.Method == "distributed" && b.Column == dist.Column && b.Type == cols[i].Type {
		return []Step{Distribution{Column: dist.Column, Colocate: d.Beside}.Create(d.Rel)}, nil
	}
	if with != nil {
		other := dist.ColocateName
		where := dist.Where
		if dist.ColocateWhere != "" {
			where = dist.ColocateWhere
		}
		switch with.Method {
		case "distributed":
		case "missing":
			return nil, fmt.Errorf("%scolocate_with: %s's table %s does not exist yet, so there are no shards to share; build %s first (strata build -s %s), or select it with this %s",
				prefix(where), other, dist.Colocate.String(), other, other, whatOf(dist))
		default:
			return nil, fmt.Errorf("%scolocate_with: %s (%s) is %s, not a distributed table to share shards with; rebuild it first (strata build -s %s), which places it as its config says (distributed_by)",
				prefix(where), other, dist.Colocate.String(), with, other)
		}
		if typ := cols[i].Type; typ != with.Type {
			castable, err := canCast(typ, with.Type)
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%s%s", prefix(where), ColocateTypeMismatch(other, with.Column, with.Type, whatOf(dist), dist.Column, typ, castable))
		}
	}
	return []Step{dist.Create(d.Rel)}, nil
}

// ColocateTypeMismatch is the error of a model or seed (what) distributed
// by col, of type typ, that colocate_with puts with other, distributed by
// otherCol of another type, otherType: Citus colocates only distribution
// columns of one type. The build says it before Citus would, and strata
// check too. castable: PostgreSQL casts typ to otherType (postgres.CanCast),
// so the fix may be a cast; else (date to bigint) it is another column.
func ColocateTypeMismatch(other, otherCol, otherType, what, col, typ string, castable bool) string {
	msg := fmt.Sprintf("colocate_with: %s is distributed by %s (%s), but this %s's %s is %s; Citus colocates only tables whose distribution columns have the same type",
		other, otherCol, otherType, what, col, typ)
	if castable {
		return msg + fmt.Sprintf(": cast it in the %s (%s::%s)", what, pgname.Ident(col), otherType)
	}
	return msg + fmt.Sprintf(", and PostgreSQL has no cast from %s to %s: distribute this %s by a column of type %s, or colocate it with a table distributed by one of type %s",
		typ, otherType, what, otherType, typ)
}

func whatOf(d Distribution) string {
	if d.What == "" {
		return "model"
	}
	return d.What
}

// prefix is a position followed by ": ", or nothing.
func prefix(where string) string {
	if where == "" {
		return ""
	}
	return where + ": "
}

// SequentialMode makes the rest of a transaction run its work on a Citus
// cluster over one connection per node. Citus refuses view DDL (dropping
// and recreating the views that depend on a swapped table) after it ran
// parallel work on a distributed table in the same transaction; a swap's
// transaction therefore starts with it.
func SequentialMode() Step {
	return Step{SQL: "set local citus.multi_shard_modify_mode to 'sequential'", Body: -1}
}

// NoLocalExecution turns off, for the rest of a transaction, Citus's local
// execution: the coordinator's shortcut to its own copy of a reference
// table. A transaction that wrote a reference table through it cannot then
// run parallel work on the table's copies (ANALYZE, an index), so the
// builds of reference tables start with it.
func NoLocalExecution() Step {
	return Step{SQL: "set local citus.enable_local_execution to off", Body: -1}
}

// CitusSettings are the settings a build's transaction on Citus starts
// with, for a table placed as d says (nil: not on Citus, none):
// NoLocalExecution for a reference table, and SequentialMode when the
// transaction may recreate views (sequential).
func CitusSettings(d *Distribution, sequential bool) []Step {
	var out []Step
	if d != nil && d.Reference {
		out = append(out, NoLocalExecution())
	}
	if d != nil && sequential {
		out = append(out, SequentialMode())
	}
	return out
}

func citusSettings(d *Distribution, sequential bool) []Op {
	var ops []Op
	for _, s := range CitusSettings(d, sequential) {
		ops = append(ops, Exec{Step: s})
	}
	return ops
}

// CreateEmpty creates rel with the columns of the model's query, without
// running it: a table to distribute before it is filled.
func CreateEmpty(rel pgname.Rel, body string) Step {
	prefix := "create table " + rel.Quoted() + " as (\n"
	return Step{SQL: prefix + body + "\n) with no data", Body: len([]rune(prefix))}
}

// InsertQuery fills rel with the rows of the model's query.
func InsertQuery(rel pgname.Rel, body string) Step {
	prefix := "insert into " + rel.Quoted() + " (\n"
	return Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// CitusStage is where an incremental load into a distributed table stages
// its new rows: a distributed table beside the target, colocated with it,
// since Citus merges into a distributed table only from a colocated one.
// It is created and dropped inside the load's transaction.
func CitusStage(target pgname.Rel) pgname.Rel {
	return target.In(pgname.Stage(target.Name))
}

// citusBuild builds the new version of a model's table, tmp (of kind
// table or partitioned_table), on a Citus cluster: created empty, with its
// indexes (and partitions), distributed as m.Dist says, then filled, so
// that the rows go straight to their shards. The indexes come first
// because Citus names each shard's index after the table's and refuses a
// long one once the transaction ran parallel work, as distributing does.
func citusBuild(m Model, body string, tmp pgname.Rel, kind string) []Op {
	var ops []Op
	fill := InsertQuery(tmp, body)
	if kind == "partitioned_table" {
		pb := *m.Config.PartitionBy
		stage := pgname.Stage(m.Rel.Name)
		ops = append(ops,
			Exec{Step: Stage(stage, body)},
			PartitionColumn{Stage: stage, By: pb},
			Exec{Step: CreatePartitioned(tmp, pgname.Ident(stage), pb)},
			// Partitions made before the table is distributed are
			// distributed with it.
			Partitions{Stage: stage, Parent: tmp, Base: tmp.Name, By: pb},
			CreateIndexes{On: tmp, Kind: kind})
		fill = InsertAll(tmp, pgname.Ident(stage))
	} else {
		ops = append(ops, Exec{Step: CreateEmpty(tmp, body)})
		ops = append(ops, citusIndexes(tmp, m)...)
	}
	return append(ops, Distribute{Rel: tmp, Dist: *m.Dist}, Exec{Step: fill, Count: Rows})
}

// citusIndexes creates the configured indexes of the model on rel: on
// Citus, before any parallel work of the transaction (see citusBuild).
func citusIndexes(rel pgname.Rel, m Model) []Op {
	var ops []Op
	for _, s := range Indexes(rel, rel.Name, m.Config.Indexes) {
		ops = append(ops, Exec{Step: s})
	}
	return ops
}

// SamePlacement refuses to load new rows into an incremental model's or
// an scd2 dimension's table that sits on the Citus cluster otherwise than
// its config says (placed; nil off Citus): a load never moves the rows
// already there. The message starts with the position of the config key
// it is about (Misplaced).
func SamePlacement(m Model, placed, with *Placed) error {
	msg, keys := Misplaced(m, placed, with)
	if msg == "" {
		return nil
	}
	where := ""
	if d := m.Dist; d != nil {
		at := map[string]string{"colocate_with": d.ColocateWhere, "shard_count": d.ShardWhere, "distributed_by": d.Where, "reference": d.Where}
		for _, k := range keys {
			if at[k] != "" {
				where = prefix(at[k])
				break
			}
		}
	}
	return &PlacementError{Placed: where != "", msg: where + msg}
}

// Misplaced is SamePlacement's refusal without its position, "" when the
// table placed as placed (nil: off Citus) is where m's config puts it
// (Wanted), for strata check, which places it in the user's files as the
// build does: at the first of keys that the config sets (colocate_with or
// shard_count, when the shards are wrong, then distributed_by or
// reference); keys is empty when the config places the table nowhere (it
// stays on the coordinator), and the refusal is the model's.
func Misplaced(m Model, placed, with *Placed) (msg string, keys []string) {
	if placed == nil {
		return "", nil
	}
	is, want, ok := Wanted(m.Dist, *placed, with)
	if ok {
		return "", nil
	}
	if d := m.Dist; d != nil {
		switch {
		case strings.HasSuffix(want, "(colocate_with)"):
			keys = append(keys, "colocate_with")
		case strings.HasSuffix(want, "(shard_count)"):
			keys = append(keys, "shard_count")
		}
		if d.Reference {
			keys = append(keys, "reference")
		} else {
			keys = append(keys, "distributed_by")
		}
	}
	fix := "a load adds rows and never moves those there: rebuild it with --full-refresh -s " + m.Rel.Name
	if m.Config.Materialized == "scd2" {
		fix = "a build adds versions and never moves the rows there: rebuild it with --full-refresh --full-refresh-scd2 -s " + m.Rel.Name + ", which drops its history"
	}
	return fmt.Sprintf("%s is %s, but its config makes it %s; %s", m.Rel, is, want, fix), keys
}

// ShardsMoveTo is the shard count that the distributed table of a model
// or seed configured as c, placed as w, moves to when it is rebuilt: c's
// shard_count, when it has one and the table has another (a new
// colocation group: the tables colocated with it stay in the old one); 0
// when it stays.
func ShardsMoveTo(c project.Config, w Placed) int {
	if !c.OnCitus() || c.Reference || c.ColocateWith != "" || c.ShardCount <= 0 || w.Method != "distributed" || w.Shards == c.ShardCount {
		return 0
	}
	return c.ShardCount
}

// Wanted says whether the table placed as p is where d (nil: on the
// coordinator only) puts it, and if not, where it is and where d puts it.
// Beyond the column (Matches), a distributed table must have the shards
// d's config asks for: those of the table colocate_with names, placed as
// with (nil: not read, or no colocate_with), or else shard_count of them.
// A load never moves rows to other shards either.
func Wanted(d *Distribution, p Placed, with *Placed) (is, want string, ok bool) {
	if d == nil {
		return p.String(), "a table on the coordinator only", p.Method == "local"
	}
	if !d.Matches(p) {
		return p.String(), d.describe(), false
	}
	switch {
	case d.Reference:
	case d.Colocate != nil && with != nil && with.Method == "distributed" && with.Colocation != 0:
		if p.Colocation != with.Colocation {
			return fmt.Sprintf("%s in %s, not colocated with %s (%s)", p, shards(p.Shards), d.ColocateName, shards(with.Shards)),
				fmt.Sprintf("%s, colocated with %s (colocate_with)", d.describe(), d.ColocateName), false
		}
	case d.Colocate == nil && d.ShardCount > 0 && p.Shards > 0:
		if p.Shards != d.ShardCount {
			return fmt.Sprintf("%s in %s", p, shards(p.Shards)), fmt.Sprintf("%s in %s (shard_count)", d.describe(), shards(d.ShardCount)), false
		}
	}
	return "", "", true
}

func shards(n int) string {
	if n == 1 {
		return "1 shard"
	}
	return strconv.Itoa(n) + " shards"
}

// PlacementError is SamePlacement's refusal. Placed: its message starts
// with the position of the config key.
type PlacementError struct {
	Placed bool
	msg    string
}

func (e *PlacementError) Error() string { return e.msg }

// describe says where d puts a table, as Placed says where one is.
func (d Distribution) describe() string {
	if d.Reference {
		return "a reference table"
	}
	return "distributed by " + d.Column
}

// ReferenceIncremental applies the staged rows in from (a reference table
// too, quoted) to target, a Citus reference table, with the strategy.
// Citus has no MERGE into a reference table: merge is an update of the
// rows whose key is there and an insert of the others.
func ReferenceIncremental(strategy string, target pgname.Rel, from string, cols, key []string) []Step {
	list := idents(cols)
	sub := from
	on := make([]string, len(key))
	for i, k := range key {
		on[i] = fmt.Sprintf("t.%s = s.%s", pgname.Ident(k), pgname.Ident(k))
	}
	insert := Step{SQL: fmt.Sprintf("insert into %s (%s)\nselect %s from %s as s", target.Quoted(), list, list, sub), Body: -1}
	switch strategy {
	case "delete+insert":
		del := Step{SQL: fmt.Sprintf("delete from %s as t\nusing %s as s\nwhere %s", target.Quoted(), sub, strings.Join(on, " and ")), Body: -1}
		return []Step{del, insert}
	case "merge":
		isKey := map[string]bool{}
		for _, k := range key {
			isKey[k] = true
		}
		var set []string
		for _, c := range cols {
			if !isKey[c] {
				set = append(set, fmt.Sprintf("%s = s.%s", pgname.Ident(c), pgname.Ident(c)))
			}
		}
		var out []Step
		if len(set) > 0 {
			out = append(out, Step{SQL: fmt.Sprintf("update %s as t set %s\nfrom %s as s\nwhere %s", target.Quoted(), strings.Join(set, ", "), sub, strings.Join(on, " and ")), Body: -1})
		}
		quals := make([]string, len(cols))
		for i, c := range cols {
			quals[i] = "s." + pgname.Ident(c)
		}
		return append(out, Step{SQL: fmt.Sprintf("insert into %s (%s)\nselect %s from %s as s\nwhere not exists (select from %s as t where %s)",
			target.Quoted(), list, strings.Join(quals, ", "), sub, target.Quoted(), strings.Join(on, " and ")), Body: -1})
	}
	return []Step{insert}
}
