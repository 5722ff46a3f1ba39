// Package postgres is strata's only door to the database: a pgx pool,
// transactions, catalog queries, the atomic swap of a relation with its
// dependent views, and PostgreSQL errors turned into messages that point
// at the user's SQL. It decides nothing about what to build.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"strata/engine/pgname"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Adapter holds the connection pool of one target. The pool is its own:
// every connection is taken through Acquire (Shared, BeginFunc), which
// waits for the command's connections on a server that has no room for
// more; one taken from the pool directly failed the node that asked for
// it.
type Adapter struct {
	pool *pgxpool.Pool
	room room
	// pids are the server processes of the pool's connections, to tell
	// this command's sessions from others' (LockHolders).
	pids sync.Map
	// settingsAfter is set once the server refused strata's session
	// settings as startup parameters (a connection pooler, PgBouncer):
	// its connections are then opened without them, and AfterConnect
	// sets them.
	settingsAfter atomic.Bool
	// settings are strata's session settings (the url's where it sets
	// them): startup parameters, and applied after connecting when
	// they did not take.
	settings [][2]string
}

// own says whether pid is the server process of one of a's connections.
func (a *Adapter) own(pid int) bool {
	_, ok := a.pids.Load(uint32(pid))
	return ok
}

// Stat is the pool's statistics.
func (a *Adapter) Stat() *pgxpool.Stat { return a.pool.Stat() }

// Connect opens a pool of at most conns connections and checks that the server answers.
func Connect(ctx context.Context, url string, conns int) (*Adapter, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, badSettings(err)
	}
	if conns < 1 {
		conns = 1
	}
	cfg.MaxConns = int32(conns)
	// The connections are opened side by side, in the background, as the
	// pool starts, rather than one after another as the command comes to
	// need them: a run needs one for its lock and one per thread, and each
	// new one (a server process starting) costs milliseconds.
	cfg.MinConns = int32(conns)
	cfg.ConnConfig.RuntimeParams["application_name"] = "strata"
	// strata sends UTF-8: the project's files, seeds and Go's strings. A
	// role, database or server whose client_encoding is another one
	// (LATIN1) had the server read each byte of 'Zürich' as a character
	// of its own, and store 'ZÃ¼rich' in views, tables and seeds.
	cfg.ConnConfig.RuntimeParams["client_encoding"] = "UTF8"
	// A cancelled context (Ctrl-C, SIGTERM, --fail-fast) sends a cancel request,
	// so the statement stops on the server and its transaction rolls back, rather
	// than only closing the socket and leaving the server busy.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
	}
	// If strata itself is killed, the server notices the lost client within a
	// second and rolls back, releasing the target's lock.
	if _, ok := cfg.ConnConfig.RuntimeParams["client_connection_check_interval"]; !ok {
		cfg.ConnConfig.RuntimeParams["client_connection_check_interval"] = "1000"
	}
	// A client that vanishes without closing its connections (its machine
	// lost power, a network between went down) sends the server no end of
	// them: its idle sessions (the run lock's, a build idle in its
	// transaction between attempts at a swap) were kept, with their locks,
	// until the server's operating system gave up on them, 2 hours 11
	// minutes by Linux's keepalive defaults, and the next scheduled run
	// waited (or, with --no-wait, failed) that long. The server probes a
	// strata session over TCP after 30s without traffic, then every 10s,
	// and ends it after 3 probes unanswered: within about a minute. A url
	// that sets them wins; over a unix socket they do nothing.
	for _, p := range [][2]string{{"tcp_keepalives_idle", "30"}, {"tcp_keepalives_interval", "10"}, {"tcp_keepalives_count", "3"}} {
		if _, ok := cfg.ConnConfig.RuntimeParams[p[0]]; !ok {
			cfg.ConnConfig.RuntimeParams[p[0]] = p[1]
		}
	}
	// strata's sessions are idle only while strata works or waits on
	// purpose: the run lock's session for the whole run, a build between
	// two attempts at a swap that readers held up (up to swap_max_wait).
	// A role's idle_session_timeout ended the run lock's session, and
	// with it the lock, so that a second run started beside the first;
	// its idle_in_transaction_session_timeout ended a build that waited
	// for readers. They are off for strata's sessions, as pg_dump turns
	// them off for its own; a url that sets them (?idle_session_timeout=)
	// wins.
	for _, p := range []string{"idle_session_timeout", "idle_in_transaction_session_timeout"} {
		if _, ok := cfg.ConnConfig.RuntimeParams[p]; !ok {
			cfg.ConnConfig.RuntimeParams[p] = "0"
		}
	}
	a := &Adapter{room: newRoom(conns)}
	for _, k := range sessionSettings {
		a.settings = append(a.settings, [2]string{k, cfg.ConnConfig.RuntimeParams[k]})
	}
	// Behind a connection pooler (PgBouncer), the startup parameters
	// above are refused ("unsupported startup parameter"), or ignored
	// when the pooler is told to ignore them: they are then set by the
	// statement each new connection runs, which finds its server process
	// too (the pooler's key data names none). Without a pooler, that
	// statement sets nothing, and the settings' reset values are strata's.
	plain, set := afterConnectSQL(nil), afterConnectSQL(a.settings)
	cfg.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
		a.leaveOutRefused(cc.RuntimeParams)
		return nil
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		sql := plain
		if a.settingsAfter.Load() {
			sql = set
		}
		var pid uint32
		var ignored [2]any
		if err := c.QueryRow(ctx, sql, pgx.QueryExecModeSimpleProtocol).Scan(&pid, &ignored[0], &ignored[1]); err != nil {
			return err
		}
		if pid != c.PgConn().PID() && sql == plain {
			// A pooler that took the settings and ignored them.
			a.settingsAfter.Store(true)
			if _, err := c.Exec(ctx, set); err != nil {
				return err
			}
		}
		c.PgConn().CustomData()[serverPIDKey] = pid
		a.pids.Store(pid, true)
		return nil
	}
	cfg.BeforeClose = func(c *pgx.Conn) { a.pids.Delete(serverPID(c.PgConn())) }
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot connect: %w", err)
	}
	a.pool = pool
	// A server that takes the connection and never answers is given up
	// on after answerWait; a connect_timeout (in the url, or
	// PGCONNECT_TIMEOUT) says how long instead, and pgx gives up then
	// (PGCONNECT_TIMEOUT=60 gave up after 15 s all the same). The wait
	// here leaves it room, should an attempt per host and TLS mode each
	// take that long.
	wait := answerWait
	if t := cfg.ConnConfig.ConnectTimeout; t > 0 {
		wait += time.Duration(1+len(cfg.ConnConfig.Fallbacks)) * t
	}
	pingCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err = a.ping(pingCtx)
	if startupParamRefused(err) {
		a.settingsAfter.Store(true)
		err = a.ping(pingCtx)
	}
	if err == nil {
		err = a.sessionPooled(pingCtx)
	}
	if err != nil {
		// Not waited for: Close waits for the connections the pool is
		// still opening in the background, which a server that accepted
		// them and never answers keeps until their connect_timeout (with
		// none, for ever), and strata is giving up on it (Ctrl-C, or
		// pingCtx's deadline).
		go pool.Close()
		if ctx.Err() == nil && pingCtx.Err() != nil {
			if t := cfg.ConnConfig.ConnectTimeout; t == 0 {
				err = fmt.Errorf("the server did not answer within %s (a connect_timeout in the url, or PGCONNECT_TIMEOUT, sets how long to wait)", answerWait)
			} else {
				// The wait ran out before pgx's own connect_timeout
				// said so (a loaded machine): said as pgx would.
				err = noAnswer(cfg.ConnConfig)
			}
		}
		return nil, fmt.Errorf("cannot connect to %s: %w", describeTarget(cfg.ConnConfig), explainConnect(url, cfg.ConnConfig, err))
	}
	return a, nil
}

// sessionSettings are the settings strata gives its sessions (Connect
// says why each), as startup parameters, and after connecting where a
// pooler refused or ignored them.
var sessionSettings = []string{
	"client_connection_check_interval",
	"tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count",
	"idle_session_timeout", "idle_in_transaction_session_timeout",
}

// serverPIDKey holds, in a connection's CustomData, its server process.
const serverPIDKey = "strata.server_pid"

// serverPID is the server process of c, as AfterConnect found it.
func serverPID(c *pgconn.PgConn) uint32 {
	pid, _ := c.CustomData()[serverPIDKey].(uint32)
	return pid
}

// afterConnectSQL is the one statement a new connection runs: it sets
// settings (none without a pooler), turns on Citus's repartition joins,
// and returns the server process.
func afterConnectSQL(settings [][2]string) string {
	sql := "select pg_backend_pid(), "
	if len(settings) > 0 {
		var set []string
		for _, kv := range settings {
			set = append(set, "set_config("+pgname.Literal(kv[0])+", "+pgname.Literal(kv[1])+", false)")
		}
		sql += "concat_ws(', ', " + strings.Join(set, ", ") + "), "
	} else {
		sql += "null, "
	}
	// On a Citus cluster, a join of distributed tables on other columns
	// than their distribution columns runs by repartitioning their rows
	// rather than being refused: a project's models and tests are written
	// for PostgreSQL, where every join works (SPEC 13).
	return sql + "(select set_config('citus.enable_repartition_joins', 'on', false) from pg_extension where extname = 'citus')"
}

// startupParamRefused says whether err is a server (a pooler: PgBouncer)
// refusing one of strata's session settings as a startup parameter.
func startupParamRefused(err error) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "08P01" {
		return false
	}
	for _, k := range sessionSettings {
		if pg.Message == "unsupported startup parameter: "+k {
			return true
		}
	}
	return false
}

// sessionPooled checks that each of strata's connections has a server
// session of its own for as long as it is open, which its run lock
// (a session's advisory lock), its session settings and temporary
// relations need. A pooler in transaction (or statement) mode gives each
// transaction whichever server session is free: a run lock taken there
// stayed with a server session other clients use, held up every later
// run until the pooler closed it, and a run given that session took the
// lock again beside another. Without a pooler the server process named
// at connecting is the session's, and nothing more is asked. Behind
// one, a second connection is opened: sessions that are the connection's
// own keep their process and never share it; a pooler hands a free
// server session (the one the first connection just left) to the next
// statement.
func (a *Adapter) sessionPooled(ctx context.Context) error {
	c, err := a.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	first := serverPID(c.c.Conn().PgConn())
	if c.c.Conn().PgConn().PID() == first {
		return nil
	}
	pidOf := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) (uint32, error) {
		var pid uint32
		err := q.QueryRow(ctx, "select pg_backend_pid()", pgx.QueryExecModeSimpleProtocol).Scan(&pid)
		return pid, err
	}
	a1, err := pidOf(c.c)
	if err != nil {
		return err
	}
	// A pooler in session mode whose server sessions are all taken
	// makes the second connection wait: then it is not asked.
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	other, err := pgx.ConnectConfig(pctx, a.connConfig())
	if err != nil {
		return nil
	}
	defer other.Close(context.WithoutCancel(ctx))
	b, err := pidOf(other)
	if err != nil {
		return nil
	}
	a2, err := pidOf(c.c)
	if err != nil {
		return err
	}
	if a1 == first && a2 == first && b != first {
		return nil
	}
	return &connectError{msg: "its connections go through a pooler that shares server sessions between transactions (as PgBouncer's pool_mode = transaction or statement does): strata needs a server session of its own for each connection, for its run lock (a session's advisory lock, which a shared session would keep after the run, holding up every later run), its session settings and its temporary tables; connect through a pool in session mode (pool_mode = session), or to the server directly",
		err: errors.New("connections share server sessions")}
}

// connConfig is the configuration of a connection of a's outside its
// pool: without strata's session settings where a pooler refused them.
func (a *Adapter) connConfig() *pgx.ConnConfig {
	cc := a.pool.Config().ConnConfig.Copy()
	a.leaveOutRefused(cc.RuntimeParams)
	return cc
}

// leaveOutRefused removes strata's session settings from a connection's
// startup parameters once a pooler refused them (AfterConnect sets them).
func (a *Adapter) leaveOutRefused(params map[string]string) {
	if a.settingsAfter.Load() {
		for _, k := range sessionSettings {
			delete(params, k)
		}
	}
}

// ping checks that the server answers, on a connection taken as the
// command's nodes take theirs: the pool is opening its other connections
// at the same time, and on a server with room for few, they may have
// taken it.
func (a *Adapter) ping(ctx context.Context) error {
	c, err := a.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return c.Ping(ctx)
}

// answerWait is how long Connect waits for a server that does not answer,
// when no connect_timeout says how long.
var answerWait = 15 * time.Second

func describeTarget(c *pgx.ConnConfig) string {
	return fmt.Sprintf("database %q as %q on %s", c.Database, c.User, where(c))
}

// Once, given before a statement's arguments (db.Exec(ctx, sql, Once,
// a, b)), sends the statement in one round trip (parse, bind and execute
// together, unnamed) instead of preparing it in a round trip of its own
// first, as pgx does with a statement it has not seen on that connection.
// It is for what a command sends once or twice on a connection (the run
// lock, strata_meta's records, the catalog), where preparing doubles the
// round trips and the prepared statement is never used again. Its
// arguments must be of Go types pgx maps to one PostgreSQL type (strings,
// integers, bools, times, []string); results come back as text, which
// pgx scans into the same Go values, except a date, timestamp or interval,
// whose text follows the session's DateStyle and IntervalStyle (a server,
// database or role may set German: 07.12.2026 ...) that pgx does not read:
// select those as text of a fixed form (state.Read's built_at).
const Once = pgx.QueryExecModeExec

// Close closes the pool.
func (a *Adapter) Close() { a.pool.Close() }

// Querier is what catalog helpers need: a pool, a connection or a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var (
	_ Querier = (*pgxpool.Pool)(nil)
	_ Querier = (pgx.Tx)(nil)
	_ Querier = (*pgx.Conn)(nil)
)

// PartitionKey returns the column a partitioned table is partitioned on
// ("" when its key is an expression or it is not partitioned) and the names
// of its partitions, sorted.
func PartitionKey(ctx context.Context, q Querier, r pgname.Rel) (string, []string, error) {
	var column *string
	var parts []string
	err := q.QueryRow(ctx, `select (select a.attname::text from pg_partitioned_table p
			join pg_attribute a on a.attrelid = p.partrelid and a.attnum = p.partattrs[0]
			where p.partrelid = c.oid),
		array(select x.relname::text from pg_inherits i join pg_class x on x.oid = i.inhrelid
			where i.inhparent = c.oid order by 1)
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = $1 and c.relname = $2`, r.Schema, r.Name).Scan(&column, &parts)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, nil
	}
	if err != nil || column == nil {
		return "", parts, err
	}
	return *column, parts, nil
}

// RelKind returns the kind of an existing relation: "table", "view",
// "materialized_view", "partitioned_table", or "" when it does not exist.
func RelKind(ctx context.Context, q Querier, r pgname.Rel) (string, error) {
	var k string
	err := q.QueryRow(ctx, `select c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`, r.Schema, r.Name).Scan(&k)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	switch k {
	case "r":
		return "table", nil
	case "v":
		return "view", nil
	case "m":
		return "materialized_view", nil
	case "p":
		return "partitioned_table", nil
	case "f":
		return "foreign_table", nil
	}
	return "other", nil
}

// Column is a column of a relation in the catalog.
type Column struct {
	Name string
	Type string
}

// Columns lists a relation's columns in order, with their types as
// format_type prints them. Schema pg_temp names the session's temporary schema.
func Columns(ctx context.Context, q Querier, r pgname.Rel) ([]Column, error) {
	rows, err := q.Query(ctx, `select a.attname, format_type(a.atttypid, a.atttypmod)
		from pg_attribute a
		where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped order by a.attnum`, r.Quoted())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Column, error) {
		var c Column
		err := row.Scan(&c.Name, &c.Type)
		return c, err
	})
}

// IndexColumns lists the columns of index r in key order; none when there
// is no such index. An expression in the index reads as "".
func IndexColumns(ctx context.Context, q Querier, r pgname.Rel) ([]string, error) {
	rows, err := q.Query(ctx, `select coalesce(a.attname, '')
		from pg_index i
		cross join lateral unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
		left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
		where i.indexrelid = to_regclass($1)
		order by k.ord`, r.Quoted())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Preparer is a Querier that can describe a statement: a transaction.
type Preparer interface {
	Querier
	Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error)
}

var (
	_ Preparer = (pgx.Tx)(nil)
	_ Preparer = (*Txn)(nil)
)

// ResultColumns describes the columns a query would return, without running it.
func ResultColumns(ctx context.Context, tx Preparer, sql string) ([]Column, error) {
	sd, err := tx.Prepare(ctx, "", sql)
	if err != nil {
		return nil, err
	}
	out := make([]Column, len(sd.Fields))
	for i, f := range sd.Fields {
		out[i].Name = f.Name
		if err := tx.QueryRow(ctx, "select format_type($1::oid, $2::int)", f.DataTypeOID, f.TypeModifier).Scan(&out[i].Type); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Privileges lists the privileges held on r by roles other than its owner;
// grantee "-" is PUBLIC.
func Privileges(ctx context.Context, q Querier, r pgname.Rel) ([]Grant, error) {
	rows, err := q.Query(ctx, `select case when a.grantee = 0 then '-' else pg_get_userbyid(a.grantee) end, a.privilege_type, a.is_grantable
		from pg_class c, aclexplode(c.relacl) a
		where c.oid = to_regclass($1) and a.grantee <> c.relowner order by 1, 2`, r.Quoted())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Grant, error) {
		var g Grant
		err := row.Scan(&g.Grantee, &g.Privilege, &g.Grantable)
		return g, err
	})
}

// HasUniqueIndex reports whether r has a unique index on plain columns and
// without a predicate, which REFRESH MATERIALIZED VIEW CONCURRENTLY needs.
func HasUniqueIndex(ctx context.Context, q Querier, r pgname.Rel) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `select exists (select from pg_index i where i.indrelid = to_regclass($1)
		and i.indisunique and i.indisvalid and i.indpred is null and i.indexprs is null)`, r.Quoted()).Scan(&ok)
	return ok, err
}

// ViewDef returns the normalized definition of a view or materialized view.
func ViewDef(ctx context.Context, q Querier, r pgname.Rel) (string, error) {
	var def string
	err := q.QueryRow(ctx, `select pg_get_viewdef(to_regclass($1))`, r.Quoted()).Scan(&def)
	return def, err
}

// Error is a database error placed in the SQL that caused it.
type Error struct {
	PG   *pgconn.PgError
	Line int // 1-based line in the SQL the user can read (compiled file), 0 if unknown
	Msg  string
	// at is the character of the body at which the server placed the
	// error, from 0; -1 when it gave no position or one outside the body.
	at int
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.PG }

// Offset is the character of the body (the user's SQL inside the
// statement) at which the server placed the error, from 0; false when it
// is not known. compile.Result.SQLError maps it to the user's file.
func (e *Error) Offset() (int, bool) { return e.at, e.at >= 0 }

// Explain turns err into a message naming the database's text, its detail
// and hint, and the line in body at which PostgreSQL placed the error; body
// starts at bodyOffset (in characters) inside stmt.
func Explain(err error, stmt string, bodyOffset int) error {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return err
	}
	msg := pg.Message
	if pg.Detail != "" {
		msg += " (" + pg.Detail + ")"
	}
	if pg.Hint != "" {
		msg += "; hint: " + pg.Hint
	}
	if pg.Code == "57014" && pg.Message == "canceling statement due to statement timeout" {
		// Said as PostgreSQL says it, the statement_timeout could be
		// strata's: it is the role's, the database's or the server's.
		msg += " (the statement_timeout set for the role or database strata connects as: raise it there, alter role ... set statement_timeout = '1h', or for one model in its pre_hook: set local statement_timeout = '1h')"
	}
	msg += citusPasswordHint(pg)
	line, at := 0, -1
	if pg.Position > 0 {
		runes := []rune(stmt)
		pos := int(pg.Position) - 1
		if bodyOffset >= 0 && pos >= bodyOffset && pos <= len(runes) {
			line = 1 + strings.Count(string(runes[bodyOffset:pos]), "\n")
			at = pos - bodyOffset
		}
	}
	return &Error{PG: pg, Line: line, Msg: fmt.Sprintf("%s [SQLSTATE %s]", msg, pg.Code), at: at}
}

// citusPasswordHint says what to do, when pg is Citus failing to connect
// to one of its nodes because that node asks the role for a password Citus
// does not have ('connection to the remote node etl@host:5432 failed with
// the following error: fe_sendauth: no password supplied', or the password
// was refused): Citus connects to the other nodes as the session's role,
// and takes passwords from pg_dist_authinfo. "" otherwise.
func citusPasswordHint(pg *pgconn.PgError) string {
	rest, found := strings.CutPrefix(pg.Message, "connection to the remote node ")
	if !found || !strings.Contains(rest, " failed with the following error: ") ||
		!strings.Contains(rest, "no password supplied") && !strings.Contains(rest, "password authentication failed") {
		return ""
	}
	role, _, found := strings.Cut(rest, "@")
	if !found {
		return ""
	}
	return fmt.Sprintf(" (Citus connects from the coordinator to its other nodes as the role strata connects as, %s, and that node asks it for a password: give Citus the password, as a superuser on the coordinator: insert into pg_dist_authinfo (nodeid, rolename, authinfo) values (0, %s, 'password=...'); or let the role in from the coordinator without one, in the node's pg_hba.conf)",
		role, pgname.Literal(role))
}

// Transient reports whether err is worth retrying: a lost connection, a
// serialization failure or a deadlock.
func Transient(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "40001", "40P01", "57P01", "08000", "08003", "08006", "08001", "08004":
			return true
		}
		return false
	}
	var ne net.Error
	return pgconn.SafeToRetry(err) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// Deadlock reports whether err is the server canceling a transaction to
// break a deadlock (SQLSTATE 40P01; Citus uses it for distributed
// deadlocks too). The transaction was rolled back.
func Deadlock(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "40P01"
}

// ConnectionLost reports whether err may mean that the server went away:
// the connection broke, could not be made, or the server ended it
// (shutdown, crash, not accepting connections). A single backend
// terminated by hand looks the same; Reachable tells them apart.
func ConnectionLost(err error) bool {
	// A server that refuses a new connection for want of room is there.
	if err == nil || tooManyClients(err) {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return strings.HasPrefix(pg.Code, "08") || pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed")
}

// Reachable reports whether the server answers a new connection within a
// few seconds (or ctx).
func (a *Adapter) Reachable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgconn.ConnectConfig(ctx, &a.connConfig().Config)
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Exec(ctx, "select 1").Close() == nil
}

// EnsureSchema creates schema unless it exists. PostgreSQL checks the
// CREATE privilege on the database before it looks for the schema, so a
// "create schema if not exists" of a schema a DBA created for a role
// without that privilege fails: it is only run for a schema that is
// missing. When the role may not create it, the error says so and what
// to grant (as a *SchemaDeniedError). Two sessions creating one schema at
// once are no error: the schema then exists. On a transaction, a failure
// aborts it; on a pool or connection nothing is left behind.
func EnsureSchema(ctx context.Context, q Querier, schema string) error {
	var exists bool
	var role, db string
	if err := q.QueryRow(ctx, "select exists (select from pg_namespace where nspname = $1), current_user, current_database()", Once, schema).Scan(&exists, &role, &db); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err := q.Exec(ctx, "create schema if not exists "+pgname.Ident(schema))
	var pg *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pg) && (pg.Code == "23505" || pg.Code == "42P06"):
		if ok, err2 := SchemaExists(ctx, q, schema); err2 == nil && ok {
			return nil
		}
	case errors.As(err, &pg) && pg.Code == "42501":
		return &SchemaDeniedError{Schema: schema, Role: role, Database: db, Err: err}
	case errors.As(err, &pg):
		// Citus creates the schema on every node, as this role.
		return fmt.Errorf("creating schema %s: %w%s", schema, err, citusPasswordHint(pg))
	}
	return fmt.Errorf("creating schema %s: %w", schema, err)
}

// SchemaDeniedError is a schema the role may not create: it lacks the
// CREATE privilege on the database.
type SchemaDeniedError struct {
	Schema, Role, Database string
	Err                    error
}

func (e *SchemaDeniedError) Error() string {
	s, r, d := SQLName(e.Schema), SQLName(e.Role), SQLName(e.Database)
	return fmt.Sprintf("cannot create schema %s: role %s may not create schemas in database %s (%v): have the schema created for the role (create schema %s authorization %s), or grant it the CREATE privilege on the database (grant create on database %s to %s)",
		s, r, d, Explain(e.Err, "", 0), s, r, d, r)
}

var plainName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// SQLName is name as it is written in SQL that a user copies from a
// message: bare when it may be, quoted otherwise.
func SQLName(name string) string {
	if plainName.MatchString(name) {
		return name
	}
	return pgname.Ident(name)
}

func (e *SchemaDeniedError) Unwrap() error { return e.Err }

// SchemaExists reports whether schema exists.
func SchemaExists(ctx context.Context, q Querier, schema string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, "select exists (select from pg_namespace where nspname = $1)", schema).Scan(&ok)
	return ok, err
}

// IndexMethods are the access methods (btree, hash, ...) of r's indexes,
// by index name.
func IndexMethods(ctx context.Context, q Querier, r pgname.Rel) (map[string]string, error) {
	rows, err := q.Query(ctx, `select c.relname, am.amname
		from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam
		where i.indrelid = to_regclass($1)`, r.Quoted())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for rows.Next() {
		var name, method string
		if err := rows.Scan(&name, &method); err != nil {
			rows.Close()
			return nil, err
		}
		out[name] = method
	}
	return out, rows.Err()
}

// RowEstimate is the planner's estimate of the rows of r
// (RowEstimateSQL); on a server with Citus (citus), of a Citus table its
// shards' (CitusRowEstimates).
func RowEstimate(ctx context.Context, q Querier, r pgname.Rel, citus bool) (float64, error) {
	if citus {
		est, err := CitusRowEstimates(ctx, q, []string{r.Quoted()})
		if n, ok := est[0]; ok || err != nil {
			return n, err
		}
	}
	var estimate float64
	err := q.QueryRow(ctx, "select "+RowEstimateSQL("c")+" from pg_class c where c.oid = $1::regclass", r.Quoted()).Scan(&estimate)
	return estimate, err
}

// RowEstimateSQL is the SQL (float8) of the planner's estimate of the rows
// of the relation whose pg_class row is alias: its reltuples (0 for what
// was never analyzed), and of a partitioned table the larger of its own
// (which analyze of the table itself sets to all its rows) and the sum of
// its partitions' - not both, which counts every row twice.
func RowEstimateSQL(alias string) string {
	return `(case when ` + alias + `.relkind = 'p' then greatest(` + alias + `.reltuples, coalesce((select sum(greatest(x.reltuples, 0))
		from pg_class x where x.oid in (select inhrelid from pg_inherits where inhparent = ` + alias + `.oid)), 0))
		else greatest(` + alias + `.reltuples, 0) end)::float8`
}

// TotalSizeSQL is the SQL (bigint) of the size on disk, indexes and TOAST
// included, of the relation whose regclass is rel (0 when NULL): of a
// partitioned table, its partitions'; on a server with Citus (citus), of
// a Citus table, its shards' on every node (citus_total_relation_size),
// since its table on the coordinator is an empty shell. A node that does
// not answer counts for nothing.
func TotalSizeSQL(rel string, citus bool) string {
	size := `pg_total_relation_size(t.relid)`
	if citus {
		size = `case when exists (select from pg_dist_partition p where p.logicalrelid = t.relid)
			then citus_total_relation_size(t.relid, false) else pg_total_relation_size(t.relid) end`
	}
	return `(select coalesce(sum(` + size + `), 0)::bigint
		from (select ` + rel + ` as relid union select relid from pg_partition_tree(` + rel + `)) as t)`
}

// Populated reports whether the materialized view r holds data (it was not
// created or refreshed with no data).
func Populated(ctx context.Context, q Querier, r pgname.Rel) (bool, error) {
	var populated bool
	err := q.QueryRow(ctx, "select relispopulated from pg_class where oid = to_regclass($1)", r.Quoted()).Scan(&populated)
	return populated, err
}

// Writable reports, as an error that says where it is set and how to
// undo it, a connection whose transactions are read-only: a standby, or
// default_transaction_read_only on for the role, the database, the
// server or the connection. strata's commands that build would fail at
// their first write with "cannot execute INSERT in a read-only
// transaction", which says neither.
func Writable(ctx context.Context, q Querier) error {
	var ro, standby bool
	var source, role, db string
	err := q.QueryRow(ctx, `select current_setting('transaction_read_only')::bool, pg_is_in_recovery(),
			coalesce((select source from pg_settings where name = 'default_transaction_read_only'), ''), current_user, current_database()`,
		Once).Scan(&ro, &standby, &source, &role, &db)
	if err != nil || !ro {
		return err
	}
	r, d := SQLName(role), SQLName(db)
	if standby {
		return errors.New("the server is a standby (it is in recovery), where every transaction is read-only: connect to the primary")
	}
	var where, undo string
	switch source {
	case "user":
		where, undo = "for role "+r, "alter role "+r+" reset default_transaction_read_only, or connect as a role that may write"
	case "database":
		where, undo = "for database "+d, "alter database "+d+" reset default_transaction_read_only"
	case "database user":
		where, undo = "for role "+r+" in database "+d, "alter role "+r+" in database "+d+" reset default_transaction_read_only"
	case "client", "environment variable":
		where, undo = "by the connection (options in the url, or PGOPTIONS)", "take -c default_transaction_read_only=on out of them"
	default:
		where, undo = "in the server's configuration ("+source+")", "set it off there, or for the role: alter role "+r+" set default_transaction_read_only = off"
	}
	return fmt.Errorf("the connection is read-only: default_transaction_read_only is on %s, and strata writes: %s", where, undo)
}
