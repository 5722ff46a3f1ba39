package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"strata/engine/pgname"
)

// RelInfo is what a run needs to know about an existing relation before it
// rebuilds it.
type RelInfo struct {
	Kind          string      // as RelKind returns it
	Privileges    [][2]string // as Privileges returns them
	Comment       *string
	HasDependents bool // a view or materialized view reads it
}

// Catalog is a snapshot of the relations in some schemas.
type Catalog struct {
	Rels map[pgname.Rel]RelInfo
	// DefaultPrivileges: ALTER DEFAULT PRIVILEGES gives the current role's new
	// relations in these schemas privileges, so a fresh relation's privileges
	// are not known without asking.
	DefaultPrivileges bool
}

func kindOf(relkind string) string {
	switch relkind {
	case "r":
		return "table"
	case "v":
		return "view"
	case "m":
		return "materialized_view"
	case "p":
		return "partitioned_table"
	case "f":
		return "foreign_table"
	}
	return "other"
}

// Snapshot reads, in two queries, every relation of schemas with its kind,
// privileges, comment and whether views depend on it.
func Snapshot(ctx context.Context, q Querier, schemas []string) (*Catalog, error) {
	rows, err := q.Query(ctx, `
select n.nspname, c.relname, c.relkind::text,
  coalesce((select json_agg(json_build_array(a.privilege_type, case when a.grantee = 0 then '-' else pg_get_userbyid(a.grantee) end)
              order by case when a.grantee = 0 then '-' else pg_get_userbyid(a.grantee) end, a.privilege_type)
            from aclexplode(c.relacl) a where a.grantee <> c.relowner), '[]'),
  obj_description(c.oid, 'pg_class'),
  exists (select from pg_depend d join pg_rewrite r on r.oid = d.objid
          where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
            and d.refobjid = c.oid and r.ev_class <> c.oid)
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1) and c.relkind in ('r', 'v', 'm', 'p', 'f')`, schemas)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	cat := &Catalog{Rels: map[pgname.Rel]RelInfo{}}
	for rows.Next() {
		var r pgname.Rel
		var kind string
		var privs []byte
		var info RelInfo
		if err := rows.Scan(&r.Schema, &r.Name, &kind, &privs, &info.Comment, &info.HasDependents); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading the catalog: %w", err)
		}
		info.Kind = kindOf(kind)
		if err := json.Unmarshal(privs, &info.Privileges); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading the catalog: %w", err)
		}
		cat.Rels[r] = info
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	err = q.QueryRow(ctx, `select exists (select from pg_default_acl d
		where d.defaclrole = (select oid from pg_roles where rolname = current_user) and d.defaclobjtype = 'r'
		  and (d.defaclnamespace = 0 or d.defaclnamespace in (select oid from pg_namespace where nspname = any($1))))`, schemas).Scan(&cat.DefaultPrivileges)
	if err != nil {
		return nil, fmt.Errorf("reading default privileges: %w", err)
	}
	return cat, nil
}
