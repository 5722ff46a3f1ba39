package postgres

import (
	"context"
	"errors"
	"fmt"
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
	mu     sync.Mutex
	back   chan struct{} // closed when a connection comes back to the pool
	once   sync.Once
	// Full, when set, is told once that the server had no room for a
	// connection and the command runs on the ones it has.
	Full func(open int)
}

// released is the pool's AfterRelease hook.
func (r *room) released() {
	r.mu.Lock()
	if r.back != nil {
		close(r.back)
		r.back = nil
	}
	r.mu.Unlock()
}

func (r *room) nextRelease() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.back == nil {
		r.back = make(chan struct{})
	}
	return r.back
}

// tooManyClients reports whether err is the server refusing a new
// connection because max_connections are taken.
func tooManyClients(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "53300"
}

// retryFull is the longest a wait for a connection waits before it tries
// the server again when none of the command's own came back (another
// client may have left, or one of the pool's is still being opened).
var retryFull = time.Second

// Acquire takes a connection from the pool. When the server refuses a new
// one (max_connections reached) while the pool has others, in use by the
// command's nodes or still being opened, it waits for one of them rather
// than failing: --threads 12 on a server with room for 5 runs 5 nodes at
// once. With none but the run lock's, the refusal is the error, explained.
func (a *Adapter) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	wait := 20 * time.Millisecond
	for {
		back := a.room.nextRelease()
		c, err := a.pool.Acquire(ctx)
		if err == nil || !tooManyClients(err) {
			return c, err
		}
		st := a.pool.Stat()
		if st.TotalConns() <= a.room.pinned.Load() {
			return nil, fmt.Errorf("the server has no free connection (all of its max_connections are taken): %w", err)
		}
		// Said once the pool has opened all it could: while one of its
		// connections is still being opened, how many the run has is
		// not known yet (a later wait says it).
		if open := st.TotalConns() - a.room.pinned.Load(); open > 0 && st.ConstructingConns() == 0 {
			a.room.once.Do(func() {
				if a.room.Full != nil {
					a.room.Full(int(open))
				}
			})
		}
		select {
		case <-back:
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
	c    *pgxpool.Conn
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
	c    *pgxpool.Conn
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
	c   *pgxpool.Conn
}

func (r releasingRow) Scan(dest ...any) error {
	defer r.c.Release()
	return r.row.Scan(dest...)
}
