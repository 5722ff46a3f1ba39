// Package state is strata's record, in the target database itself, of what
// it built (docs/environments.md): schema strata_meta holds, per project, target and
// environment, one row per node with its checksum, config, compiled SQL
// and its hash, output columns and types read from the catalog, relation,
// status, when and by which invocation. A node's row is written by a
// statement that joins the transaction that builds it, so the record never
// disagrees with what the database holds.
//
// The layout is versioned: Migrate brings an older one up to date and
// refuses one written by a newer strata. Readers never create or migrate
// anything: a target without strata_meta has no state, and one with a
// newer layout is an error.
//
// It generates SQL and reads rows; it never prints and knows nothing of
// commands.
package state

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/pgname"
)

// Schema is the schema strata keeps its state in.
const Schema = "strata_meta"

// Version is the layout this strata writes. Migrations[i] brings layout i
// to layout i+1.
const Version = 2

// migrations are the layouts in order: each is applied once, in the
// transaction that records the new version.
var migrations = []string{
	// 1: invocations and the nodes they built.
	`create table strata_meta.invocations (
		invocation_id text primary key,
		project text not null,
		target text not null,
		env text not null,
		command text not null,
		started_at timestamptz not null,
		strata_version text not null
	);
	create table strata_meta.nodes (
		project text not null,
		target text not null,
		env text not null,
		unique_id text not null,
		kind text not null,
		name text not null,
		relation_schema text not null default '',
		relation_name text not null default '',
		materialized text not null default '',
		checksum text not null,
		config_checksum text not null,
		config jsonb not null,
		vars_read jsonb not null default '{}',
		env_vars_read jsonb not null default '{}',
		compiled_sql text not null default '',
		sql_hash text not null default '',
		columns jsonb not null default '[]',
		status text not null,
		built_at timestamptz not null,
		invocation_id text not null references strata_meta.invocations,
		primary key (project, target, env, unique_id)
	)`,
	// 2: when and how each invocation ended, for env ls and retries.
	`alter table strata_meta.invocations
		add column finished_at timestamptz,
		add column status text not null default ''`,
}

// metaLock is the key of the lock that serializes creating and migrating
// strata_meta.
const metaLock = "strata:meta"

// NewerError is a strata_meta written by a newer strata than this one.
type NewerError struct{ Found int }

func (e *NewerError) Error() string {
	return fmt.Sprintf("schema %s has layout version %d, newer than this strata's %d: upgrade strata (or use the strata that wrote it)", Schema, e.Found, Version)
}

// NothingRecorded is the error of a target whose strata_meta holds nothing
// of scope (other projects or targets share the database): errors.Is it
// ErrMissing, as for a target where nothing was ever recorded.
func NothingRecorded(s Scope) error { return nothingRecorded(s) }

type nothingRecorded Scope

func (e nothingRecorded) Error() string {
	return fmt.Sprintf("nothing of project %s is recorded for target %s in this database yet (%s holds other projects' or targets' records): build production first", e.Project, e.Target, Schema)
}

func (e nothingRecorded) Is(target error) bool { return target == ErrMissing }

// ErrMissing is a target without strata_meta: nothing was ever recorded there.
var ErrMissing = errors.New("nothing is recorded in this target yet (schema " + Schema + " does not exist): build production first")

// Migrate creates strata_meta on first use and brings an older layout up to
// Version, in one transaction; a newer layout is a *NewerError and changes
// nothing.
func Migrate(ctx context.Context, db postgres.Querier) error {
	found, err := version(ctx, db)
	if err != nil {
		return err
	}
	if found == Version {
		return nil
	}
	if found > Version {
		return &NewerError{Found: found}
	}
	tx, err := begin(ctx, db)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Two runs on a fresh target create it once: the second waits, then
	// finds the layout up to date.
	if _, err := tx.Exec(ctx, "select pg_advisory_xact_lock(hashtextextended($1, 0))", postgres.Once, metaLock); err != nil {
		return err
	}
	// Only a missing schema is created: one a DBA created for the role is
	// used as it is, without the CREATE privilege on the database.
	if err := postgres.EnsureSchema(ctx, tx, Schema); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "create table if not exists strata_meta.layout (version int not null)"); err != nil {
		return fmt.Errorf("creating table strata_meta.layout: %w", err)
	}
	var rows []int
	r, err := tx.Query(ctx, "select version from strata_meta.layout", postgres.Once)
	if err == nil {
		rows, err = pgx.CollectRows(r, pgx.RowTo[int])
	}
	if err != nil {
		return err
	}
	found = 0
	if len(rows) > 0 {
		found = rows[0]
	}
	if found > Version {
		return &NewerError{Found: found}
	}
	for v := found; v < Version; v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrating %s from layout %d to %d: %w", Schema, v, v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, "delete from strata_meta.layout; insert into strata_meta.layout values ("+fmt.Sprint(Version)+")"); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// MigrateTo brings strata_meta to layout v exactly: for tests of migrations.
func MigrateTo(ctx context.Context, db postgres.Querier, v int) error {
	if _, err := db.Exec(ctx, "create schema if not exists "+pgname.Ident(Schema)+"; create table if not exists strata_meta.layout (version int not null)"); err != nil {
		return err
	}
	for i := 0; i < v; i++ {
		if _, err := db.Exec(ctx, migrations[i]); err != nil {
			return err
		}
	}
	_, err := db.Exec(ctx, "delete from strata_meta.layout; insert into strata_meta.layout values ("+fmt.Sprint(v)+")")
	return err
}

// begin starts a transaction on db: a pool or a connection.
func begin(ctx context.Context, db postgres.Querier) (pgx.Tx, error) {
	b, ok := db.(interface {
		Begin(context.Context) (pgx.Tx, error)
	})
	if !ok {
		return nil, errors.New("state: cannot begin a transaction on this connection")
	}
	return b.Begin(ctx)
}

// version is the layout strata_meta has: 0 when it does not exist.
func version(ctx context.Context, q postgres.Querier) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx, "select to_regclass('strata_meta.layout') is not null", postgres.Once).Scan(&exists); err != nil {
		return 0, denied(ctx, q, err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := q.QueryRow(ctx, "select coalesce(max(version), 0) from strata_meta.layout", postgres.Once).Scan(&v)
	return v, denied(ctx, q, err)
}

// denied says err, a privilege strata_meta's schema or tables refused, for
// the person who runs strata: another role made strata_meta (one target,
// a CI role and a person's own), and PostgreSQL's "permission denied for
// schema strata_meta" said neither whose it is nor what to do. Any other
// error, or one said so already, is returned as it is.
func denied(ctx context.Context, q postgres.Querier, err error) error {
	var pg *pgconn.PgError
	var said *MetaDeniedError
	if !errors.As(err, &pg) || pg.Code != "42501" || errors.As(err, &said) {
		return err
	}
	var owner, role string
	if q.QueryRow(ctx, "select pg_get_userbyid(nspowner), current_user::text from pg_namespace where nspname = $1", postgres.Once, Schema).Scan(&owner, &role) != nil || owner == role {
		return err
	}
	return &MetaDeniedError{Role: role, Owner: owner, Err: err}
}

// MetaDeniedError is strata_meta refused to a role other than the one
// that made it.
type MetaDeniedError struct {
	Role, Owner string
	Err         error
}

func (e *MetaDeniedError) Error() string {
	r, o := postgres.SQLName(e.Role), postgres.SQLName(e.Owner)
	return fmt.Sprintf("role %s may not use schema %s, where strata keeps its records of the target's runs; role %s made it: run strata as %s, or make %s a member of it (grant %s to %s) (%v)",
		r, Schema, o, o, r, o, r, e.Err)
}

func (e *MetaDeniedError) Unwrap() error { return e.Err }

// readable says whether strata_meta can be read: ErrMissing when it does
// not exist, a *NewerError when a newer strata wrote it. An older layout
// reads as nothing recorded until a run migrates it.
func readable(ctx context.Context, q postgres.Querier) (bool, error) {
	v, err := version(ctx, q)
	switch {
	case err != nil:
		return false, err
	case v == 0:
		return false, ErrMissing
	case v > Version:
		return false, &NewerError{Found: v}
	}
	return v == Version, nil
}

// Scope is whose records they are: one project on one target, in
// production (Env "") or in an environment.
type Scope struct {
	Project, Target, Env string
}

// Column is an output column and its type as format_type prints it.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Node is the record of one node.
type Node struct {
	ID, Kind, Name string
	// Relation is where it was built; zero for an ephemeral model, and a
	// test's failures table when it stores them.
	Relation     pgname.Rel
	Materialized string
	// Checksum, ConfigSum, Vars and EnvVars are what state:modified
	// compares (as in manifest.json).
	Checksum, ConfigSum string
	Config              json.RawMessage
	Vars, EnvVars       map[string]string
	// SQL is the compiled SQL; SQLHash its hash.
	SQL, SQLHash string
	// Columns are read from the catalog when the record is written.
	Columns    []Column
	Status     string
	BuiltAt    time.Time
	Invocation string
	// Env is the environment the record belongs to ("" production); set
	// by Overlay.
	Env string
}

// Hash is how the compiled SQL's hash is written.
func Hash(sql string) string {
	s := sha256.Sum256([]byte(sql))
	return hex.EncodeToString(s[:])
}

// NewInvocation is a fresh invocation id.
func NewInvocation() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Invocation is one strata command that recorded nodes.
type Invocation struct {
	ID      string
	Scope   Scope
	Command string
	Started time.Time
	Version string
}

// Begin records the start of invocation inv, in its own transaction
// (node records refer to it). It migrates strata_meta first.
//
// The caller holds the run lock of inv's scope, so no other invocation of
// that scope is running: one recorded without an end was killed (or its
// server went away). It is recorded as "interrupted", ended when it built
// its last node (or when it started, if it built none).
func Begin(ctx context.Context, db postgres.Querier, inv Invocation) error {
	if err := Migrate(ctx, db); err != nil {
		return denied(ctx, db, err)
	}
	_, err := db.Exec(ctx, `with ended as (
			update strata_meta.invocations i set status = 'interrupted',
				finished_at = coalesce((select max(n.built_at) from strata_meta.nodes n where n.invocation_id = i.invocation_id), i.started_at)
			where i.project = $1 and i.target = $2 and i.env = $3 and i.finished_at is null)
		insert into strata_meta.invocations (invocation_id, project, target, env, command, started_at, strata_version)
		values ($4, $1, $2, $3, $5, $6, $7)`, postgres.Once, inv.Scope.Project, inv.Scope.Target, inv.Scope.Env, inv.ID, inv.Command, inv.Started, inv.Version)
	return denied(ctx, db, err)
}

// Finish records how invocation id ended: "success" or "error".
func Finish(ctx context.Context, db postgres.Querier, id, status string) error {
	_, err := db.Exec(ctx, "update strata_meta.invocations set finished_at = now(), status = $2 where invocation_id = $1", postgres.Once, id, status)
	return err
}

// Forget deletes the records of scope's models and seeds that the project
// no longer has (their ids are not in ids) and whose relation is gone, or
// is now placed by a node of the project (rels, each schema and name):
// nothing is left for a build to drop, nor for defer to read. A removed
// model whose relation still exists stays recorded until it is dropped.
func Forget(ctx context.Context, db postgres.Querier, s Scope, ids []string, rels []pgname.Rel) error {
	schemas, names := make([]string, len(rels)), make([]string, len(rels))
	for i, r := range rels {
		schemas[i], names[i] = r.Schema, r.Name
	}
	_, err := db.Exec(ctx, `delete from strata_meta.nodes n
		where n.project = $1 and n.target = $2 and n.env = $3 and n.kind in ('model', 'seed') and n.unique_id <> all($4::text[])
		and (n.relation_name = '' or to_regclass(format('%I.%I', n.relation_schema, n.relation_name)) is null
			or (n.relation_schema, n.relation_name) in (select * from unnest($5::text[], $6::text[])))`,
		postgres.Once, s.Project, s.Target, s.Env, ids, schemas, names)
	return err
}

// Leftover is a relation a model or seed of scope was recorded as built
// at, which is still in the database and which no node of the project
// places now.
type Leftover struct {
	ID, Kind, Name string
	Relation       pgname.Rel
	// DropKind is what drops it: table, view, materialized view.
	DropKind string
}

// Leftovers are scope's recorded model and seed relations that still
// exist and that none of rels (where the project's models and seeds are
// built now) is: left by a model removed or renamed, made ephemeral, or
// moved by its alias or schema, which strata builds no more and drops
// not. A relation that a model or seed of another project, target or
// environment (or another node of scope) was built at since is not one of
// them: it holds that build, not scope's (a model moved to another project
// on the same database). One query in one round trip, whatever the number
// of nodes; sorted by relation. It reads strata_meta as Begin left it:
// call it once the run has begun. The records it returns are marked
// Removed.
func Leftovers(ctx context.Context, q postgres.Querier, s Scope, rels []pgname.Rel) ([]Leftover, error) {
	schemas, names := make([]string, len(rels)), make([]string, len(rels))
	for i, r := range rels {
		schemas[i], names[i] = r.Schema, r.Name
	}
	// Each is recorded as Removed, in the same statement: the project
	// builds the relation no more, so another project's model may be
	// built there (TakenElsewhere).
	rows, err := q.Query(ctx, `with leftover as (select n.unique_id, n.kind, n.name, n.relation_schema, n.relation_name, c.relkind::text as relkind
		from strata_meta.nodes n
		join pg_namespace ns on ns.nspname = n.relation_schema
		join pg_class c on c.relnamespace = ns.oid and c.relname = n.relation_name and c.relkind in ('r', 'p', 'v', 'm', 'f')
		where n.project = $1 and n.target = $2 and n.env = $3 and n.kind in ('model', 'seed') and n.relation_name <> ''
		and (n.relation_schema, n.relation_name) not in (select * from unnest($4::text[], $5::text[]))
		and not exists (select from strata_meta.nodes o
			where o.relation_schema = n.relation_schema and o.relation_name = n.relation_name and o.kind in ('model', 'seed')
			and (o.project, o.target, o.env, o.unique_id) <> (n.project, n.target, n.env, n.unique_id) and o.built_at > n.built_at)),
		marked as (update strata_meta.nodes m set status = $6 from leftover l
			where m.project = $1 and m.target = $2 and m.env = $3 and m.unique_id = l.unique_id and m.status <> $6)
		select * from leftover
		order by relation_schema, relation_name, unique_id`,
		postgres.Once, s.Project, s.Target, s.Env, schemas, names, Removed)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Leftover
	for rows.Next() {
		var l Leftover
		var relkind string
		if err := rows.Scan(&l.ID, &l.Kind, &l.Name, &l.Relation.Schema, &l.Relation.Name, &relkind); err != nil {
			return nil, err
		}
		l.DropKind = dropKind(relkind)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Removed is the status Leftovers gives the record of a relation the
// scope's project builds no more: it is no longer that project's, and
// another project may build a model there (one moved to it).
const Removed = "removed"

// Taken is a relation a node builds that a model or seed of another
// project was the last to build.
type Taken struct {
	Relation                         pgname.Rel
	Project, Target, Env, Kind, Name string
	BuiltAt                          time.Time
}

// TakenElsewhere are those of rels (where scope's selected models and
// seeds are built) that still exist and whose latest record is a model's
// or seed's of another project, which builds it still (its runs since did
// not find it left behind, Removed): two projects on one database that
// build one relation replace each other's rows at every build. Another
// target or environment of scope's own project is not another project
// (the project's code builds the same thing there). One query in one
// round trip; sorted by relation. It reads strata_meta as Begin left it:
// call it once the run has begun.
func TakenElsewhere(ctx context.Context, q postgres.Querier, s Scope, rels []pgname.Rel) ([]Taken, error) {
	schemas, names := make([]string, len(rels)), make([]string, len(rels))
	for i, r := range rels {
		schemas[i], names[i] = r.Schema, r.Name
	}
	rows, err := q.Query(ctx, `select n.relation_schema, n.relation_name, n.project, n.target, n.env, n.kind, n.name,
		to_char(n.built_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
		from strata_meta.nodes n
		join pg_namespace ns on ns.nspname = n.relation_schema
		join pg_class c on c.relnamespace = ns.oid and c.relname = n.relation_name and c.relkind in ('r', 'p', 'v', 'm', 'f')
		where n.project <> $1 and n.kind in ('model', 'seed') and n.status <> $4
		and (n.relation_schema, n.relation_name) in (select * from unnest($2::text[], $3::text[]))
		and not exists (select from strata_meta.nodes o
			where o.relation_schema = n.relation_schema and o.relation_name = n.relation_name and o.kind in ('model', 'seed')
			and o.built_at > n.built_at)
		order by n.relation_schema, n.relation_name, n.project, n.target, n.env`,
		postgres.Once, s.Project, schemas, names, Removed)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Taken
	for rows.Next() {
		var t Taken
		var built string
		if err := rows.Scan(&t.Relation.Schema, &t.Relation.Name, &t.Project, &t.Target, &t.Env, &t.Kind, &t.Name, &built); err != nil {
			return nil, err
		}
		at, err := time.Parse(time.RFC3339Nano, built)
		if err != nil {
			return nil, fmt.Errorf("%s.nodes: the record of %s cannot be read: built_at %q: %w", Schema, t.Relation, built, err)
		}
		t.BuiltAt = at
		out = append(out, t)
	}
	return out, rows.Err()
}

// Write is the statement that records n for scope, to run in the
// transaction that builds n (so it may go in a batch: it takes no
// arguments). Its columns are read from the catalog by the statement
// itself, as the transaction sees the relation.
func Write(s Scope, n Node) string {
	lit := pgname.Literal
	js := func(v any) string {
		b, _ := json.Marshal(v)
		if string(b) == "null" {
			b = []byte("{}")
		}
		return lit(string(b)) + "::jsonb"
	}
	cfg := string(n.Config)
	if cfg == "" {
		cfg = "{}"
	}
	columns := "'[]'::jsonb"
	if n.Relation.Name != "" {
		columns = `(select coalesce(jsonb_agg(jsonb_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)) order by a.attnum), '[]'::jsonb)
	from pg_attribute a where a.attrelid = to_regclass(` + lit(n.Relation.Quoted()) + `) and a.attnum > 0 and not a.attisdropped)`
	}
	vals := []string{lit(s.Project), lit(s.Target), lit(s.Env), lit(n.ID), lit(n.Kind), lit(n.Name),
		lit(n.Relation.Schema), lit(n.Relation.Name), lit(n.Materialized), lit(n.Checksum), lit(n.ConfigSum),
		lit(cfg) + "::jsonb", js(n.Vars), js(n.EnvVars), lit(n.SQL), lit(n.SQLHash), columns, lit(n.Status), "now()", lit(n.Invocation)}
	return `insert into strata_meta.nodes (project, target, env, unique_id, kind, name, relation_schema, relation_name, materialized,
	checksum, config_checksum, config, vars_read, env_vars_read, compiled_sql, sql_hash, columns, status, built_at, invocation_id)
values (` + strings.Join(vals, ", ") + `)
on conflict (project, target, env, unique_id) do update set kind = excluded.kind, name = excluded.name,
	relation_schema = excluded.relation_schema, relation_name = excluded.relation_name, materialized = excluded.materialized,
	checksum = excluded.checksum, config_checksum = excluded.config_checksum, config = excluded.config,
	vars_read = excluded.vars_read, env_vars_read = excluded.env_vars_read, compiled_sql = excluded.compiled_sql,
	sql_hash = excluded.sql_hash, columns = excluded.columns, status = excluded.status, built_at = excluded.built_at,
	invocation_id = excluded.invocation_id`
}

// Read returns the records of scope by node id: ErrMissing when nothing
// was ever recorded on the target, a *NewerError when a newer strata
// wrote strata_meta. An older layout reads as nothing recorded (the next
// run migrates it).
func Read(ctx context.Context, q postgres.Querier, s Scope) (map[string]*Node, error) {
	ok, err := readable(ctx, q)
	if err != nil || !ok {
		return map[string]*Node{}, err
	}
	// Once sends the statement in one round trip and its results come
	// back as text; a timestamp's text follows the session's DateStyle
	// (SQL, German: 07.12.2026 ...), which pgx does not read, so built_at
	// comes as ISO 8601 in UTC, whatever the server's settings.
	rows, err := q.Query(ctx, `select unique_id, kind, name, relation_schema, relation_name, materialized, checksum, config_checksum,
		config::text, vars_read::text, env_vars_read::text, compiled_sql, sql_hash, columns::text, status,
		to_char(built_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), invocation_id
		from strata_meta.nodes where project = $1 and target = $2 and env = $3`, postgres.Once, s.Project, s.Target, s.Env)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*Node{}
	for rows.Next() {
		n := &Node{Env: s.Env}
		var cfg, vars, envVars, cols, built string
		if err := rows.Scan(&n.ID, &n.Kind, &n.Name, &n.Relation.Schema, &n.Relation.Name, &n.Materialized, &n.Checksum, &n.ConfigSum,
			&cfg, &vars, &envVars, &n.SQL, &n.SQLHash, &cols, &n.Status, &built, &n.Invocation); err != nil {
			return nil, err
		}
		at, err := time.Parse(time.RFC3339Nano, built)
		if err != nil {
			return nil, fmt.Errorf("%s.nodes: the record of %s cannot be read: built_at %q: %w", Schema, n.ID, built, err)
		}
		n.BuiltAt = at.Local()
		n.Config = json.RawMessage(cfg)
		if err := errors.Join(json.Unmarshal([]byte(vars), &n.Vars), json.Unmarshal([]byte(envVars), &n.EnvVars), json.Unmarshal([]byte(cols), &n.Columns)); err != nil {
			return nil, fmt.Errorf("%s.nodes: the record of %s cannot be read: %w", Schema, n.ID, err)
		}
		out[n.ID] = n
	}
	return out, rows.Err()
}

// Overlay is what an environment sees: its own records over production's.
func Overlay(prod, env map[string]*Node) map[string]*Node {
	out := make(map[string]*Node, len(prod)+len(env))
	for id, n := range prod {
		out[id] = n
	}
	for id, n := range env {
		out[id] = n
	}
	return out
}

// Env is one environment of a project on a target, as env ls shows it.
type Env struct {
	Name   string
	Models int
	Bytes  int64 // the relations' total size on disk (postgres.TotalSizeSQL)
	// LastBuild is when a model or seed was last built in it; zero when
	// none was (only tests ran there). Test runs build nothing, and the
	// sources and exposures every run records at its end are not built.
	LastBuild time.Time
}

// Envs lists the environments of project on target, by name; production
// is not one of them. No strata_meta means none.
func Envs(ctx context.Context, q postgres.Querier, project, target string) ([]Env, error) {
	ok, err := readable(ctx, q)
	if errors.Is(err, ErrMissing) {
		return nil, nil
	}
	if err != nil || !ok {
		return nil, err
	}
	citus, err := postgres.HasCitus(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `select env, count(*) filter (where kind = 'model'),
		coalesce(sum(`+postgres.TotalSizeSQL(`to_regclass(format('%I.%I', relation_schema, relation_name))`, citus)+`) filter (where relation_name <> ''), 0)::bigint,
		max(built_at) filter (where kind in ('model', 'seed'))
		from strata_meta.nodes where project = $1 and target = $2 and env <> '' group by env order by env`, project, target)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Env, error) {
		var e Env
		var last *time.Time
		err := r.Scan(&e.Name, &e.Models, &e.Bytes, &last)
		if last != nil {
			e.LastBuild = *last
		}
		return e, err
	})
}

// Dropped is what Drop removed.
type Dropped struct {
	Relations []pgname.Rel
	Schemas   []string
}

// Drop removes environment s.Env: the relations strata recorded for it,
// the schemas that held them once they are empty, and its records, all in
// one transaction, so an interrupted drop leaves the environment whole. A
// relation another object (not strata's) depends on keeps the whole drop
// from happening, with PostgreSQL's message naming it. schemas are more of
// the environment's schemas (the project's, suffixed), dropped when empty
// too: a build that failed before it recorded anything leaves them.
func Drop(ctx context.Context, db postgres.Querier, s Scope, schemas ...string) (*Dropped, error) {
	if s.Env == "" {
		return nil, errors.New("production is not an environment: it cannot be dropped")
	}
	ok, err := readable(ctx, db)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s has an older layout: run a build first to migrate it", Schema)
	}
	tx, err := begin(ctx, db)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	rows, err := tx.Query(ctx, `select relation_schema, relation_name, coalesce(c.relkind::text, '')
		from strata_meta.nodes m
		left join pg_namespace ns on ns.nspname = m.relation_schema
		left join pg_class c on c.relnamespace = ns.oid and c.relname = m.relation_name
		where project = $1 and target = $2 and env = $3 and relation_name <> ''
		order by built_at desc, unique_id
		for update of m`, s.Project, s.Target, s.Env)
	if err != nil {
		return nil, err
	}
	type rel struct {
		r    pgname.Rel
		kind string
	}
	var rels []rel
	own := map[string]bool{}
	for _, sc := range schemas {
		own[sc] = true
	}
	for rows.Next() {
		var x rel
		if err := rows.Scan(&x.r.Schema, &x.r.Name, &x.kind); err != nil {
			rows.Close()
			return nil, err
		}
		own[x.r.Schema] = true
		if x.kind != "" {
			rels = append(rels, x)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := &Dropped{}
	// Relations that depend on each other are dropped dependents first:
	// each pass drops what nothing else still needs, each drop under a
	// savepoint, until none is left or a pass drops nothing.
	for len(rels) > 0 {
		var left []rel
		var lastErr error
		for _, x := range rels {
			stmt := "drop " + dropKind(x.kind) + " " + x.r.Quoted()
			if _, err := tx.Exec(ctx, "savepoint strata_drop"); err != nil {
				return nil, err
			}
			if _, err := tx.Exec(ctx, stmt); err != nil {
				if _, err2 := tx.Exec(ctx, "rollback to savepoint strata_drop"); err2 != nil {
					return nil, err2
				}
				left, lastErr = append(left, x), withDetail(stmt, err)
				continue
			}
			out.Relations = append(out.Relations, x.r)
		}
		if len(left) == len(rels) {
			return nil, lastErr
		}
		rels = left
	}
	names := make([]string, 0, len(own))
	for sc := range own {
		names = append(names, sc)
	}
	sort.Strings(names)
	for _, sc := range names {
		// Only the environment's own schemas, and only when empty: a
		// schema someone else put something in stays.
		if !strings.HasSuffix(sc, pgname.EnvSep+s.Env) {
			continue
		}
		// A schema that is not there is not dropped, nor said to be.
		var empty bool
		if err := tx.QueryRow(ctx, `select exists (select 1 from pg_namespace where nspname = $1)
			and not exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1)
			and not exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = $1)
			and not exists (select 1 from pg_type t join pg_namespace n on n.oid = t.typnamespace where n.nspname = $1 and t.typrelid = 0 and t.typelem = 0)`, sc).Scan(&empty); err != nil {
			return nil, err
		}
		if !empty {
			continue
		}
		if _, err := tx.Exec(ctx, "drop schema if exists "+pgname.Ident(sc)); err != nil {
			return nil, fmt.Errorf("drop schema %s: %w", sc, err)
		}
		out.Schemas = append(out.Schemas, sc)
	}
	if _, err := tx.Exec(ctx, "delete from strata_meta.nodes where project = $1 and target = $2 and env = $3", s.Project, s.Target, s.Env); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, "delete from strata_meta.invocations where project = $1 and target = $2 and env = $3", s.Project, s.Target, s.Env); err != nil {
		return nil, err
	}
	return out, tx.Commit(ctx)
}

// withDetail is err of stmt with PostgreSQL's detail, which names what
// depends on a relation that cannot be dropped.
func withDetail(stmt string, err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Detail != "" {
		return fmt.Errorf("%s: %s (%s)", stmt, pg.Message, pg.Detail)
	}
	return fmt.Errorf("%s: %w", stmt, err)
}

// dropKind is the DROP word for a relkind.
func dropKind(relkind string) string {
	switch relkind {
	case "v":
		return "view"
	case "m":
		return "materialized view"
	case "f":
		return "foreign table"
	}
	return "table"
}
