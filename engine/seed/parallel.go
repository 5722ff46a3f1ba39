package seed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/pgname"
)

// A large seed is loaded over several connections at once: the file is
// read once, cut into pieces of whole records (quoted line breaks
// included: lastBoundary), and the pieces go to COPYs running side by side,
// each on its own connection, into a new table under the scratch name
// (pgname.Temp). The types come from a sample, the first piece; every
// piece is checked by the scanner while the server copies it, so the
// checksum, the row count and the types of the whole file come out of the
// same single read. The new table then replaces the old one in one
// transaction, as in Load.
//
// One transaction cannot span connections, so the scratch table is
// created and committed first, and each COPY commits on its own; nothing
// that readers see changes until the last transaction, which swaps it in.
// On an error the scratch table is dropped; after a kill it stays behind,
// under a name no model or seed uses, until the next load of the seed
// drops it before anything else (as it always drops a leftover scratch
// table). The price: the rows are written to the
// WAL (a table created in another transaction is logged, even at
// wal_level minimal).
//
// Whenever the result could differ from the one-connection load, the
// parallel load gives up before anything is published and Load loads the
// file as it always did, which reports what went wrong at its line: a
// malformed file, a value the sampled type does not hold (the types of
// the whole file differ from the sample's), a table that views read (which
// is refilled in place), a seed with a pre_hook (which runs before the
// data is loaded), Citus, and a file that may be unchanged (its record
// says it is as long: the skip costs one read, not a load).

// Variables, so that tests can cut small files into many pieces.
var (
	// parallelMin is the smallest file loaded over several connections.
	parallelMin int64 = 8 << 20
	// pieceSize is the size of the pieces: large enough that handing them
	// out costs nothing, small enough that the connections stay busy to the
	// end.
	pieceSize = 1 << 20
	// sampleSize is the size of the first piece, whose values give the
	// types: some 10,000 rows of a typical seed.
	sampleSize = 1 << 20
	// maxPiece is the longest piece: a longer record (or a stray quote,
	// after which the rest of the file looks like one quoted field) gives
	// the parallel load up, and the load over one connection reads the
	// file as it always did (and names the line of a stray quote).
	maxPiece = 64 << 20
)

// Parts is how many connections load a large seed at once by default:
// the machine's processors, at most 4 (the server usually has as many as
// the client, and every COPY keeps one of its processors busy).
func Parts() int { return min(4, runtime.NumCPU()) }

// errGiveUp aborts the COPYs of a parallel load that gives up.
var errGiveUp = errors.New("strata: parallel load given up")

// loadParallel loads file into rel over opts.Parts connections when it
// can (see above). done is false when it did not, and nothing changed:
// Load then loads the file its usual way.
func loadParallel(ctx context.Context, conn *pgx.Conn, rel pgname.Rel, file string, delim byte, opts Options) (res Result, done bool, err error) {
	parts := opts.Parts
	if parts == 0 {
		parts = Parts()
	}
	st, err := os.Stat(file)
	if parts < 2 || opts.Citus != nil || opts.BeforeLoad != nil || err != nil || st.Size() < parallelMin {
		return Result{}, false, nil
	}
	if ok, err := fresh(ctx, conn, rel, st.Size(), strings.HasSuffix(file, ".gz"), opts); !ok || err != nil {
		return Result{}, false, err
	}
	if !opts.SchemaReady {
		if err := postgres.EnsureSchema(ctx, conn, rel.Schema); err != nil {
			return Result{}, false, nil
		}
	}
	lock := pgname.SeedLock(rel)
	if _, err := conn.Exec(ctx, "select pg_advisory_lock(hashtextextended($1, 0))", lock); err != nil {
		return Result{}, false, ctx.Err()
	}
	defer conn.Exec(context.WithoutCancel(ctx), "select pg_advisory_unlock(hashtextextended($1, 0))", lock) //nolint:errcheck // the session's end releases it too
	l := &parallelLoad{conn: conn, rel: rel, tmp: pgname.Rel{Schema: rel.Schema, Name: pgname.Temp(rel.Name)}, delim: delim, opts: opts, parts: parts}
	sc, ok, err := l.copy(ctx, file)
	if !ok || err != nil {
		l.dropScratch(ctx)
		if ctx.Err() != nil {
			return Result{}, true, ctx.Err()
		}
		return Result{}, false, nil
	}
	res, done, err = l.publish(ctx, sc)
	if !done || err != nil {
		l.dropScratch(ctx)
	}
	return res, done, err
}

// fresh says whether the load replaces the table for sure: there is none,
// or it was not loaded by strata, or --full-refresh, or the file's length
// differs from the recorded one. (A file that may be unchanged is read
// once to tell; loading it would waste a load.) A table that views read
// is refilled in place by Load: not fresh.
func fresh(ctx context.Context, conn *pgx.Conn, rel pgname.Rel, size int64, gz bool, opts Options) (bool, error) {
	var oid uint32
	var kind string
	var typeComment, tableComment *string
	err := conn.QueryRow(ctx, `select c.oid, c.relkind::text, `+recordColumns+`
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = $1 and c.relname = $2`, rel.Schema, rel.Name).Scan(&oid, &kind, &typeComment, &tableComment)
	if errors.Is(err, pgx.ErrNoRows) {
		return true, nil
	}
	if err != nil || kind != "r" {
		return false, ctx.Err()
	}
	comment, _ := recordOf(typeComment, tableComment)
	if rec, ok := parseComment(comment); ok && !opts.FullRefresh && (gz || rec.Bytes == 0 || rec.Bytes == size) {
		return false, nil
	}
	var views bool
	if err := conn.QueryRow(ctx, `select exists (
			select from pg_depend d
			join pg_rewrite r on r.oid = d.objid
			where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
			  and d.refobjid = $1 and r.ev_class <> $1)`, oid).Scan(&views); err != nil {
		return false, ctx.Err()
	}
	return !views, nil
}

// parallelLoad is one parallel load of a seed.
type parallelLoad struct {
	conn     *pgx.Conn
	rel, tmp pgname.Rel
	delim    byte
	opts     Options
	parts    int
}

// dropScratch drops the scratch table, if it is there.
func (l *parallelLoad) dropScratch(ctx context.Context) {
	l.conn.Exec(context.WithoutCancel(ctx), "drop table if exists "+l.tmp.Quoted()) //nolint:errcheck // a leftover is dropped by the next load
}

// scan is what the scanner found in some pieces: their rows, and what
// their values allow each column to be.
type scan struct {
	rows  int64
	masks []uint8
	seen  []bool
	blank int // blank lines at the end of the file (of the last piece)
}

func newScan(n int) *scan {
	s := &scan{masks: make([]uint8, n), seen: make([]bool, n)}
	for i := range s.masks {
		s.masks[i] = kAll
	}
	return s
}

func (s *scan) add(o *scan) {
	s.rows += o.rows
	s.blank += o.blank
	for i := range s.masks {
		s.masks[i] &= o.masks[i]
		s.seen[i] = s.seen[i] || o.seen[i]
	}
}

// pieceScanner reads the records of a piece, whose first byte is on
// physical line line of a file whose lines end with eol.
func pieceScanner(ctx context.Context, p piece, path string, delim byte, eol int) *scanner {
	s := newScanner(ctx, nil, nil, path, delim)
	s.buf, s.end, s.eof, s.started = p.data, len(p.data), true, true
	s.line, s.eol = p.line, eol
	s.more = !p.last
	return s
}

// copy reads the file once and copies it into the scratch table over
// l.parts connections. ok is false when the load is to be given up.
func (l *parallelLoad) copy(ctx context.Context, file string) (sc Schema, ok bool, err error) {
	var total int64
	if st, err := os.Stat(file); err == nil {
		total = st.Size()
	}
	counter := &progress{fn: l.opts.Progress, total: total}
	r, closeFile, err := openFile(file, counter)
	if err != nil {
		return Schema{}, false, nil
	}
	defer closeFile()
	h := sha256.New()
	var read int64
	var last byte
	split := newSplitter(io.TeeReader(&ctxReader{ctx, r}, writerFunc(func(b []byte) {
		h.Write(b)
		read += int64(len(b))
		last = b[len(b)-1]
	})), pieceSize)

	// The header and the sample: the first piece.
	split.size = sampleSize
	first, err := split.next()
	split.size = pieceSize
	if err != nil {
		return Schema{}, false, nil
	}
	hs := newScanner(ctx, bytes.NewReader(first.data), nil, l.opts.Path, l.delim)
	if err := hs.next(); err != nil {
		return Schema{}, false, nil
	}
	cols, err := header(hs)
	if err != nil {
		return Schema{}, false, nil
	}
	eol := hs.eol
	// Where the header ends in the piece: what the scanner consumed of
	// it (its buffer's offsets shift when it drops a byte order mark).
	rest := piece{data: first.data[hs.read-int64(hs.end-hs.pos):], line: hs.line, last: first.last}
	sample := newScan(len(cols))
	ps := pieceScanner(ctx, rest, l.opts.Path, l.delim, eol)
	if sample.rows, err = scanRows(ps, sample.masks, sample.seen); err != nil {
		return Schema{}, false, nil
	}
	sample.blank = ps.blank
	for j := range cols {
		if !sample.seen[j] {
			return Schema{}, false, nil // no value to take a type from
		}
		cols[j].Type = typeOf(sample.masks[j], true)
	}
	if err := applyColumnTypes(cols, l.opts); err != nil {
		return Schema{}, false, nil
	}
	var defs, names []string
	for _, c := range cols {
		defs = append(defs, pgname.Ident(c.Name)+" "+c.Type)
		names = append(names, pgname.Ident(c.Name))
	}
	// A leftover of a load that was killed is stale: this load holds the
	// seed's lock.
	if _, err := l.conn.Exec(ctx, "drop table if exists "+l.tmp.Quoted()+" cascade; create table "+l.tmp.Quoted()+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return Schema{}, false, nil
	}
	conns := []*pgx.Conn{l.conn}
	defer func() {
		for _, c := range conns[1:] {
			c.Close(context.WithoutCancel(ctx))
		}
	}()
	for range l.parts - 1 {
		c, err := pgx.ConnectConfig(ctx, l.conn.Config())
		if err != nil {
			return Schema{}, false, nil
		}
		conns = append(conns, c)
	}

	copySQL := "copy " + l.tmp.Quoted() + " (" + strings.Join(names, ", ") + ") from stdin with (format csv, delimiter " + pgname.Literal(string(l.delim)) + ")"
	pieces := make(chan piece, len(conns))
	stop := make(chan struct{})
	var once sync.Once
	var failed error
	giveUp := func(err error) {
		once.Do(func() { failed = err; close(stop) })
	}
	scans := make([]*scan, len(conns))
	copied := make([]int64, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		pr, pw := io.Pipe()
		scans[i] = newScan(len(cols))
		wg.Add(2)
		go func() {
			defer wg.Done()
			tag, err := c.PgConn().CopyFrom(ctx, pr, copySQL)
			if err != nil {
				pr.CloseWithError(err)
				giveUp(err)
				return
			}
			copied[i] = tag.RowsAffected()
		}()
		go func() {
			defer wg.Done()
			for {
				var p piece
				select {
				case <-stop:
					pw.CloseWithError(errGiveUp)
					return
				case q, more := <-pieces:
					if !more {
						pw.Close()
						return
					}
					p = q
				}
				data := p.data
				if p.last {
					keep, _ := trailingBlank(data)
					data = data[:keep]
				}
				if _, err := pw.Write(data); err != nil {
					giveUp(err)
					continue
				}
				if p.checked {
					continue
				}
				s := newScan(len(cols))
				ps := pieceScanner(ctx, p, l.opts.Path, l.delim, eol)
				// err of its own: the function's err is shared by
				// every writer goroutine.
				rows, err := scanRows(ps, s.masks, s.seen)
				if err != nil {
					giveUp(err)
					continue
				}
				s.rows = rows
				s.blank = ps.blank
				scans[i].add(s)
			}
		}()
	}
	send := func(p piece) bool {
		select {
		case pieces <- p:
			return true
		case <-stop:
			return false
		}
	}
	if len(rest.data) > 0 {
		rest.checked = true // scanned as the sample
		send(rest)
	}
	for {
		p, err := split.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			giveUp(err)
			break
		}
		if !send(p) {
			break
		}
	}
	close(pieces)
	wg.Wait()
	if failed != nil {
		return Schema{}, false, nil
	}
	counter.finish()
	all := newScan(len(cols))
	for _, s := range scans {
		all.add(s)
	}
	all.add(sample)
	var n int64
	for _, c := range copied {
		n += c
	}
	whole := make([]Column, len(cols))
	for j, c := range cols {
		whole[j] = Column{Name: c.Name, Type: typeOf(all.masks[j], all.seen[j])}
	}
	if err := applyColumnTypes(whole, l.opts); err != nil || !equalColumns(whole, cols) || n != all.rows {
		return Schema{}, false, nil
	}
	return Schema{
		Columns:  cols,
		Rows:     all.rows,
		Checksum: checksumOf(h, l.delim, l.opts.ColumnTypes, all.blank),
		state: fileState{bytes: read, line: split.line, eol: eol, open: read > 0 && last != '\n',
			blank: all.blank, kinds: all.masks, seen: all.seen},
	}, true, nil
}

func equalColumns(a, b []Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// writerFunc is an io.Writer that hands what it is given to a function.
type writerFunc func([]byte)

func (f writerFunc) Write(b []byte) (int, error) {
	if len(b) > 0 {
		f(b)
	}
	return len(b), nil
}

// publish replaces the table with the filled scratch table, in one
// transaction, as Load does. done is false when Load is to load the file
// its own way after all (nothing changed): the file turned out to be the
// one the table holds, or views came to read the table meanwhile.
func (l *parallelLoad) publish(ctx context.Context, sc Schema) (Result, bool, error) {
	name := seedName(l.opts.Path)
	res := Result{Rows: sc.Rows, Columns: sc.Columns, Parts: l.parts}
	tx, err := l.conn.Begin(ctx)
	if err != nil {
		return Result{}, true, errorf(name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, "select pg_advisory_xact_lock(hashtextextended($1, 0))", pgname.SeedLock(l.rel)); err != nil {
		return Result{}, true, errorf(name, err)
	}
	old, err := lookupTable(ctx, tx, l.rel.Schema, l.rel.Name)
	if err != nil {
		return Result{}, true, errorf(name, err)
	}
	if old.exists {
		if rec, ok := parseComment(old.comment); old.kind != "r" || ok && rec.Checksum == sc.Checksum && !l.opts.FullRefresh {
			return Result{}, false, nil
		}
		if views, err := hasDependentViews(ctx, tx, old.oid); err != nil || views {
			return Result{}, false, ctx.Err()
		}
	}
	if err := finishAndAudit(ctx, tx, l.opts, l.tmp, false); err != nil {
		return Result{}, true, err // the runner names the seed
	}
	err = withLocks(ctx, tx, l.opts, func() error {
		return replaceTable(ctx, tx, l.rel, l.tmp.Name, false, l.opts)
	})
	if err != nil {
		return Result{}, true, errorf(name, err)
	}
	if _, err := tx.Exec(ctx, recordStmt(l.rel.Quoted(), encodeComment(sc), false)); err != nil {
		return Result{}, true, errorf(name, err)
	}
	if err := beforeCommit(ctx, tx, l.opts); err != nil {
		return Result{}, true, err // the runner names the seed
	}
	if err := tx.Commit(ctx); err != nil {
		return Result{}, true, errorf(name, err)
	}
	return res, true, nil
}

func errorf(name string, err error) error { return fmt.Errorf("seed %q: %w", name, err) }
