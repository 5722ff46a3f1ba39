package postgres

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// room lets a command run on a server that has fewer free connections
// than the command's threads: the connections it could not open are
// waited for, as the pool's own are, instead of failing the node that
// asked for one.
type room struct {
	pinned atomic.Int32 // connections held for the whole command (the run lock)
	// back has a token for each connection given back to the pool
	// (Conn.Release), which wakes one waiting Acquire.
	back chan struct{}
	// refused counts the connections the server refused Acquire. Once it
	// refused one, Acquire asks it for another only after gap (UnixNano
	// of the last refusal in asked), unless the pool has one idle.
	refused atomic.Int64
	asked   atomic.Int64
	gap     atomic.Int64
	once    sync.Once
	// Full, when set, is told once that the server had no room for a
	// connection and the command runs on the ones it has.
	Full func(open int)
}

func newRoom(conns int) room { return room{back: make(chan struct{}, conns)} }

// released says that a connection is back in the pool.
func (r *room) released() {
	select {
	case r.back <- struct{}{}:
	default: // as many tokens as connections wait already
	}
}

// mayAsk says whether Acquire may take a connection from the pool now
// (st: its statistics), and whether that asks the server for a new one to
// see if it has room again (probe). Before the server refused one, always;
// after, when one is idle, or when none was asked of it for gap: a pool
// with none idle opens a new one, and each that a full server refuses is
// a server process started for nothing and a FATAL line in its log.
func (r *room) mayAsk(st *pgxpool.Stat) (ok, probe bool) {
	last := r.asked.Load()
	if last == 0 || st.IdleConns() > 0 {
		return true, false
	}
	now := time.Now().UnixNano()
	if now-last < r.gap.Load() || !r.asked.CompareAndSwap(last, now) {
		return false, false
	}
	return true, true
}

// firstGap is how soon Acquire asks the server again after a refusal; the
// gap doubles, up to retryFull, while it refuses, and is firstGap again
// once it gave a connection. (The connections a pool opens at once take
// the server's room from each other while they start: a refusal then
// may not last.)
const firstGap = int64(20 * time.Millisecond)

// tooManyClients reports whether err is the server refusing a new
// connection because max_connections are taken.
func tooManyClients(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "53300"
}

// retryFull is the longest a command whose server refused a connection
// waits before it asks for one again while none of its own comes back
// (another client may have left).
var retryFull = time.Second

// fullGrace is how long Acquire keeps asking a server that refuses every
// connection, with none of the command's own to wait for, before it says
// the server is full.
var fullGrace = 2 * time.Second

// Conn is a connection taken through Acquire: Release gives it back and
// wakes a command's node that waits for one.
type Conn struct {
	c *pgxpool.Conn
	a *Adapter
}

// Release gives the connection back to the pool.
func (c *Conn) Release() {
	if c.c == nil {
		return
	}
	c.c.Release()
	c.c = nil
	c.a.room.released()
}

// Conn is the connection itself.
func (c *Conn) Conn() *pgx.Conn { return c.c.Conn() }

func (c *Conn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return c.c.Exec(ctx, sql, args...)
}

func (c *Conn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return c.c.Query(ctx, sql, args...)
}

func (c *Conn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return c.c.QueryRow(ctx, sql, args...)
}

// Begin starts a transaction on the connection.
func (c *Conn) Begin(ctx context.Context) (pgx.Tx, error) { return c.c.Begin(ctx) }

// Ping checks that the server answers on the connection.
func (c *Conn) Ping(ctx context.Context) error { return c.c.Ping(ctx) }

// Acquire takes a connection from the pool. When the server refuses a new
// one (max_connections reached) while the pool has others, in use by the
// command's nodes or still being opened, it waits for one of them rather
// than failing: --threads 12 on a server with room for 5 runs 5 nodes at
// once. With none but the run lock's, the refusal is the error, explained.
func (a *Adapter) Acquire(ctx context.Context) (*Conn, error) {
	wait := 20 * time.Millisecond
	var alone time.Time // the first refusal with none of the pool's to wait for
	for {
		if ok, probe := a.room.mayAsk(a.pool.Stat()); ok {
			c, err := a.pool.Acquire(ctx)
			if err == nil {
				if probe {
					a.room.gap.Store(firstGap)
				}
				return &Conn{c: c, a: a}, nil
			}
			if !tooManyClients(err) {
				return nil, err
			}
			a.room.refused.Add(1)
			if gap := a.room.gap.Load(); gap == 0 || probe {
				a.room.gap.Store(min(max(2*gap, firstGap), int64(retryFull)))
			}
			a.room.asked.Store(time.Now().UnixNano())
			if a.pool.Stat().TotalConns() <= a.room.pinned.Load() {
				// None of the pool's will come back: the server is full
				// unless a slot is being freed (a backend exits a moment
				// after its client closed, as do the pool's own that it
				// cancelled when another was refused while they opened).
				if alone.IsZero() {
					alone = time.Now()
				} else if time.Since(alone) >= fullGrace {
					var pg *pgconn.PgError
					errors.As(err, &pg) // tooManyClients found it
					return nil, &connectError{msg: serverRefused(a.pool.Config().ConnString(), a.pool.Config().ConnConfig, pg), err: err}
				}
			}
		}
		// Said once the server refused a connection asked of it after
		// another's refusal (the gap grew), with none of the pool's being
		// opened: those take its room while they start, and until then
		// how many the command has is not known.
		st := a.pool.Stat()
		if open := st.TotalConns() - a.room.pinned.Load(); a.room.gap.Load() > firstGap && open > 0 && st.ConstructingConns() == 0 {
			a.room.once.Do(func() {
				if a.room.Full != nil {
					a.room.Full(int(open))
				}
			})
		}
		select {
		case <-a.room.back:
		case <-time.After(wait):
			wait = min(2*wait, retryFull)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// OnFull sets what is told, once, when the server has no room for a
// connection the command asked for and it goes on with the ones it has
// (open: how many, besides the run lock's).
func (a *Adapter) OnFull(f func(open int)) { a.room.Full = f }

// Shared is the pool as a Querier whose every statement takes its
// connection through Acquire.
func (a *Adapter) Shared() Querier { return shared{a} }

type shared struct{ a *Adapter }

func (s shared) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := s.a.Acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	return c.Exec(ctx, sql, args...)
}

func (s shared) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, err := s.a.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &releasingRows{Rows: rows, c: c}, nil
}

func (s shared) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := s.a.Acquire(ctx)
	if err != nil {
		return errRow{err}
	}
	return releasingRow{row: c.QueryRow(ctx, sql, args...), c: c}
}

// Begin starts a transaction on a connection taken through Acquire,
// given back when the transaction ends.
func (s shared) Begin(ctx context.Context) (pgx.Tx, error) {
	c, err := s.a.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &releasingTx{Tx: tx, c: c}, nil
}

type releasingTx struct {
	pgx.Tx
	c    *Conn
	once sync.Once
}

func (t *releasingTx) Commit(ctx context.Context) error {
	err := t.Tx.Commit(ctx)
	t.once.Do(t.c.Release)
	return err
}

func (t *releasingTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	t.once.Do(t.c.Release)
	return err
}

// BeginFunc runs f in a transaction on a connection taken through Acquire.
func (a *Adapter) BeginFunc(ctx context.Context, f func(pgx.Tx) error) error {
	c, err := a.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return pgx.BeginFunc(ctx, c, f)
}

type releasingRows struct {
	pgx.Rows
	c    *Conn
	once sync.Once
}

func (r *releasingRows) release() { r.once.Do(r.c.Release) }

func (r *releasingRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.release()
	return false
}

func (r *releasingRows) Close() {
	r.Rows.Close()
	r.release()
}

type releasingRow struct {
	row pgx.Row
	c   *Conn
}

func (r releasingRow) Scan(dest ...any) error {
	defer r.c.Release()
	return r.row.Scan(dest...)
}
