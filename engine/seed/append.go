package seed

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	"strata/engine/pgname"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Appending.
//
// History files grow by appending rows: yesterday's file is a byte prefix of
// today's. Reading and COPYing the whole file again to add a few rows would
// cost as much as the first load, so the seed's record (the comment on the
// table's row type, see commentPrefix) holds, besides the checksum, where
// the file ended and what each column's values allowed it to be (format v2,
// see record). The next load reads the recorded length of the new file into
// the checksum first; when that prefix has the recorded checksum (so it is
// the old file, loaded with the same config), only the rest is scanned,
// starting from the recorded kinds, which gives exactly the types inference
// over the whole file would give. When they equal the table's, just the new
// rows are COPYed into the existing table, and the record is updated, in one
// transaction. Anything else (a changed prefix, a shorter file, a type
// change, a CSV error, a table changed meanwhile) falls back to the full
// load, which also reports errors.
//
// The old file may end without a line break after its last row. Its end is
// then not the end of a record in the new file unless a line break follows
// at once (else the last value itself was extended): the append starts
// after that line break, or not at all.

// commentV2 starts a record in format v2: JSON after the prefix.
// Version 1 was commentPrefix followed by the checksum alone.
const commentV2 = commentPrefix + "v2 "

// record is what the record says about the loaded file.
type record struct {
	// Checksum covers the file's bytes and the config (Schema.Checksum).
	Checksum string `json:"checksum"`
	// Bytes is the file's length, uncompressed; 0 in a v1 comment.
	Bytes int64 `json:"bytes"`
	Rows  int64 `json:"rows"`
	// Line is the physical line on which a next record would start.
	Line int `json:"line"`
	// EOL is the line ending style: "lf", "crlf", or "" when no line ended.
	EOL string `json:"eol,omitempty"`
	// Open says the last record is not followed by a line break.
	Open bool `json:"open,omitempty"`
	// Blank counts the blank lines at the end of the file, which are not
	// rows: rows appended after them would make them rows (or errors), so
	// a file that continues such a file is loaded in full.
	Blank   int            `json:"blank,omitempty"`
	Columns []recordColumn `json:"columns"`
}

type recordColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Kinds is the inference mask: the kinds all non-empty values can be read as.
	Kinds uint8 `json:"kinds"`
	// Seen says the column has a non-empty value.
	Seen bool `json:"seen,omitempty"`
}

var eolNames = map[int]string{eolUnknown: "", eolLF: "lf", eolCRLF: "crlf"}

// encodeComment is the record of sc.
func encodeComment(sc Schema) string {
	st := sc.state
	rec := record{Checksum: sc.Checksum, Bytes: st.bytes, Rows: sc.Rows, Line: st.line, EOL: eolNames[st.eol], Open: st.open, Blank: st.blank}
	for i, c := range sc.Columns {
		rc := recordColumn{Name: c.Name, Type: c.Type}
		if i < len(st.kinds) {
			rc.Kinds, rc.Seen = st.kinds[i], st.seen[i]
		}
		rec.Columns = append(rec.Columns, rc)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		panic(err) // strings and numbers only
	}
	return commentV2 + strings.TrimSuffix(b.String(), "\n")
}

// parseComment reads a comment written by encodeComment or by strata's
// format v1. ok is false for any other comment. A v1 record has only the
// checksum (Bytes is 0): it can tell an unchanged file, not an appended one.
func parseComment(c string) (rec record, ok bool) {
	if rest, found := strings.CutPrefix(c, commentV2); found {
		dec := json.NewDecoder(strings.NewReader(rest))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil || dec.More() {
			return record{}, false
		}
		eolOK := rec.EOL == "" || rec.EOL == "lf" || rec.EOL == "crlf"
		if !strings.HasPrefix(rec.Checksum, "sha256:") || rec.Bytes <= 0 || rec.Rows < 0 || rec.Line < 1 || rec.Blank < 0 || !eolOK || len(rec.Columns) == 0 {
			return record{}, false
		}
		for _, c := range rec.Columns {
			if c.Kinds&^kAll != 0 {
				return record{}, false
			}
		}
		return rec, true
	}
	if sum, found := strings.CutPrefix(c, commentPrefix); found && strings.HasPrefix(sum, "sha256:") && !strings.ContainsAny(sum, " {") {
		return record{Checksum: sum}, true
	}
	return record{}, false
}

func eolOf(name string) int {
	for k, v := range eolNames {
		if v == name {
			return k
		}
	}
	return eolUnknown
}

// appendPlan is what the first pass found in a file that continues the one
// the table was loaded from.
type appendPlan struct {
	comment   string // the record the plan is based on
	unchanged bool   // the file is the old one
	sc        Schema // the whole new file
	tailOff   int64  // offset (uncompressed) of the first byte to COPY
	tailLine  int    // physical line of that byte
	tailRows  int64
	prefix    hash.Hash // the checksum's state after tailOff bytes
}

// planAppend reads the table's record and, when the file continues the
// recorded one, scans the rest. It returns nil when the file must be loaded
// in full; an error only when ctx is done.
func planAppend(ctx context.Context, conn *pgx.Conn, schema, table, file string, delim byte, opts Options) (*appendPlan, error) {
	var typeComment, tableComment *string
	err := conn.QueryRow(ctx, `
		select `+recordColumns+`
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = $1 and c.relname = $2 and c.relkind = 'r'`, schema, table).Scan(&typeComment, &tableComment)
	if err != nil {
		return nil, ctx.Err()
	}
	comment, _ := recordOf(typeComment, tableComment)
	return continues(ctx, comment, file, delim, opts)
}

// continues is planAppend for a table whose comment is given.
func continues(ctx context.Context, comment, file string, delim byte, opts Options) (*appendPlan, error) {
	rec, ok := parseComment(comment)
	if !ok || rec.Bytes == 0 {
		return nil, nil
	}
	r, closeFile, err := openFile(file, nil)
	if err != nil {
		return nil, nil
	}
	defer closeFile()

	// The recorded length of the new file must be the old file.
	h := sha256.New()
	n, err := io.CopyBuffer(h, &ctxReader{ctx, io.LimitReader(r, rec.Bytes)}, make([]byte, 256<<10))
	if err != nil || n < rec.Bytes {
		return nil, ctx.Err()
	}
	if checksumOf(clone(h), delim, opts.ColumnTypes, rec.Blank) != rec.Checksum {
		return nil, nil
	}
	sc := Schema{Rows: rec.Rows, Checksum: rec.Checksum, state: fileState{bytes: rec.Bytes, line: rec.Line, eol: eolOf(rec.EOL), open: rec.Open, blank: rec.Blank}}
	for _, c := range rec.Columns {
		sc.Columns = append(sc.Columns, Column{Name: c.Name, Type: c.Type})
		sc.state.kinds = append(sc.state.kinds, c.Kinds)
		sc.state.seen = append(sc.state.seen, c.Seen)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if _, err := br.Peek(1); err == io.EOF {
		return &appendPlan{comment: comment, unchanged: true, sc: sc}, nil
	} else if err != nil {
		return nil, ctx.Err()
	}
	if rec.Blank > 0 {
		return nil, nil // the blank lines are not at the end any more
	}

	off, line, eol := rec.Bytes, rec.Line, sc.state.eol
	if rec.Open {
		// The old last record ends here only if a line break follows.
		e, n := eolUnknown, 0
		if b, _ := br.Peek(2); len(b) > 0 && b[0] == '\n' {
			e, n = eolLF, 1
		} else if len(b) == 2 && b[0] == '\r' && b[1] == '\n' {
			e, n = eolCRLF, 2
		}
		if e == eolUnknown || eol != eolUnknown && e != eol {
			return nil, nil
		}
		b, _ := br.Peek(n)
		h.Write(b)
		br.Discard(n) //nolint:errcheck // peeked
		off += int64(n)
		line++
		eol = e
	}
	prefix := clone(h)

	// The rest: rows of the same width, and the types of the whole file.
	s := newScanner(ctx, br, h, opts.Path, delim)
	s.started = true // no byte order mark in the middle of a file
	s.line, s.eol = line, eol
	kinds, seen := sc.state.kinds, sc.state.seen
	rows, err := scanRows(s, kinds, seen)
	if err != nil {
		return nil, ctx.Err() // the full load reports it
	}
	cols := make([]Column, len(rec.Columns))
	for i, c := range rec.Columns {
		cols[i] = Column{Name: c.Name, Type: typeOf(kinds[i], seen[i])}
	}
	if err := applyColumnTypes(cols, opts); err != nil {
		return nil, nil
	}
	for i, c := range cols {
		if c.Type != rec.Columns[i].Type {
			return nil, nil
		}
	}
	writeConfig(h, delim, opts.ColumnTypes, s.blank)
	st := s.state(kinds, seen)
	st.bytes += off
	sc.Rows += rows
	sc.Checksum = "sha256:" + hex.EncodeToString(h.Sum(nil))
	sc.state = st
	return &appendPlan{comment: comment, sc: sc, tailOff: off, tailLine: line, tailRows: rows, prefix: prefix}, nil
}

// loadAppend carries out a plan: it skips an unchanged file, or COPYs the
// appended rows into the table and updates its comment, in one transaction.
// done is false when the table changed since the plan was made; the caller
// then loads the file in full.
func loadAppend(ctx context.Context, conn *pgx.Conn, schema, table, file string, p *appendPlan, delim byte, opts Options) (res Result, done bool, err error) {
	name := seedName(opts.Path)
	res = Result{Rows: p.sc.Rows, Columns: p.sc.Columns}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return Result{}, true, fmt.Errorf("seed %q: %w", name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	rel := pgname.Rel{Schema: schema, Name: table}
	target, qualified := rel.Quoted(), rel.String()
	if _, err := tx.Exec(ctx, "select pg_advisory_xact_lock(hashtextextended($1, 0))", pgname.SeedLock(rel)); err != nil {
		return Result{}, true, fmt.Errorf("seed %q: %w", name, err)
	}
	old, err := lookupTable(ctx, tx, schema, table)
	if err != nil {
		return Result{}, true, fmt.Errorf("seed %q: %w", name, err)
	}
	if !old.exists || old.kind != "r" || old.comment != p.comment {
		return Result{}, false, nil
	}
	if p.unchanged {
		res.Skipped = true
		return res, true, nil
	}
	if err := beforeLoad(ctx, tx, opts); err != nil {
		return Result{}, true, err // the runner names the seed
	}

	n, err := copyTail(ctx, conn, target, file, p, delim, opts)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			if located := locateCopyError(ctx, pgErr, file, p.sc, opts, p.tailLine-1); located != nil {
				return Result{}, true, located // placed in the file: the runner prints it as it is
			}
		}
		return Result{}, true, fmt.Errorf("seed %q: appending to %s from %s: %w", name, qualified, opts.Path, err)
	}
	if n != p.tailRows {
		return Result{}, true, fmt.Errorf("seed %q: COPY appended %d rows, but %s has %d new ones (the file changed while it was loaded; run again)", name, n, opts.Path, p.tailRows)
	}
	if err := finishAndAudit(ctx, tx, opts, rel, false); err != nil {
		return Result{}, true, err // the runner names the seed
	}
	if _, err := tx.Exec(ctx, recordStmt(target, encodeComment(p.sc), old.legacy)); err != nil {
		return Result{}, true, fmt.Errorf("seed %q: %w", name, err)
	}
	if err := beforeCommit(ctx, tx, opts); err != nil {
		return Result{}, true, err // the runner names the seed
	}
	if err := tx.Commit(ctx); err != nil {
		return Result{}, true, fmt.Errorf("seed %q: %w", name, err)
	}
	res.Appended, res.AppendedRows = true, n
	return res, true, nil
}

// copyTail streams the file from p.tailOff to COPY into the table named by
// into (quoted), and checks that the file still has the checksum the plan
// found.
func copyTail(ctx context.Context, conn *pgx.Conn, into, file string, p *appendPlan, delim byte, opts Options) (int64, error) {
	r, closeFile, err := openAt(file, p.tailOff)
	if err != nil {
		return 0, err
	}
	defer closeFile()
	counter := &progress{fn: opts.Progress, total: p.sc.state.bytes - p.tailOff}
	r = &trimReader{r: io.TeeReader(io.TeeReader(r, p.prefix), counter)}
	return copyIn(ctx, conn, r, into, p.sc.Columns, "", delim, counter, p.prefix, opts.ColumnTypes, p.sc.state.blank, p.sc.Checksum)
}

// openAt opens a seed file like openFile, positioned off bytes into its
// (uncompressed) content.
func openAt(file string, off int64) (io.Reader, func() error, error) {
	if !strings.HasSuffix(file, ".gz") {
		f, err := os.Open(file)
		if err != nil {
			return nil, nil, err
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, nil, err
		}
		return f, f.Close, nil
	}
	r, closeFile, err := openFile(file, nil)
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.CopyN(io.Discard, r, off); err != nil {
		closeFile()
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return r, closeFile, nil
}

func clone(h hash.Hash) hash.Hash {
	c, err := h.(hash.Cloner).Clone()
	if err != nil {
		panic(err) // sha256 clones
	}
	return c
}

// ctxReader stops reading when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
