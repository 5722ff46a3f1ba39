// Package seed loads a seed, a CSV file (optionally gzipped), into a
// PostgreSQL table: one streaming pass infers the column types and checks
// every row, a second streams the file to COPY. The table is replaced
// atomically, a seed whose file and config are unchanged is skipped, and
// rows appended to the file are appended to the table.
//
// It never holds a whole file in memory and never pastes a name from the file
// into SQL unquoted. It does not read project configuration or print: the
// caller passes Options and receives errors whose messages name the file and
// line.
package seed

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/pgname"
)

// commentPrefix starts the comment that records which file and config a
// seed's table was loaded from. It is the comment on the table's row type,
// not on the table: the table's comment is the seed's description, which
// the runner sets after every load. (strata's format v1 used the table's
// comment; such a record is still read, and replaced when the seed is next
// loaded.)
const commentPrefix = "strata seed "

// progressEvery is the least time between two Progress calls.
const progressEvery = 500 * time.Millisecond

// Result tells what Load did.
type Result struct {
	// Rows is the number of data rows in the file (loaded, or already there
	// when Skipped).
	Rows int64
	// Skipped is true when the table already held this file with this config.
	Skipped bool
	// Columns are the table's columns, in file order.
	Columns []Column
	// Appended is true when the file continued the one the table was
	// loaded from and only its new rows were copied into the table.
	Appended bool
	// AppendedRows counts the rows appended.
	AppendedRows int64
	// Parts is how many connections copied the file side by side (0 when
	// one did, or nothing was copied).
	Parts int
}

// Load loads the CSV file (".csv" or ".csv.gz") into schema.table.
//
// A large file that replaces the table is copied over several connections
// (parallel.go). Otherwise the whole load is one transaction. Normally a
// new table is created under a temporary name, filled with COPY, and
// renamed over the old one, which is dropped: readers see the old rows or
// the new ones, and a failure leaves the old table as it was. Because the table is created in the transaction that
// fills it, COPY writes no WAL when the server runs with wal_level=minimal.
//
// Views depending on the old table would be dropped with it. When there
// are any and the new columns are identical (names, order and types), the
// old table is kept, truncated and refilled in the same transaction;
// otherwise the views are recreated from their definitions on the new table
// in the same transaction (postgres.Swap), and if one of them no longer
// compiles, Load fails naming it and nothing changes.
//
// A comment on the table's row type records the checksum of the file and
// the options that affect loading; when it matches and opts.FullRefresh is
// false, nothing is loaded and Result.Skipped is true.
//
// When the file is the one the table was loaded from with rows added at the
// end, the column types over the whole file are unchanged, and so is the
// config, only the added rows are read and copied into the existing table,
// in one transaction, and Result.Appended is true (see append.go).
func Load(ctx context.Context, conn *pgx.Conn, schema, table, file string, opts Options) (Result, error) {
	if opts.Path == "" {
		opts.Path = file
	}
	name := seedName(opts.Path)
	if err := checkIdent("schema", schema); err != nil {
		return Result{}, fmt.Errorf("seed %q: %w", name, err)
	}
	if err := checkIdent("table", table); err != nil {
		return Result{}, fmt.Errorf("seed %q: %w", name, err)
	}
	delim, err := delimiterByte(opts.Delimiter)
	if err != nil {
		return Result{}, fmt.Errorf("seed %q: %w", name, err)
	}

	rel := pgname.Rel{Schema: schema, Name: table}
	// A table placed otherwise than the config says is replaced in full,
	// which moves it: not appended to, skipped or refilled in place.
	placed := true
	if opts.Citus != nil {
		if kind, err := postgres.RelKind(ctx, conn, rel); err != nil {
			return Result{}, fmt.Errorf("seed %q: %w", name, err)
		} else if kind == "table" {
			if placed, err = opts.Citus.Placed(ctx, conn, rel); err != nil {
				return Result{}, fmt.Errorf("seed %q: %w", name, err)
			}
		}
	}
	if !opts.FullRefresh && placed {
		plan, err := planAppend(ctx, conn, schema, table, file, delim, opts)
		if err != nil {
			return Result{}, fmt.Errorf("seed %q: %w", name, err)
		}
		if plan != nil {
			if res, done, err := loadAppend(ctx, conn, schema, table, file, plan, delim, opts); done {
				return res, err
			}
		}
	}

	if res, done, err := loadParallel(ctx, conn, rel, file, delim, opts); done {
		return res, err
	}

	// Pass 1: infer and check, before the database is touched.
	sc, err := inferFile(ctx, file, opts)
	if err != nil {
		return Result{}, err
	}
	res := Result{Rows: sc.Rows, Columns: sc.Columns}
	comment := encodeComment(sc)

	if !opts.SchemaReady {
		if err := postgres.EnsureSchema(ctx, conn, schema); err != nil {
			return Result{}, fmt.Errorf("seed %q: %w", name, err)
		}
	}

	tx, err := conn.Begin(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("seed %q: %w", name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	target, qualified := rel.Quoted(), rel.String()
	// Two loads of one seed wait for each other instead of interleaving renames.
	if _, err := tx.Exec(ctx, "select pg_advisory_xact_lock(hashtextextended($1, 0))", pgname.SeedLock(rel)); err != nil {
		return Result{}, fmt.Errorf("seed %q: %w", name, err)
	}
	old, err := lookupTable(ctx, tx, schema, table)
	if err != nil {
		return Result{}, fmt.Errorf("seed %q: %w", name, err)
	}
	if old.exists && old.kind != "r" {
		return Result{}, fmt.Errorf("seed %q: %s exists and is not a table (drop it or give the seed another name)", name, qualified)
	}
	if rec, ok := parseComment(old.comment); ok && old.exists && rec.Checksum == sc.Checksum && !opts.FullRefresh && placed {
		res.Skipped = true
		if old.comment == comment {
			return res, nil
		}
		// Loaded by an older strata: record what a later append needs.
		if _, err := tx.Exec(ctx, recordStmt(target, comment, old.legacy)); err != nil {
			return Result{}, fmt.Errorf("seed %q: %w", name, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return Result{}, fmt.Errorf("seed %q: %w", name, err)
		}
		return res, nil
	}

	if err := beforeLoad(ctx, tx, opts); err != nil {
		return Result{}, err // the runner names the seed
	}

	hasViews := false
	if old.exists {
		hasViews, err = hasDependentViews(ctx, tx, old.oid)
		if err != nil {
			return Result{}, fmt.Errorf("seed %q: %w", name, err)
		}
	}
	if opts.Citus != nil {
		if err := opts.Citus.Begin(ctx, tx, hasViews); err != nil {
			return Result{}, fmt.Errorf("seed %q: %w", name, err)
		}
	}

	tmpName := pgname.Temp(table)
	tmp := pgname.Rel{Schema: schema, Name: tmpName}.Quoted()
	var defs strings.Builder
	for i, c := range sc.Columns {
		if i > 0 {
			defs.WriteString(", ")
		}
		defs.WriteString(pgname.Ident(c.Name))
		defs.WriteByte(' ')
		defs.WriteString(c.Type)
	}
	// A leftover of an older strata, which loaded in two transactions, is
	// stale: this load holds the seed's lock.
	if _, err := tx.Exec(ctx, "drop table if exists "+tmp+" cascade; create table "+tmp+" ("+defs.String()+")"); err != nil {
		if len(opts.ColumnTypes) > 0 {
			// A type of column_types the server does not take is the
			// config's mistake: say which, once the transaction is over.
			tx.Rollback(ctx) //nolint:errcheck // the error is the create's
			if bad := BadColumnType(ctx, conn, opts.ColumnTypes, false); bad != nil {
				return Result{}, bad
			}
		}
		return Result{}, fmt.Errorf("seed %q: creating table %s: %w", name, qualified, err)
	}

	if opts.Citus != nil {
		if err := opts.Citus.Distribute(ctx, tx, pgname.Rel{Schema: schema, Name: tmpName}); err != nil {
			return Result{}, fmt.Errorf("seed %q: %w", name, err)
		}
	}

	into := tmp
	if old.exists && placed {
		if hasViews {
			same, err := sameColumns(ctx, tx, old.oid, schema, tmpName)
			if err != nil {
				return Result{}, fmt.Errorf("seed %q: %w", name, err)
			}
			// Refilling in place leaves the views alone, their owners and grants included.
			if same {
				if _, err := tx.Exec(ctx, "drop table "+tmp); err != nil {
					return Result{}, fmt.Errorf("seed %q: %w", name, err)
				}
				err := withLocks(ctx, tx, opts, func() error {
					_, err := tx.Exec(ctx, "truncate table "+target)
					return err
				})
				if err != nil {
					return Result{}, fmt.Errorf("seed %q: %w", name, err)
				}
				into = target
			}
		}
	}

	// Pass 2: stream the file to COPY.
	n, err := copyFile(ctx, conn, into, file, sc, delim, opts)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			if located := locateCopyError(ctx, pgErr, file, sc, opts, 0); located != nil {
				return Result{}, located // placed in the file: the runner prints it as it is
			}
		}
		return Result{}, fmt.Errorf("seed %q: loading %s: %w", name, opts.Path, err)
	}
	if n != sc.Rows {
		return Result{}, fmt.Errorf("seed %q: COPY loaded %d rows, but %s has %d (the file changed while it was loaded; run again)", name, n, opts.Path, sc.Rows)
	}

	on := rel
	if into == tmp {
		on = rel.In(tmpName)
	}
	if err := finishAndAudit(ctx, tx, opts, on, into == target); err != nil {
		return Result{}, err // the runner names the seed
	}
	if into == tmp {
		// What changed in the file's columns, for a view that cannot be
		// recreated on them: the view's error alone (operator does not
		// exist: text >= numeric) does not say that a new value in the
		// file made a column text.
		var changes []string
		if hasViews && old.exists {
			madeBy := func(col string) string { return sc.madeBy(col, opts.Path, opts) }
			if changes, err = columnChanges(ctx, tx, old.oid, schema, tmpName, madeBy); err != nil {
				return Result{}, fmt.Errorf("seed %q: %w", name, err)
			}
		}
		err := withLocks(ctx, tx, opts, func() error {
			return replaceTable(ctx, tx, pgname.Rel{Schema: schema, Name: table}, tmpName, hasViews, opts)
		})
		var de *postgres.DependentError
		if err != nil && len(changes) > 0 && errors.As(err, &de) {
			return Result{}, fmt.Errorf("seed %q: %w. The file's columns changed since the last load: %s (fix the file, or pin a column's type with column_types)", name, err, strings.Join(changes, "; "))
		}
		if err != nil {
			return Result{}, fmt.Errorf("seed %q: %w", name, err)
		}
	}
	if _, err := tx.Exec(ctx, recordStmt(target, comment, old.legacy && into == target)); err != nil {
		return Result{}, fmt.Errorf("seed %q: replacing %s: %w", name, qualified, err)
	}
	if err := beforeCommit(ctx, tx, opts); err != nil {
		return Result{}, err // the runner names the seed
	}
	if err := tx.Commit(ctx); err != nil {
		return Result{}, fmt.Errorf("seed %q: %w", name, err)
	}
	return res, nil
}

// finishAndAudit runs opts.Finish, then opts.Audit, those that are set,
// on tx once the new rows are in rel (refilled: the old table, truncated
// and refilled).
func finishAndAudit(ctx context.Context, tx pgx.Tx, opts Options, rel pgname.Rel, refilled bool) error {
	if opts.Finish != nil {
		if err := opts.Finish(ctx, tx, rel, refilled); err != nil {
			return err
		}
	}
	if opts.Audit != nil {
		return opts.Audit(ctx, tx, rel)
	}
	return nil
}

// beforeCommit runs opts.BeforeCommit, when set, on tx.
func beforeCommit(ctx context.Context, tx pgx.Tx, opts Options) error {
	if opts.BeforeCommit == nil {
		return nil
	}
	return opts.BeforeCommit(ctx, tx)
}

// replaceTable renames the table tmpName, filled, over target, with
// postgres.Swap, which recreates the views that depend on the old table (and
// names the one that cannot be, leaving the rollback to the caller). When
// views depend on it, opts.BeforeSwap runs first.
func replaceTable(ctx context.Context, tx pgx.Tx, target pgname.Rel, tmpName string, hasViews bool, opts Options) error {
	if hasViews && opts.BeforeSwap != nil {
		if err := opts.BeforeSwap(ctx, tx); err != nil {
			return err
		}
	}
	if err := postgres.Swap(ctx, tx, target, pgname.Rel{Schema: target.Schema, Name: tmpName}, "table", postgres.SwapOptions{KeepComment: opts.KeepComment, Redefine: opts.Redefine}); err != nil {
		var de *postgres.DependentError
		var be *postgres.BlockedError
		var he *postgres.HeldError
		if errors.As(err, &de) || errors.As(err, &be) || errors.As(err, &he) || postgres.IsLockTimeout(err) {
			return err
		}
		return fmt.Errorf("replacing %s: %w", target, err)
	}
	return nil
}

// withLocks runs do, which takes the table's exclusive lock, under the
// load's lock policy: each attempt waits for readers a short while, and is
// undone (to a savepoint) and tried again after a pause when a reader
// holds the table longer (postgres.LockPolicy).
func withLocks(ctx context.Context, tx pgx.Tx, opts Options, do func() error) error {
	p := opts.Locks
	if p.Timeout == 0 {
		p = postgres.DefaultLockPolicy
	}
	return p.Retry(ctx, func() error {
		if _, err := tx.Exec(ctx, "savepoint strata_swap; "+p.Set()); err != nil {
			return err
		}
		if err := do(); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, p.Reset()+"; release savepoint strata_swap")
		return err
	}, func() error {
		_, err := tx.Exec(context.WithoutCancel(ctx), "rollback to savepoint strata_swap")
		return err
	}, func() []postgres.LockHolder {
		if opts.Holders == nil {
			return nil
		}
		hs, err := opts.Holders(ctx, tx)
		if err != nil {
			// What failed is not the load's to carry.
			_, _ = tx.Exec(context.WithoutCancel(ctx), "rollback to savepoint strata_swap")
		}
		return hs
	}, func(w postgres.LockWait) {
		if opts.Waiting != nil {
			opts.Waiting(w)
		}
	})
}

// beforeLoad runs opts.BeforeLoad, if any, in the load's transaction.
func beforeLoad(ctx context.Context, tx pgx.Tx, opts Options) error {
	if opts.BeforeLoad == nil {
		return nil
	}
	return opts.BeforeLoad(ctx, tx)
}

// seedName is the seed's name as users know it: the file's base name.
func seedName(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".csv.gz", ".csv"} {
		if strings.HasSuffix(base, ext) {
			return strings.TrimSuffix(base, ext)
		}
	}
	return base
}

func checkIdent(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s name is empty", what)
	case len(s) > pgname.MaxIdent:
		return fmt.Errorf("%s name %q is longer than %d bytes", what, s, pgname.MaxIdent)
	case strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s):
		return fmt.Errorf("%s name %q is not valid", what, s)
	}
	return nil
}

// openFile opens a seed file, decompressing ".gz" files. raw counts the
// bytes read from the file itself.
func openFile(file string, raw io.Writer) (io.Reader, func() error, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	var r io.Reader = f
	if raw != nil {
		r = io.TeeReader(f, raw)
	}
	if !strings.HasSuffix(file, ".gz") {
		return r, f.Close, nil
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(r, 256<<10))
	if err != nil {
		f.Close()
		return nil, nil, notGzipError{err}
	}
	return zr, func() error { zr.Close(); return f.Close() }, nil
}

// notGzipError is a .csv.gz file that gzip cannot read.
type notGzipError struct{ err error }

func (e notGzipError) Error() string { return "not a gzip file: " + e.err.Error() }
func (e notGzipError) Unwrap() error { return e.err }

// openError is what openFile's err means to the user, placed at the file
// (opts.Path) rather than at the absolute path that was opened.
func openError(opts Options, err error) error {
	var gz notGzipError
	var pe *fs.PathError
	switch {
	case errors.As(err, &gz):
		return diag.Diagnostic{Pos: diag.Pos{File: opts.Path}, Msg: "not a gzip file, though its name ends in .gz (" + gz.err.Error() + "): compress it with gzip, or name it .csv"}
	case errors.As(err, &pe):
		return diag.Diagnostic{Pos: diag.Pos{File: opts.Path}, Msg: "cannot read the file: " + pe.Err.Error()}
	}
	return err
}

// Header reads only the header row of the seed file at file (of a .csv.gz,
// only as much as it takes to decompress that row), so that validate can
// check column_types against the column names without reading the data.
// opts.Path names the file in errors; opts.Delimiter separates the names.
func Header(ctx context.Context, file string, opts Options) ([]string, error) {
	delim, err := delimiterByte(opts.Delimiter)
	if err != nil {
		return nil, err
	}
	r, closeFile, err := openFile(file, nil)
	if err != nil {
		// A file that is not there is a warning of the project's, and one
		// that cannot be opened is left to the seed command.
		if errors.As(err, new(notGzipError)) {
			return nil, openError(opts, err)
		}
		return nil, err
	}
	defer closeFile()
	s := newScanner(ctx, r, nil, opts.Path, delim)
	if err := s.next(); err == io.EOF {
		return nil, diag.Diagnostic{Pos: diag.Pos{File: opts.Path}, Msg: "the file is empty (expected a header row with the column names)"}
	} else if err != nil {
		return nil, err
	}
	cols, err := header(s)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names, nil
}

func inferFile(ctx context.Context, file string, opts Options) (Schema, error) {
	r, closeFile, err := openFile(file, nil)
	if err != nil {
		return Schema{}, openError(opts, err)
	}
	defer closeFile()
	sc, err := infer(ctx, r, opts)
	if err != nil {
		var d diag.Diagnostic
		if errors.As(err, &d) {
			return Schema{}, err
		}
		return Schema{}, fmt.Errorf("seed %q: reading %s: %w", seedName(opts.Path), opts.Path, err)
	}
	return sc, nil
}

type tableInfo struct {
	exists  bool
	oid     uint32
	kind    string
	comment string // the record: the row type's comment, or a v1 record
	legacy  bool   // the record is a v1 one in the table's comment
}

// recordColumns selects, from pg_class c, the comments that may hold a
// seed's record: the row type's and the table's.
const recordColumns = "obj_description(c.reltype, 'pg_type'), obj_description(c.oid, 'pg_class')"

// recordOf picks the record from the comments selected by recordColumns.
func recordOf(typeComment, tableComment *string) (comment string, legacy bool) {
	switch {
	case typeComment != nil:
		return *typeComment, false
	case tableComment != nil && strings.HasPrefix(*tableComment, commentPrefix+"sha256:"):
		return *tableComment, true
	}
	return "", false
}

// recordStmt writes comment as the record of the table named by target
// (quoted), and removes a v1 record from the table's comment.
func recordStmt(target, comment string, legacy bool) string {
	stmt := "comment on type " + target + " is " + pgname.Literal(comment)
	if legacy {
		stmt += "; comment on table " + target + " is null"
	}
	return stmt
}

func lookupTable(ctx context.Context, tx pgx.Tx, schema, table string) (tableInfo, error) {
	var t tableInfo
	var typeComment, tableComment *string
	err := tx.QueryRow(ctx, `
		select c.oid, c.relkind::text, `+recordColumns+`
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = $1 and c.relname = $2`, schema, table).Scan(&t.oid, &t.kind, &typeComment, &tableComment)
	if errors.Is(err, pgx.ErrNoRows) {
		return tableInfo{}, nil
	}
	if err != nil {
		return tableInfo{}, err
	}
	t.exists = true
	t.comment, t.legacy = recordOf(typeComment, tableComment)
	return t, nil
}

// hasDependentViews tells whether views or materialized views read the table.
func hasDependentViews(ctx context.Context, tx pgx.Tx, oid uint32) (bool, error) {
	var has bool
	err := tx.QueryRow(ctx, `
		select exists (
			select from pg_depend d
			join pg_rewrite r on r.oid = d.objid
			where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
			  and d.refobjid = $1 and r.ev_class <> $1)`, oid).Scan(&has)
	return has, err
}

// sameColumns compares the columns of the old table with the new one, as
// the server spells the types, so "varchar(20)" equals "character varying(20)".
func sameColumns(ctx context.Context, tx pgx.Tx, old uint32, schema, tmp string) (bool, error) {
	var same bool
	err := tx.QueryRow(ctx, `
		with cols as (
			select a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) as typ
			from pg_attribute a
			where a.attnum > 0 and not a.attisdropped
		), o as (
			select row_number() over (order by attnum) as i, attname, typ from cols where attrelid = $1
		), t as (
			select row_number() over (order by attnum) as i, attname, typ from cols
			where attrelid = (select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
			                  where n.nspname = $2 and c.relname = $3)
		)
		select not exists (
			select from o full join t using (i)
			where o.attname is distinct from t.attname or o.typ is distinct from t.typ)`, old, schema, tmp).Scan(&same)
	return same, err
}

// columnChanges says, by name, how the columns of the table schema.tmp
// differ from those of the table old: "amount is text, was numeric",
// "column note is new", "column name is gone"; nothing when only their
// order changed. madeBy adds to a column whose type changed what made it
// that type ("n/a" at seeds/o.csv:3:3 made it text).
func columnChanges(ctx context.Context, tx pgx.Tx, old uint32, schema, tmp string, madeBy func(col string) string) ([]string, error) {
	rows, err := tx.Query(ctx, `
		with cols as (
			select a.attrelid, a.attnum, a.attname::text as name, format_type(a.atttypid, a.atttypmod) as typ
			from pg_attribute a
			where a.attnum > 0 and not a.attisdropped
		), o as (
			select attnum, name, typ from cols where attrelid = $1
		), t as (
			select attnum, name, typ from cols
			where attrelid = (select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
			                  where n.nspname = $2 and c.relname = $3)
		)
		select coalesce(t.name, o.name), o.typ, t.typ
		from o full join t using (name)
		where o.typ is distinct from t.typ
		order by coalesce(t.attnum, 10000 + o.attnum)`, old, schema, tmp)
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		var col string
		var was, now *string
		if err := rows.Scan(&col, &was, &now); err != nil {
			return nil, err
		}
		switch {
		case was == nil:
			out = append(out, "column "+col+" is new")
		case now == nil:
			out = append(out, "column "+col+" is gone")
		default:
			out = append(out, col+" is "+*now+", was "+*was+madeBy(col))
		}
	}
	return out, rows.Err()
}

// copyFile streams the file to COPY into the table named by into (quoted).
// It hashes what it sends and fails if that differs from what inference read.
func copyFile(ctx context.Context, conn *pgx.Conn, into, file string, sc Schema, delim byte, opts Options) (int64, error) {
	var total int64
	if st, err := os.Stat(file); err == nil {
		total = st.Size()
	}
	counter := &progress{fn: opts.Progress, total: total}
	r, closeFile, err := openFile(file, counter)
	if err != nil {
		return 0, err
	}
	defer closeFile()
	h := sha256.New()
	return copyIn(ctx, conn, &trimReader{r: io.TeeReader(r, h)}, into, sc.Columns, "header true, ", delim, counter, h, opts.ColumnTypes, sc.state.blank, sc.Checksum)
}

// copyIn runs COPY of the CSV in r into the table named by into (quoted), with
// the columns cols (options: extra COPY options, such as a header), and then
// checks that h, which r fed, still gives the checksum want: the file did not
// change between inference and load.
func copyIn(ctx context.Context, conn *pgx.Conn, r io.Reader, into string, cols []Column, options string, delim byte, counter *progress, h hash.Hash, types map[string]string, blank int, want string) (int64, error) {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = pgname.Ident(c.Name)
	}
	sql := fmt.Sprintf("copy %s (%s) from stdin with (format csv, %sdelimiter %s)", into, strings.Join(names, ", "), options, pgname.Literal(string(delim)))
	tag, err := conn.PgConn().CopyFrom(ctx, r, sql)
	if err != nil {
		return 0, err
	}
	counter.finish()
	if checksumOf(h, delim, types, blank) != want {
		return 0, errors.New("the file changed while it was loaded (run again)")
	}
	return tag.RowsAffected(), nil
}

func checksumOf(h hash.Hash, delim byte, types map[string]string, blank int) string {
	writeConfig(h, delim, types, blank)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// progress counts the bytes read from the file and reports them, throttled.
type progress struct {
	fn          func(done, total int64)
	done, total int64
	last        time.Time
}

func (p *progress) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.fn != nil {
		if now := time.Now(); now.Sub(p.last) >= progressEvery {
			p.last = now
			p.fn(p.done, p.total)
		}
	}
	return len(b), nil
}

func (p *progress) finish() {
	if p.fn != nil {
		p.fn(p.done, max(p.total, p.done))
	}
}

// copyContext matches the CONTEXT of a COPY error, e.g.
// `COPY t, line 3, column amount: "x"`. COPY counts physical lines, header
// included, and names the line on which the record ends.
var copyContext = regexp.MustCompile(`^COPY .+?, line ([0-9]+)(, column .*)?`)

// locateCopyError turns a COPY error into a diagnostic at the line and column
// of the value it names, or returns nil when it names none. COPY's line 1
// is the file's line 1+lineBase.
func locateCopyError(ctx context.Context, pgErr *pgconn.PgError, file string, sc Schema, opts Options, lineBase int) error {
	m := copyContext.FindStringSubmatch(pgErr.Where)
	if m == nil {
		return nil
	}
	endLine, err := strconv.Atoi(m[1])
	if err != nil || endLine < 1 {
		return nil
	}
	endLine += lineBase
	col, colName := -1, ""
	for i, c := range sc.Columns {
		if strings.HasPrefix(m[2], ", column "+c.Name+": ") && len(c.Name) > len(colName) {
			col, colName = i, c.Name
		}
	}
	line, pos := recordPos(ctx, file, opts, endLine, col)
	if line == 0 {
		return nil
	}
	msg := pgErr.Message
	if col >= 0 {
		msg = fmt.Sprintf("column %q: %s", colName, msg)
	}
	return &CopyError{Diagnostic: diag.Diagnostic{Pos: diag.Pos{File: opts.Path, Line: line, Col: pos}, Msg: msg}, Column: colName, pg: pgErr}
}

// CopyError is a database error during COPY, placed in the CSV file: a
// value that the type of its column does not take. Column is the column
// the error names, "" if none: when column_types set its type, the runner
// says where (Note).
type CopyError struct {
	diag.Diagnostic
	Column string
	pg     *pgconn.PgError
}

func (e *CopyError) Unwrap() []error { return []error{e.Diagnostic, e.pg} }

// Note returns the error with note added to its message, in parentheses.
func (e *CopyError) Note(note string) *CopyError {
	c := *e
	c.Msg += " (" + note + ")"
	return &c
}

// recordPos reads the file again to find the record that ends on endLine,
// and returns where it starts, or where its field col starts when col >= 0;
// 0 if there is no such record.
func recordPos(ctx context.Context, file string, opts Options, endLine, col int) (line, pos int) {
	delim, err := delimiterByte(opts.Delimiter)
	if err != nil {
		return 0, 0
	}
	r, closeFile, err := openFile(file, nil)
	if err != nil {
		return 0, 0
	}
	defer closeFile()
	s := newScanner(ctx, r, nil, opts.Path, delim)
	for s.next() == nil {
		last := s.fields[len(s.fields)-1]
		if end, _ := s.posOf(last.end); end < endLine {
			continue
		}
		if col < 0 || col >= len(s.fields) {
			return s.recLine, 0
		}
		f := s.fields[col]
		return s.posOf(f.start - btoi(f.quoted))
	}
	return 0, 0
}

// InferFile reads the seed file at file (a .csv or .csv.gz) as Load would
// and returns the table Load would create, without loading it: the types
// strata check gives the seed's empty table.
func InferFile(ctx context.Context, file string, opts Options) (Schema, error) {
	return inferFile(ctx, file, opts)
}

// trimReader passes on what it reads but for the blank lines at the end
// (trailingBlank), which COPY would refuse (or load as NULL rows into a
// table of one column): it holds back the line breaks at the end of what
// it has read until a byte of something else follows them. What it reads
// starts where a record starts (a file, or the rows appended to one).
type trimReader struct {
	r    io.Reader
	buf  []byte
	out  []byte // to be read
	held []byte // line breaks at the end of what was read
	data bool   // something else than line breaks was read
	eof  bool
}

func (t *trimReader) Read(p []byte) (int, error) {
	for len(t.out) == 0 {
		if t.eof {
			return 0, io.EOF
		}
		if t.buf == nil {
			t.buf = make([]byte, 64<<10)
		}
		n, err := t.r.Read(t.buf)
		b := t.buf[:n]
		i := n
		for i > 0 && (b[i-1] == '\n' || b[i-1] == '\r') {
			i--
		}
		if i > 0 {
			t.out = append(append(t.out[:0], t.held...), b[:i]...)
			t.held = t.held[:0]
			t.data = true
		}
		t.held = append(t.held, b[i:]...)
		if err == io.EOF {
			t.eof = true
			if t.data {
				// The first line break held ends the last record.
				keep, _ := trailingBlank(append([]byte{'x'}, t.held...))
				t.out = append(t.out, t.held[:keep-1]...)
			} // else only blank lines were read
		} else if err != nil {
			return 0, err
		}
	}
	n := copy(p, t.out)
	t.out = t.out[n:]
	return n, nil
}
