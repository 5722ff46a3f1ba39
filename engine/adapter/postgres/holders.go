package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/engine/pgname"
)

// LockHolder is a session that holds a lock a build waited for: a reader
// of the relation it replaces, or another build (strata's own sessions
// are named strata), as far as the role strata connects as may see it.
type LockHolder struct {
	PID         int
	Application string // its application_name; "" when not shown to the role
	Role        string
	Client      string // its client's address; "" over a unix socket
	State       string // "active", "idle in transaction", ...
	Since       string // when its transaction began, "2026-12-07 02:31:07 UTC"
	Strata      bool   // a session strata opened (application_name strata)
	ThisRun     bool   // one of this command's own sessions
	// Building is, for a strata session, the model or seed it builds, as
	// its statements name it ("analytics.report"); "" when they do not.
	Building string
	// OnRelation: it holds a lock on the relation; else only the swap lock.
	OnRelation bool
	// Relation is the relation the build waited to replace.
	Relation string
	// Run is, for another strata run's build, that run, when it is the
	// only other run on the database that names itself (RunInfo); nil
	// when not known.
	Run *RunInfo
}

// SwapLockMode is how an attempt took the swap lock (pgname.SwapLock):
// not, shared (view builds) or exclusive (swaps that rewrite views).
type SwapLockMode int

const (
	NoSwapLock SwapLockMode = iota
	SharedSwapLock
	ExclusiveSwapLock
)

// building finds the model a strata session builds in its statement:
// every build's transaction starts with the advisory lock of its
// relation (pgname.BuildLock), a seed's with its load's (pgname.SeedLock).
var building = regexp.MustCompile(`hashtextextended\('(?:strata:build:|strata seed )((?:[^']|'')+)'`)

// LockHolders lists the sessions that hold a lock an attempt to replace
// rel waited for in vain: any lock on rel (replacing it takes its
// exclusive lock, which waits for every other), and, as the attempt took
// it, the swap lock. It is asked on q, the build's own connection, once
// the attempt was undone (its transaction rolled back, or back to a
// savepoint: pg_stat_activity is read afresh).
func (a *Adapter) LockHolders(ctx context.Context, q Querier, rel pgname.Rel, swap SwapLockMode) ([]LockHolder, error) {
	if _, err := q.Exec(ctx, "select pg_stat_clear_snapshot()", Once); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `with swap as (select hashtextextended($2, 0) as k)
		select l.pid, coalesce(s.application_name, ''), coalesce(s.usename::text, ''), coalesce(host(s.client_addr), ''),
		  coalesce(s.state, ''),
		  coalesce(to_char(s.xact_start at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', ''),
		  coalesce(s.query, ''), bool_or(l.relation = to_regclass($1)) is true
		from pg_locks l left join pg_stat_activity s on s.pid = l.pid, swap
		where l.granted and l.pid <> pg_backend_pid()
		  and l.database = (select oid from pg_database where datname = current_database())
		  and (l.relation = to_regclass($1)
		    or $3 > 0 and l.locktype = 'advisory' and l.objsubid = 1
		      and l.classid = ((swap.k >> 32) & 4294967295)::text::oid and l.objid = (swap.k & 4294967295)::text::oid
		      and ($3 = 2 or l.mode = 'ExclusiveLock'))
		group by 1, 2, 3, 4, 5, 6, 7, s.xact_start
		order by s.xact_start nulls last, 1`, Once, rel.Quoted(), pgname.SwapLock, int(swap))
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (LockHolder, error) {
		var h LockHolder
		var query string
		err := row.Scan(&h.PID, &h.Application, &h.Role, &h.Client, &h.State, &h.Since, &query, &h.OnRelation)
		h.Strata = h.Application == "strata"
		if h.Strata {
			if m := building.FindStringSubmatch(query); m != nil {
				h.Building = strings.ReplaceAll(m[1], "''", "'")
			}
		}
		return h, err
	})
	if err != nil {
		return nil, err
	}
	var others []RunInfo
	for i := range out {
		out[i].ThisRun = a.own(out[i].PID)
		out[i].Relation = rel.String()
		if out[i].Strata && !out[i].ThisRun && out[i].Building != "" && others == nil {
			if others, err = a.otherRuns(ctx, q); err != nil {
				return nil, err
			}
		}
	}
	if len(others) == 1 {
		for i, h := range out {
			if h.Strata && !h.ThisRun && h.Building != "" {
				out[i].Run = &others[0]
			}
		}
	}
	return out, nil
}

// otherRuns are the runs of other strata commands on the database that
// hold their run lock and name themselves (LockRun's statement, which
// its idle session shows).
func (a *Adapter) otherRuns(ctx context.Context, q Querier) ([]RunInfo, error) {
	rows, err := q.Query(ctx, `select s.pid, s.query from pg_stat_activity s
		where s.datname = current_database() and s.application_name = 'strata' and s.pid <> pg_backend_pid()
		  and s.state = 'idle' and s.query like '%''strata run'' as strata_run%'
		  and exists (select from pg_locks l where l.pid = s.pid and l.locktype = 'advisory' and l.granted and l.objsubid = 1)`, Once)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	runs := []RunInfo{}
	for rows.Next() {
		var pid int
		var query string
		if err := rows.Scan(&pid, &query); err != nil {
			return nil, err
		}
		if r, ok := runInfo(query); ok && !a.own(pid) {
			runs = append(runs, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return runs, nil
}

// DescribeHolders says who holds what a build waited for: each session
// with what the role may see of it (its application, role, client, state
// and since when its transaction runs), another strata run's build by the
// relation it builds and, when known, that run; "sessions that hold REL"
// when none is seen (they ended meanwhile, or the role may not see them).
func DescribeHolders(hs []LockHolder, rel string) string {
	if len(hs) == 0 {
		return "sessions that hold " + rel
	}
	const most = 3
	var said []string
	for i, h := range hs {
		if i == most {
			said = append(said, fmt.Sprintf("%d more", len(hs)-most))
			break
		}
		who := fmt.Sprintf("session %d", h.PID)
		var details []string
		switch {
		case h.ThisRun && h.Building != "":
			who, details = "this run's build of "+h.Building, []string{who}
		case h.ThisRun:
			who = "this run's " + who
		case h.Strata && h.Building != "":
			session := who
			if h.Run != nil {
				session += " of " + h.Run.String()
			}
			who, details = "another strata run's build of "+h.Building, []string{session}
		case h.Strata:
			who = "another strata run's " + who
		case h.Application != "":
			details = append(details, h.Application)
		}
		if h.Role != "" {
			details = append(details, "role "+h.Role)
		}
		if h.Client != "" {
			details = append(details, "from "+h.Client)
		}
		if h.State != "" {
			details = append(details, h.State)
		}
		if h.Since != "" {
			details = append(details, "in a transaction since "+h.Since)
		}
		holds := rel
		if h.Relation != "" {
			holds = h.Relation
		}
		if !h.OnRelation {
			holds = "the lock of swaps that recreate dependent views"
		}
		if len(details) > 0 {
			who += " (" + strings.Join(details, ", ") + ")"
		}
		said = append(said, who+", which holds "+holds)
	}
	if len(said) == 1 {
		return said[0]
	}
	return strings.Join(said[:len(said)-1], "; ") + "; and " + said[len(said)-1]
}
