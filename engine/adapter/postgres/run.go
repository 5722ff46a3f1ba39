package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/pgname"
)

// ErrLocked is returned by LockRun when another run holds the target and
// the caller would not wait.
var ErrLocked = errors.New("another strata run holds the target")

// RunInfo is a run as the run lock's session tells it to other runs:
// the statement that took the lock names the project, target,
// environment, command and start of the run that holds it, which
// pg_stat_activity shows of the idle session.
type RunInfo struct {
	Project, Target, Env string
	Command              string // "build", "seed", "env drop", ...
	Started              time.Time
}

// String is the run as a user reads it: "strata build of project shop on
// target prod, started 2026-12-07 22:01:05 UTC", its environment named
// when it has one ("on environment pr_1 of target prod").
func (r RunInfo) String() string {
	where := "target " + r.Target
	if r.Env != "" {
		where = "environment " + r.Env + " of target " + r.Target
	}
	out := fmt.Sprintf("strata %s of project %s on %s", r.Command, r.Project, where)
	if !r.Started.IsZero() {
		out += ", started " + r.Started.UTC().Format("2006-01-02 15:04:05") + " UTC"
	}
	return out
}

// tag is the text added to the statements that take the run lock, which
// runInfo reads back: literals, never run as anything but text.
func (r RunInfo) tag() string {
	return fmt.Sprintf(", 'strata run' as strata_run, %s as project, %s as target, %s as env, %s as command, %s as started",
		pgname.Literal(r.Project), pgname.Literal(r.Target), pgname.Literal(r.Env), pgname.Literal(r.Command), pgname.Literal(r.Started.UTC().Format(time.RFC3339)))
}

var runTag = regexp.MustCompile(`'strata run' as strata_run, (E?'(?:[^'\\]|''|\\.)*') as project, (E?'(?:[^'\\]|''|\\.)*') as target, (E?'(?:[^'\\]|''|\\.)*') as env, (E?'(?:[^'\\]|''|\\.)*') as command, '([^']*)' as started`)

// runInfo reads the run a run lock's session holds it for from its
// statement (tag); ok is false for a statement that names none (a strata
// older than this one, or a session that is no run's).
func runInfo(query string) (r RunInfo, ok bool) {
	m := runTag.FindStringSubmatch(query)
	if m == nil {
		return r, false
	}
	r = RunInfo{Project: unliteral(m[1]), Target: unliteral(m[2]), Env: unliteral(m[3]), Command: unliteral(m[4])}
	r.Started, _ = time.Parse(time.RFC3339, m[5])
	return r, true
}

// unliteral is the text of a literal pgname.Literal wrote.
func unliteral(lit string) string {
	if strings.HasPrefix(lit, "E") {
		lit = strings.ReplaceAll(lit[1:], `\\`, `\`)
	}
	return strings.ReplaceAll(lit[1:len(lit)-1], "''", "'")
}

// LockRun takes the session advisory lock that keeps two runs of project
// on one target from interleaving, on a connection it keeps until unlock;
// the statements that take it name run (RunInfo), for the runs that wait.
// When another run holds the lock, it returns ErrLocked if noWait, else
// calls waiting (when not nil) and waits for it.
func (a *Adapter) LockRun(ctx context.Context, project string, run RunInfo, noWait bool, waiting func()) (unlock func(), err error) {
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
	var ignored [6]string
	if err := conn.QueryRow(ctx, "select pg_try_advisory_lock(hashtextextended($1, 0))"+run.tag(), Once, key).Scan(&got, &ignored[0], &ignored[1], &ignored[2], &ignored[3], &ignored[4], &ignored[5]); err != nil {
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
		if _, err := conn.Exec(ctx, "begin; set local lock_timeout = 0; set local statement_timeout = 0; select pg_advisory_lock(hashtextextended("+pgname.Literal(key)+", 0))"+run.tag()+"; commit"); err != nil {
			release()
			return nil, fmt.Errorf("waiting for the target lock: %w", err)
		}
	}
	return func() {
		_, _ = conn.Exec(context.Background(), "select pg_advisory_unlock(hashtextextended($1, 0))", Once, key)
		release()
	}, nil
}

// RunLockHeld is who holds a run lock: the PostgreSQL session, and the
// run it holds the lock for when the session says which.
type RunLockHeld struct {
	// Session is "PostgreSQL session 4242 (strata, from 10.0.0.5,
	// connected at 2026-12-07 02:30:04 UTC)", the details the role may
	// not see left out.
	Session string
	Run     *RunInfo // nil for a strata older than this one, or no run's session
}

// String is "strata build of project shop on target prod, started
// 2026-12-07 02:30:01 UTC, in PostgreSQL session 4242 (...)", or the
// session alone.
func (h RunLockHeld) String() string {
	if h.Run == nil {
		return h.Session
	}
	return h.Run.String() + ", in " + h.Session
}

// RunLockHolder says which session holds the run lock of project (as
// LockRun names it), and for which run, for a run that waits for it or
// that --no-wait stopped; ok is false when no session holds it (it ended
// meanwhile) or it cannot be read.
func (a *Adapter) RunLockHolder(ctx context.Context, project string) (held RunLockHeld, ok bool) {
	var pid int
	var app, from, since, query string
	err := a.Shared().QueryRow(ctx, `with k as (select hashtextextended($1, 0) as k)
		select l.pid, coalesce(s.application_name, ''), coalesce(host(s.client_addr), ''),
		  coalesce(to_char(s.backend_start at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', ''),
		  coalesce(s.query, '')
		from k, pg_locks l left join pg_stat_activity s on s.pid = l.pid
		where l.locktype = 'advisory' and l.granted and l.objsubid = 1
		  and l.database = (select oid from pg_database where datname = current_database())
		  and l.classid = ((k.k >> 32) & 4294967295)::text::oid and l.objid = (k.k & 4294967295)::text::oid
		limit 1`, pgname.RunLock(project)).Scan(&pid, &app, &from, &since, &query)
	if err != nil {
		return held, false
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
	held.Session = fmt.Sprintf("PostgreSQL session %d", pid)
	if len(details) > 0 {
		held.Session += " (" + strings.Join(details, ", ") + ")"
	}
	if run, ok := runInfo(query); ok {
		held.Run = &run
	}
	return held, true
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
