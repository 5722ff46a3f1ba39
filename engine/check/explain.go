package check

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/manifest"
)

// explain turns the database's error for job j (from stmt, in which the
// user's SQL starts at body, or -1) into a diagnostic at the user's file,
// saying why check met it where that is check's doing: the privileges its
// statements need, the locks it takes, a model that writes data.
func (c *checker) explain(j *job, err error, stmt string, body int) error {
	ex := postgres.Explain(err, stmt, max(body, 0))
	var pg *pgconn.PgError
	errors.As(err, &pg)
	var placed error = diag.Diagnostic{Pos: j.n.Pos, Msg: ex.Error()}
	if j.res.SQL != "" && body >= 0 {
		placed = j.res.SQLError(j.n, ex)
	}
	hint := c.hint(j, pg)
	if hint == "" {
		return placed
	}
	var d diag.Diagnostic
	errors.As(placed, &d)
	d.Msg += "; " + hint
	return d
}

var (
	deniedRe = regexp.MustCompile(`^permission denied for (schema|database) (.+)$`)
	ownerRe  = regexp.MustCompile(`^must be owner of (?:table|view|materialized view|relation) (.+)$`)
)

// hint says why check met pg, when that is check's own doing.
func (c *checker) hint(j *job, pg *pgconn.PgError) string {
	if pg == nil {
		return ""
	}
	switch {
	case pg.Code == "0A000" && strings.Contains(pg.Message, "data-modifying"):
		return "the model's SQL changes data (a data-modifying statement in WITH): check creates each model as a view and never runs it, and PostgreSQL refuses such a view; a model is a query, so move the change to a hook"
	case pg.Code == "42501":
		if m := deniedRe.FindStringSubmatch(pg.Message); m != nil {
			what := "the model's view"
			if !j.view {
				what = "the " + j.as
			}
			return fmt.Sprintf("check needs the CREATE privilege on %s %s to create %s there, inside its rolled-back transaction (grant create on %s %s to the target's role)", m[1], m[2], what, m[1], m[2])
		}
		if m := ownerRe.FindStringSubmatch(pg.Message); m != nil {
			return fmt.Sprintf("check renames %s aside inside its rolled-back transaction, to stand the new definition in for it, which only its owner may do (check with the role that builds it)", m[1])
		}
	case pg.Code == "55P03" && c.opt.LeaveExisting:
		// Nothing that exists is renamed aside: the lock is one a reader
		// takes, on a relation the SQL reads, which another session holds
		// exclusively (a DDL in an open transaction).
		return "another session holds a relation it reads locked (ALTER TABLE or another DDL in a transaction that has not ended, say) longer than lock_timeout"
	case pg.Code == "55P03":
		return fmt.Sprintf("check renames %s aside inside its rolled-back transaction, which needs a lock on it, and another session held it longer than lock_timeout; try again when it is free", j.n.Relation)
	case pg.Code == "57014":
		return "a statement of check ran longer than statement_timeout"
	case pg.Code == "42703":
		return c.standInHint(j)
	}
	return ""
}

// standInHint says, of job j whose SQL names a column that does not
// exist, which of the sources it reads are not on the target and were
// stood in by an empty table of the columns their YAML declares: the
// column may be one the real table has and the YAML does not declare.
func (c *checker) standInHint(j *job) string {
	var names []string
	for _, p := range c.parents(j.n) {
		pj := c.byID[p]
		if pj == nil || pj.n.Kind != manifest.Source || pj.as != "declared table" {
			continue
		}
		names = append(names, fmt.Sprintf("source %s (declared at %s)", pj.n.Name, pj.n.Pos))
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("%s is not on the target, so check stood in an empty table of the columns its YAML declares; if the column is one of its table's, declare it there with its data_type", strings.Join(names, " and "))
}

// schemaError is why check could not create schema.
func schemaError(schema string, err error) error {
	ex := postgres.Explain(err, "", 0)
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "42501" {
		if m := deniedRe.FindStringSubmatch(pg.Message); m != nil && m[1] == "database" {
			return fmt.Errorf("cannot create schema %s: %v; check creates the schemas it needs inside its rolled-back transaction, which needs the CREATE privilege on database %s (grant create on database %s to the target's role, or create the schema)", schema, ex, m[2], m[2])
		}
	}
	return fmt.Errorf("cannot create schema %s: %v", schema, ex)
}
