package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/engine/pgname"
)

// ErrLocked is returned by LockRun when another run holds the target and
// the caller would not wait.
var ErrLocked = errors.New("another strata run holds the target")

// LockRun takes the session advisory lock that keeps two runs of project
// on one target from interleaving, on a connection it keeps until unlock.
// When another run holds the lock, it returns ErrLocked if noWait, else
// calls waiting (when not nil) and waits for it.
func (a *Adapter) LockRun(ctx context.Context, project string, noWait bool, waiting func()) (unlock func(), err error) {
	conn, err := a.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	a.room.pinned.Add(1)
	release := func() {
		a.room.pinned.Add(-1)
		conn.Release()
	}
	key := pgname.RunLock(project)
	var got bool
	if err := conn.QueryRow(ctx, "select pg_try_advisory_lock(hashtextextended($1, 0))", Once, key).Scan(&got); err != nil {
		release()
		return nil, err
	}
	if !got {
		if noWait {
			release()
			return nil, ErrLocked
		}
		if waiting != nil {
			waiting()
		}
		// Waited for as long as the other run takes: the role's
		// lock_timeout or statement_timeout, meant for its statements,
		// cut this wait short ("canceling statement due to lock
		// timeout" after "Waiting for another strata run").
		if _, err := conn.Exec(ctx, "begin; set local lock_timeout = 0; set local statement_timeout = 0; select pg_advisory_lock(hashtextextended("+pgname.Literal(key)+", 0)); commit"); err != nil {
			release()
			return nil, fmt.Errorf("waiting for the target lock: %w", err)
		}
	}
	return func() {
		_, _ = conn.Exec(context.Background(), "select pg_advisory_unlock(hashtextextended($1, 0))", Once, key)
		release()
	}, nil
}

// RunLockHolder says which session holds the run lock of project (as
// LockRun names it), for a run that --no-wait stopped: "PostgreSQL session
// 4242 (strata, from 10.0.0.5, connected at 2026-12-07 02:30:04 UTC)", the
// details the role may not see left out; "" when no session holds it (it
// ended meanwhile) or it cannot be read.
func (a *Adapter) RunLockHolder(ctx context.Context, project string) string {
	var pid int
	var app, from, since string
	err := a.Shared().QueryRow(ctx, `with k as (select hashtextextended($1, 0) as k)
		select l.pid, coalesce(s.application_name, ''), coalesce(host(s.client_addr), ''),
		  coalesce(to_char(s.backend_start at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', '')
		from k, pg_locks l left join pg_stat_activity s on s.pid = l.pid
		where l.locktype = 'advisory' and l.granted and l.objsubid = 1
		  and l.database = (select oid from pg_database where datname = current_database())
		  and l.classid = ((k.k >> 32) & 4294967295)::text::oid and l.objid = (k.k & 4294967295)::text::oid
		limit 1`, pgname.RunLock(project)).Scan(&pid, &app, &from, &since)
	if err != nil {
		return ""
	}
	var details []string
	if app != "" {
		details = append(details, app)
	}
	if from != "" {
		details = append(details, "from "+from)
	}
	if since != "" {
		details = append(details, "connected at "+since)
	}
	out := fmt.Sprintf("PostgreSQL session %d", pid)
	if len(details) > 0 {
		out += " (" + strings.Join(details, ", ") + ")"
	}
	return out
}

// ExecScript runs sql, one statement or several, as it is written (a project's
// hook); its error is explained against sql.
func (a *Adapter) ExecScript(ctx context.Context, sql string) error {
	if _, err := a.Shared().Exec(ctx, sql); err != nil {
		return Explain(err, sql, 0)
	}
	return nil
}

// ServerVersion is the server's version() string.
func (a *Adapter) ServerVersion(ctx context.Context) (string, error) {
	var version string
	err := a.Shared().QueryRow(ctx, "select version()").Scan(&version)
	return version, err
}

// QueryText runs a query and returns its columns and rows as text, the way
// the database prints them; a NULL is nil.
func (a *Adapter) QueryText(ctx context.Context, sql string, args ...any) ([]string, [][]*string, error) {
	rows, err := a.Shared().Query(ctx, sql, append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, args...)...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var cols []string
	for _, fd := range rows.FieldDescriptions() {
		cols = append(cols, fd.Name)
	}
	var out [][]*string
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]*string, len(raw))
		for i, b := range raw {
			if b != nil {
				s := string(b)
				row[i] = &s
			}
		}
		out = append(out, row)
	}
	return cols, out, rows.Err()
}
