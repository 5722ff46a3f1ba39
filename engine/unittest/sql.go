package unittest

import (
	"encoding/json"
	"fmt"
	"strings"

	"strata/engine/adapter/postgres"
	"strata/engine/materialize"
	"strata/engine/pgname"
	"strata/engine/project"
)

// Column is a column and its type as format_type prints it.
type Column = postgres.Column

// The temporary tables of a unit test live in the session's own schema,
// named so that no model's name can collide.
const (
	actualName   = pgname.Reserved + "unit_actual"
	expectedName = pgname.Reserved + "unit_expected"
	// expectedQueryName keeps the rows of an expect of format sql, read
	// back as text and loaded as written rows are.
	expectedQueryName = pgname.Reserved + "unit_expected_query"
)

// inputName is the temporary table of input i, named after its node for
// readable errors.
func inputName(i int, node string) string {
	return pgname.Fit(fmt.Sprintf("%sgiven_%d_%s", pgname.Reserved, i, node))
}

// temp is the temporary relation called name.
func temp(name string) pgname.Rel { return pgname.Rel{Schema: "pg_temp", Name: name} }

// createTable is the temporary table of cols, dropped with the transaction.
func createTable(rel pgname.Rel, cols []Column) string {
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = pgname.Ident(c.Name) + " " + c.Type
	}
	return "create temporary table " + rel.Quoted() + " (" + strings.Join(defs, ", ") + ") on commit drop"
}

// insertRows puts rows into rel: each value a quoted literal that
// PostgreSQL converts to its column's type (the columns left out are
// NULL). "" when there are no rows.
func insertRows(rel pgname.Rel, r *project.UnitRows) string {
	if len(r.Rows) == 0 || len(r.Columns) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("insert into " + rel.Quoted() + " (")
	for i, c := range r.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgname.Ident(c))
	}
	b.WriteString(") values")
	for i, row := range r.Rows {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n(")
		for k, c := range r.Columns {
			if k > 0 {
				b.WriteString(", ")
			}
			b.WriteString(literal(row.Values[c]))
		}
		b.WriteString(")")
	}
	return b.String()
}

// literal is v as an untyped SQL literal (its column's type converts it), or NULL.
func literal(v *string) string {
	if v == nil {
		return "NULL"
	}
	return pgname.Literal(*v)
}

// describeQuery returns no row of an SQL query, only its columns.
func describeQuery(sql string) materialize.Step {
	prefix := "select * from (\n"
	return materialize.Step{SQL: prefix + materialize.Body(sql) + "\n) as strata_given limit 0", Body: len([]rune(prefix))}
}

// insertQuery puts the rows of an SQL query into rel, its columns (cols,
// as the query names them) into rel's columns of the same names, as in
// dbt, where the query stands for the input; the others are NULL.
func insertQuery(rel pgname.Rel, cols []string, sql string) materialize.Step {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = pgname.Ident(c)
	}
	prefix := "insert into " + rel.Quoted() + " (" + strings.Join(names, ", ") + ") select * from (\n"
	return materialize.Step{SQL: prefix + materialize.Body(sql) + "\n) as strata_given", Body: len([]rune(prefix))}
}

// createActual keeps the model's output in a temporary table.
func createActual(body string) materialize.Step {
	prefix := "create temporary table " + temp(actualName).Quoted() + " on commit drop as (\n"
	return materialize.Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// createExpectedQuery keeps the rows of an expect of format sql.
func createExpectedQuery(sql string) materialize.Step {
	prefix := "create temporary table " + temp(expectedQueryName).Quoted() + " on commit drop as (\n"
	return materialize.Step{SQL: prefix + materialize.Body(sql) + "\n)", Body: len([]rune(prefix))}
}

// comparedType is typ without the length, precision or fields that would
// round or cut an expected value to fit: an expected 10.499 must not equal
// an actual 10.50 in a numeric(12,2) column, nor "NYC" an actual "NY" in
// a character varying(2), as a cast to the column's own type would make
// them. Both sides are compared as this type. A date is compared as a
// timestamp, whose text it would cut to its day.
func comparedType(typ string) string {
	arr := ""
	for strings.HasSuffix(typ, "[]") {
		arr += "[]"
		typ = strings.TrimSuffix(typ, "[]")
	}
	base := typ
	if i := strings.IndexByte(typ, '('); i >= 0 {
		if j := strings.IndexByte(typ[i:], ')'); j >= 0 {
			base = typ[:i] + typ[i+j+1:]
		}
	}
	switch {
	case base == "numeric", base == "character varying",
		base == "timestamp without time zone", base == "timestamp with time zone",
		base == "time without time zone", base == "time with time zone":
		return base + arr
	case base == "character":
		return "bpchar" + arr
	case base == "bit":
		return "bit varying" + arr
	case base == "interval", strings.HasPrefix(base, "interval "):
		return "interval" + arr
	case base == "date":
		// A date reads a timestamp's text by dropping its time: an
		// expected 2024-01-05 10:00:00 must not equal an actual 2024-01-05.
		return "timestamp without time zone" + arr
	}
	return typ + arr
}

// compared are cols with their compared types.
func compared(cols []Column) []Column {
	out := make([]Column, len(cols))
	for i, c := range cols {
		out[i] = Column{Name: c.Name, Type: comparedType(c.Type)}
	}
	return out
}

// comparable is column c (an actual column) as compared: cast to its
// compared type (comparedType), and types that have no equality (json, xml, geometric types) as
// jsonb or text.
func comparable(c Column) string {
	typ := comparedType(c.Type)
	e := "cast(" + pgname.Ident(c.Name) + " as " + typ + ")"
	switch base := strings.TrimSuffix(typ, "[]"); base {
	case "json":
		if strings.HasSuffix(c.Type, "[]") {
			return e + "::text"
		}
		return e + "::jsonb"
	case "xml", "point", "line", "lseg", "box", "path", "polygon", "circle":
		return e + "::text"
	}
	return e
}

// shown is column c (an actual column, as compared) as a difference shows
// it: as the actual column's type prints it when that loses nothing (an
// expected 10.5 shows as the 10.50 of a numeric(12,2), beside the actual
// 10.50), else as compared (10.499, which that column would round).
func shown(c Column) string {
	x := pgname.Ident(c.Name)
	// An array of dates shows as dates when its timestamps are days (a
	// date never fails to hold a timestamp's day).
	if c.Type == "date[]" {
		return "case when cast(cast(" + x + " as date[]) as timestamp without time zone[]) = " + x + " then cast(" + x + " as date[])::text else " + x + "::text end"
	}
	// Another array shows as compared: rounding it element by element
	// would fail on an element too large for the column's type.
	if comparedType(c.Type) == c.Type || strings.HasSuffix(c.Type, "]") {
		return x + "::text"
	}
	own := "cast(" + x + " as " + c.Type + ")"
	fits := own + " = " + x
	var p, sc int
	if n, _ := fmt.Sscanf(c.Type, "numeric(%d,%d)", &p, &sc); n == 2 {
		// A number too large for the column is no error here: the
		// cast is only made of one that fits.
		fits = fmt.Sprintf("%s = round(%s, %d) and abs(%s) < 1e%d", x, x, sc, x, p-sc)
	}
	return "case when " + fits + " then " + own + "::text else " + x + "::text end"
}

// diffQuery returns the rows only in expected ("-") and only in actual
// ("+"), over cols (the actual columns the expected ones name), as
// multisets: a row expected twice and produced once is one "-" row. NULL
// equals NULL and numbers compare by value, as EXCEPT ALL does. Values
// come back as text, in an order that puts a row's two versions side by
// side.
func diffQuery(cols []Column) string {
	sel := make([]string, len(cols))
	txt := make([]string, len(cols))
	order := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = comparable(c) + " as " + pgname.Ident(c.Name)
		txt[i] = shown(c)
		order[i] = fmt.Sprint(i + 2)
	}
	list := strings.Join(sel, ", ")
	exp, act := temp(expectedName).Quoted(), temp(actualName).Quoted()
	return fmt.Sprintf(`with e as (select %[1]s from %[2]s except all select %[1]s from %[3]s),
a as (select %[1]s from %[3]s except all select %[1]s from %[2]s)
select '-' as strata_side, %[4]s from e
union all
select '+', %[4]s from a
order by %[5]s, 1`, list, exp, act, strings.Join(txt, ", "), strings.Join(order, ", "))
}

// diffInline is diffQuery for the fast path: the expected rows are a CTE
// of the one query, not a table, each expected value cast to its column's
// compared type.
func diffInline(cols []Column, r *project.UnitRows) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = pgname.Ident(c.Name)
	}
	var exp strings.Builder
	if len(r.Rows) == 0 {
		exp.WriteString("select ")
		for i, c := range cols {
			if i > 0 {
				exp.WriteString(", ")
			}
			exp.WriteString("cast(null as " + comparedType(c.Type) + ") as " + names[i])
		}
		exp.WriteString(" where false")
	} else {
		exp.WriteString("values ")
		for k, row := range r.Rows {
			if k > 0 {
				exp.WriteString(",\n")
			}
			exp.WriteString("(")
			for i, c := range cols {
				if i > 0 {
					exp.WriteString(", ")
				}
				exp.WriteString("cast(" + literal(row.Values[c.Name]) + " as " + comparedType(c.Type) + ")")
			}
			exp.WriteString(")")
		}
	}
	q := diffQuery(cols)
	q = strings.ReplaceAll(q, temp(expectedName).Quoted(), "strata_expected")
	q = strings.TrimPrefix(q, "with ")
	return "with strata_expected (" + strings.Join(names, ", ") + ") as (\n" + exp.String() + "\n),\n" + q
}

// typesTag quotes the body of sameTypes' block.
const typesTag = "$strata_types$"

// sameTypes is a statement that fails unless the model's output (the
// temporary table of createActual) has exactly cols, in their order and
// of their types.
func sameTypes(cols []Column) string {
	names := make([]string, len(cols))
	types := make([]string, len(cols))
	for i, c := range cols {
		names[i] = pgname.Literal(c.Name)
		types[i] = pgname.Literal(c.Type)
	}
	array := func(vals []string) string {
		return "array[" + strings.Join(vals, ", ") + "]::text[]"
	}
	return "do " + typesTag + " begin\n" +
		"if (select array_agg(attname::text order by attnum) is not distinct from " + array(names) +
		" and array_agg(format_type(atttypid, atttypmod) order by attnum) is not distinct from " + array(types) + "\n" +
		"    from pg_attribute where attrelid = " + pgname.Literal(temp(actualName).Quoted()) + "::regclass and attnum > 0 and not attisdropped) is not true then\n" +
		"  raise exception 'the output of the model has other columns or types than strata check found';\n" +
		"end if;\nend " + typesTag
}

// probe is a query that fails when v does not convert to typ.
func probe(v, typ string) string {
	return "select cast(" + pgname.Literal(v) + " as " + typ + ")"
}

// arrayRows are rows with each value written as a YAML or JSON list (as
// a given or expected row holds a list) made a PostgreSQL array literal
// where its column is an array: [a, b] is {"a","b"} in a text[] column.
// rows itself when no column is an array.
func arrayRows(rows *project.UnitRows, cols []Column) *project.UnitRows {
	arrays := map[string]bool{}
	for _, c := range cols {
		if strings.HasSuffix(c.Type, "[]") {
			arrays[c.Name] = true
		}
	}
	if len(arrays) == 0 {
		return rows
	}
	out := *rows
	out.Rows = make([]project.UnitRow, len(rows.Rows))
	for i, row := range rows.Rows {
		out.Rows[i] = row
		out.Rows[i].Values = make(map[string]*string, len(row.Values))
		for c, v := range row.Values {
			if v != nil && arrays[c] && strings.HasPrefix(*v, "[") {
				var list []any
				dec := json.NewDecoder(strings.NewReader(*v))
				dec.UseNumber()
				if dec.Decode(&list) == nil {
					s := arrayLiteral(list)
					v = &s
				}
			}
			out.Rows[i].Values[c] = v
		}
	}
	return &out
}

// arrayLiteral is list as PostgreSQL writes an array: {"a","b"}, nested
// lists as nested braces, null as NULL.
func arrayLiteral(list []any) string {
	var b strings.Builder
	b.WriteString("{")
	for i, e := range list {
		if i > 0 {
			b.WriteString(",")
		}
		switch e := e.(type) {
		case nil:
			b.WriteString("NULL")
		case []any:
			b.WriteString(arrayLiteral(e))
		default:
			var s string
			switch e := e.(type) {
			case string:
				s = e
			case json.Number:
				s = e.String()
			case bool:
				s = fmt.Sprint(e)
			default: // a mapping: its JSON, for json[] and jsonb[]
				j, _ := json.Marshal(e)
				s = string(j)
			}
			b.WriteString(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`)
		}
	}
	b.WriteString("}")
	return b.String()
}
