package check

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"strata/engine/adapter/postgres"
	"strata/engine/compile"
	"strata/engine/graph"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
	"strata/engine/project"
)

// testProject loads a small project from files, with every model and test
// rendered as the pipeline renders them.
func testProject(t *testing.T, files map[string]string) Project {
	t.Helper()
	fsys := fstest.MapFS{"project.yaml": {Data: []byte("name: p\n")}}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	proj, diags := project.Load(fsys)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m, diags := manifest.Build(proj, manifest.Target{Name: "dev", Type: "local", Schema: "s"})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, diags := graph.New(m)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	c := &compile.Compiler{M: m, LookupEnv: func(string) (string, bool) { return "", false }, RunStartedAt: "2024-05-01T10:00:00Z"}
	compiled := map[string]compile.Result{}
	for id, n := range m.Nodes {
		if n.Kind == manifest.Model || n.Kind == manifest.Test {
			res, err := c.Node(n, compile.Options{})
			if err != nil {
				t.Fatal(err)
			}
			compiled[id] = res
		}
	}
	return Project{M: m, G: g, C: c, Compiled: compiled, Config: proj.Check}
}

var planFiles = map[string]string{
	"models/v.sql":   "select 1 as id",
	"models/inc.sql": "{{ config \"materialized\" \"incremental\" }}select id from {{ ref \"v\" }}{{ if is_incremental }} where id > (select max(id) from {{ this }}){{ end }}",
	"models/eph.sql": "{{ config \"materialized\" \"ephemeral\" }}select id from {{ ref \"v\" }}",
	"models/dim.sql": "{{ config \"materialized\" \"scd2\" \"unique_key\" \"id\" \"strategy\" \"check\" \"check_cols\" \"all\" }}select id from {{ ref \"v\" }}",
	"models/m.yml": `sources:
  - name: crm
    tables:
      - name: accounts
        columns: [{name: id, data_type: bigint}, {name: email, data_type: text}]
      - name: bare
      - name: half
        columns: [{name: id, data_type: bigint}, {name: note}]
`,
}

// TestPlan pins what check does with each kind of node, from what it
// observed: no statement that reads or writes a row, a model's view under
// its real name, a selected relation that exists stood in for (renamed
// aside, the view renamed into its place), an incremental model in the
// branch the next build takes, parents that exist used as they are.
func TestPlan(t *testing.T) {
	p := testProject(t, planFiles)
	table := postgres.Found{OID: 1, Kind: "table"}
	tests := []struct {
		name      string
		id        string
		selected  bool
		exists    map[pgname.Rel]postgres.Found
		fullRefr  bool
		leave     bool     // Options.LeaveExisting
		want      []string // the steps' SQL
		existing  bool
		errSubstr string
	}{
		{name: "a view model that does not exist", id: "model.p.v", selected: true,
			want: []string{"create view \"s\".\"v\" as (\nselect 1 as id\n)"}},
		{name: "a selected model whose relation exists is stood in for", id: "model.p.v", selected: true, exists: map[pgname.Rel]postgres.Found{{Schema: "s", Name: "v"}: {OID: 2, Kind: "view"}},
			want: []string{"create view \"s\".\"v__strata_check\" as (\nselect 1 as id\n)", `alter view "s"."v" rename to "v__strata_checked"`, `alter view "s"."v__strata_check" rename to "v"`}},
		{name: "a parent that exists is used as it is", id: "model.p.v", selected: false, exists: map[pgname.Rel]postgres.Found{{Schema: "s", Name: "v"}: {OID: 2, Kind: "view"}}, existing: true},
		{name: "an incremental model whose table exists: its incremental branch", id: "model.p.inc", selected: true, exists: map[pgname.Rel]postgres.Found{{Schema: "s", Name: "inc"}: table},
			want: []string{"create view \"s\".\"inc__strata_check\" as (\nselect id from \"s\".\"v\" where id > (select max(id) from \"s\".\"inc\")\n)", `alter table "s"."inc" rename to "inc__strata_checked"`, `alter view "s"."inc__strata_check" rename to "inc"`}},
		{name: "an incremental model under --full-refresh", id: "model.p.inc", selected: true, exists: map[pgname.Rel]postgres.Found{{Schema: "s", Name: "inc"}: table}, fullRefr: true,
			want: []string{"create view \"s\".\"inc__strata_check\" as (\nselect id from \"s\".\"v\"\n)", `alter table "s"."inc" rename to "inc__strata_checked"`, `alter view "s"."inc__strata_check" rename to "inc"`}},
		{name: "leaving what exists: an incremental model described by a temporary view, its table untouched", id: "model.p.inc", selected: true, leave: true, exists: map[pgname.Rel]postgres.Found{{Schema: "s", Name: "inc"}: table},
			want: []string{"create temporary view \"pg_temp\".\"__strata_described_model.p.inc\" as (\nselect id from \"s\".\"v\" where id > (select max(id) from \"s\".\"inc\")\n)"}},
		{name: "leaving what exists: an scd2 model described by a temporary view", id: "model.p.dim", selected: true, leave: true, exists: map[pgname.Rel]postgres.Found{{Schema: "s", Name: "dim"}: table},
			want: []string{"create temporary view \"pg_temp\".\"__strata_described_model.p.dim\" as\nselect md5(row(s.\"id\")::text || '|' || extract(epoch from '2024-05-01T10:00:00Z'::timestamptz)::text) as \"dim_key\",\n  s.*,\n  '2024-05-01T10:00:00Z'::timestamptz as \"valid_from\",\n  null::timestamptz as \"valid_to\",\n  true as \"is_current\"\nfrom (\nselect id from \"s\".\"v\"\n) as s"}},
		{name: "leaving what exists: a model never built is created as usual", id: "model.p.v", selected: true, leave: true,
			want: []string{"create view \"s\".\"v\" as (\nselect 1 as id\n)"}},
		{name: "an incremental model never built", id: "model.p.inc", selected: true,
			want: []string{"create view \"s\".\"inc\" as (\nselect id from \"s\".\"v\"\n)"}},
		{name: "a selected ephemeral model: a temporary view", id: "model.p.eph", selected: true,
			want: []string{"create temporary view \"pg_temp\".\"__strata_ephemeral_eph\" as (\nselect id from \"s\".\"v\"\n)"}},
		{name: "scd2: the source query with strata's columns", id: "model.p.dim", selected: true,
			want: []string{"create view \"s\".\"dim\" as\nselect md5(row(s.\"id\")::text || '|' || extract(epoch from '2024-05-01T10:00:00Z'::timestamptz)::text) as \"dim_key\",\n  s.*,\n  '2024-05-01T10:00:00Z'::timestamptz as \"valid_from\",\n  null::timestamptz as \"valid_to\",\n  true as \"is_current\"\nfrom (\nselect id from \"s\".\"v\"\n) as s"}},
		{name: "an absent source with typed columns", id: "source.p.crm.accounts", selected: true,
			want: []string{`create table "crm"."accounts" ("id" bigint, "email" text)`}},
		{name: "a source that exists", id: "source.p.crm.accounts", selected: true, exists: map[pgname.Rel]postgres.Found{{Schema: "crm", Name: "accounts"}: table}, existing: true},
		{name: "an absent source without columns", id: "source.p.crm.bare", selected: true, errSubstr: "source crm.bare does not exist and declares no columns"},
		{name: "an absent source with an untyped column", id: "source.p.crm.half", selected: true, errSubstr: "source crm.half does not exist and its column note declares no data_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &checker{p: p, opt: Options{FullRefresh: tc.fullRefr, LeaveExisting: tc.leave}, selected: map[string]bool{tc.id: tc.selected}}
			obs := &observed{rels: tc.exists, cols: map[uint32][]postgres.Column{}, schemas: map[string]bool{}}
			if obs.rels == nil {
				obs.rels = map[pgname.Rel]postgres.Found{}
			}
			j := c.plan(tc.id, obs, nil)
			if tc.errSubstr != "" {
				if j.err == nil || !strings.Contains(j.err.Error(), tc.errSubstr) {
					t.Fatalf("err = %v, want %q", j.err, tc.errSubstr)
				}
				return
			}
			if j.err != nil {
				t.Fatal(j.err)
			}
			if j.existing != tc.existing {
				t.Errorf("existing = %v, want %v", j.existing, tc.existing)
			}
			var got []string
			for _, s := range j.steps {
				got = append(got, s.SQL)
			}
			if strings.Join(got, ";\n") != strings.Join(tc.want, ";\n") {
				t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, ";\n"), strings.Join(tc.want, ";\n"))
			}
			for _, s := range j.steps {
				if s.Body >= 0 && !strings.HasPrefix(string([]rune(s.SQL)[s.Body:]), "select ") {
					t.Errorf("the body offset %d of %q is not where the model's SQL starts", s.Body, s.SQL)
				}
			}
		})
	}
}

// TestPlanSeed: a seed is an empty table typed as its loader would type
// it; a selected seed whose table already has those columns is used as
// it is (nothing is renamed, nothing locked); otherwise its table is set
// aside for the empty one; a seed whose file cannot be read fails.
func TestPlanSeed(t *testing.T) {
	p := testProject(t, map[string]string{"seeds/raw.csv": "id,amount\n1,2.5\n"})
	inf := map[string]inferred{"seed.p.raw": {cols: []materialize.Column{{Name: "id", Type: "bigint"}, {Name: "amount", Type: "numeric"}}}}
	table := postgres.Found{OID: 7, Kind: "table"}
	for _, tc := range []struct {
		name     string
		exists   bool
		cols     []postgres.Column
		inf      map[string]inferred
		want     string
		existing bool
		err      string
		leave    bool
	}{
		{name: "absent", want: `create table "s"."raw" ("id" bigint, "amount" numeric)`},
		{name: "loaded with the same types", exists: true, cols: []postgres.Column{{Name: "id", Type: "bigint"}, {Name: "amount", Type: "numeric"}}, existing: true},
		{name: "loaded with other types", exists: true, cols: []postgres.Column{{Name: "id", Type: "text"}, {Name: "amount", Type: "numeric"}},
			want: `alter table "s"."raw" rename to "raw__strata_checked";` + "\n" + `create table "s"."raw" ("id" bigint, "amount" numeric)`},
		{name: "unreadable", inf: map[string]inferred{"seed.p.raw": {err: errors.New("seeds/raw.csv:3: bad row")}}, err: "bad row"},
		{name: "loaded with other types, leaving what exists", leave: true, exists: true, cols: []postgres.Column{{Name: "id", Type: "text"}, {Name: "amount", Type: "numeric"}}, existing: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &checker{p: p, opt: Options{LeaveExisting: tc.leave}, selected: map[string]bool{"seed.p.raw": true}}
			obs := &observed{rels: map[pgname.Rel]postgres.Found{}, cols: map[uint32][]postgres.Column{7: tc.cols}}
			if tc.exists {
				obs.rels[pgname.Rel{Schema: "s", Name: "raw"}] = table
			}
			in := inf
			if tc.inf != nil {
				in = tc.inf
			}
			j := c.plan("seed.p.raw", obs, in)
			if tc.err != "" {
				if j.err == nil || !strings.Contains(j.err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", j.err, tc.err)
				}
				return
			}
			var got []string
			for _, s := range j.steps {
				got = append(got, s.SQL)
			}
			if j.existing != tc.existing || strings.Join(got, ";\n") != tc.want {
				t.Errorf("existing %v, steps %q; want %v, %q", j.existing, strings.Join(got, ";\n"), tc.existing, tc.want)
			}
		})
	}
}

// TestBatch: the steps of a node go in one round trip, then release the savepoint,
// and the body's offset is counted in characters in the whole batch.
func TestBatch(t *testing.T) {
	steps := []materialize.Step{{SQL: "alter table x rename to y", Body: -1}, materialize.CreateView(pgnameRel("sé", "v"), "select 'é' as a")}
	stmt, body := batch(steps, true)
	want := "alter table x rename to y;\ncreate view \"sé\".\"v\" as (\nselect 'é' as a\n);\nrelease savepoint strata_check"
	if stmt != want {
		t.Errorf("batch = %q, want %q", stmt, want)
	}
	if got := string([]rune(stmt)[body:]); !strings.HasPrefix(got, "select 'é'") {
		t.Errorf("body offset %d points at %q", body, got)
	}
	if _, b := batch([]materialize.Step{{SQL: "create table t (a int)", Body: -1}}, true); b != -1 {
		t.Errorf("a batch without the user's SQL has body %d, want -1", b)
	}
	// On Citus each statement goes alone, the release too.
	if stmt, body := batch(steps[1:], false); stmt != steps[1].SQL || body != steps[1].Body {
		t.Errorf("one statement alone = %q, %d; want %q, %d", stmt, body, steps[1].SQL, steps[1].Body)
	}
	if stmt, _ := batch(nil, false); stmt != "release savepoint strata_check" {
		t.Errorf("the release alone = %q", stmt)
	}
}

// TestSameType: the loader's type names and format_type's compare.
func TestSameType(t *testing.T) {
	for _, tc := range []struct {
		formatted, written string
		want               bool
	}{
		{"bigint", "bigint", true},
		{"timestamp without time zone", "timestamp", true},
		{"timestamp with time zone", "timestamptz", true},
		{"numeric(12,2)", "numeric(12,2)", true},
		{"text", "bigint", false},
	} {
		if got := sameType(tc.formatted, tc.written); got != tc.want {
			t.Errorf("sameType(%q, %q) = %v", tc.formatted, tc.written, got)
		}
	}
}

func obs0() *observed {
	return &observed{rels: map[pgname.Rel]postgres.Found{}, cols: map[uint32][]postgres.Column{}}
}

func pgnameRel(schema, name string) pgname.Rel { return pgname.Rel{Schema: schema, Name: name} }

// TestPlanSeedWithoutFile: a seed declared in YAML whose CSV is not there
// is checked against the table loaded before, or fails when there is none.
func TestPlanSeedWithoutFile(t *testing.T) {
	p := testProject(t, map[string]string{"seeds/seeds.yml": "seeds:\n  - name: later\n"})
	n := p.M.Nodes["seed.p.later"]
	if n == nil || n.Seed == nil || !n.Seed.Missing {
		t.Fatalf("the seed is not a declared seed without a file: %+v", n)
	}
	c := &checker{p: p, selected: map[string]bool{n.ID: true}}
	obs := &observed{rels: map[pgname.Rel]postgres.Found{}, cols: map[uint32][]postgres.Column{}}
	if j := c.plan(n.ID, obs, nil); j.err == nil || !strings.Contains(j.err.Error(), "seed later has no CSV file (seeds/later.csv) and no table on this target") {
		t.Errorf("without a file nor a table: %v", j.err)
	}
	// Every column typed in YAML (data_type, or column_types): an empty
	// table of them; one untyped column, and it fails as before.
	typed := testProject(t, map[string]string{"seeds/seeds.yml": "seeds:\n  - name: later\n    config: {column_types: {b: 'numeric(5,1)'}}\n    columns: [{name: a, data_type: bigint}, {name: b}]\n  - name: half\n    columns: [{name: a, data_type: bigint}, {name: b}]\n"})
	c = &checker{p: typed, selected: map[string]bool{"seed.p.later": true, "seed.p.half": true}}
	j := c.plan("seed.p.later", obs0(), nil)
	if j.err != nil || j.as != "declared table" || len(j.steps) != 1 || !strings.Contains(j.steps[0].SQL, `"a" bigint, "b" numeric(5,1)`) {
		t.Errorf("typed in YAML: as %q, err %v, steps %+v", j.as, j.err, j.steps)
	}
	if j := c.plan("seed.p.half", obs0(), nil); j.err == nil {
		t.Errorf("a column without a type: no error")
	}
	obs.rels[pgname.Rel{Schema: "s", Name: "later"}] = postgres.Found{OID: 3, Kind: "table"}
	if j := c.plan(n.ID, obs, nil); j.err != nil || !j.existing {
		t.Errorf("with the table loaded before: existing %v, err %v", j.existing, j.err)
	}
}
