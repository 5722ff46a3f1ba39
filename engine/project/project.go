// Package project reads a strata project — project.yaml, models, seeds,
// macros, singular tests and the YAML that describes them — into typed
// values that remember where each came from. It renders nothing and touches
// no database.
package project

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"strata/engine/diag"
	"strata/engine/internal/par"
)

// Project is everything read from a project directory.
type Project struct {
	Name          string
	Vars          map[string]any
	DefaultTarget string
	Targets       map[string]*Target
	// Folders holds the folder defaults of project.yaml's models: key, by folder relative to models/ ("." = all).
	Folders    map[string]Layer
	SeedConfig Layer
	OnRunStart []Hook
	OnRunEnd   []Hook
	// Check is project.yaml's check: mapping, how strata check reports.
	Check CheckConfig

	Models    []*Model
	Seeds     []*Seed
	Sources   []*Source
	Macros    []*MacroFile
	Singular  []*SingularTest
	Exposures []*Exposure
	// UnitTests are the unit_tests: entries of the YAML files, in file order.
	UnitTests []*UnitTest

	// DefaultTargetPos is where target: is, for errors about the chosen target.
	DefaultTargetPos diag.Pos
}

// CheckConfig is project.yaml's check: mapping.
type CheckConfig struct {
	// UndeclaredColumns is what check does with a column a model produces
	// that its YAML does not declare: "warn" (the default) or "ignore".
	UndeclaredColumns string
	Pos               diag.Pos
}

// Hook is one SQL statement of on-run-start/on-run-end.
type Hook struct {
	SQL string
	Pos diag.Pos
	// Text is where SQL is in project.yaml, to place template errors inside it.
	Text diag.Origin
}

// Target is one entry of targets: in project.yaml; string fields may hold templates (env_var).
type Target struct {
	Name         string
	Type         string
	Threads      int
	URL          string
	Host         string
	Port         string
	User         string
	Password     string
	DBName       string
	Schema       string
	SchemaPrefix string
	// Citus, on a local target, makes the local cluster a Citus cluster:
	// a coordinator and Citus.Workers workers. Nil: a single server.
	Citus *TargetCitus
	// SwapLockTimeout and SwapMaxWait are how a build waits for the
	// locks readers of a relation hold: each attempt to take the lock of a
	// swap waits at most SwapLockTimeout (0: the default), and the build
	// gives up after SwapMaxWait in all (nil: the default; 0: never).
	SwapLockTimeout time.Duration
	SwapMaxWait     *time.Duration
	Pos             diag.Pos
	// Origins holds where each string setting (url, host, ...) is in
	// project.yaml, to place template errors inside it.
	Origins map[string]diag.Origin
	// EmptyURL, on a resolved target whose url: is a template that
	// rendered to "", says where and why (the environment variables it
	// read, empty or unset), for the error when the connection fails.
	EmptyURL string
}

// TargetCitus is the citus: setting of a local target.
type TargetCitus struct {
	Workers int
	Pos     diag.Pos
}

// Model is one models/**/*.sql file and its YAML entry.
type Model struct {
	Name     string
	Path     string // relative to the project, e.g. models/staging/stg_orders.sql
	SQL      string
	Checksum string
	Doc      *Doc
}

// Seed is one seeds/**/*.csv(.gz) file and its YAML entry.
type Seed struct {
	Name     string
	Path     string
	Doc      *Doc
	Checksum string
	// Missing says the seed is declared in YAML but its file, Path, does
	// not exist: it can be referred to, not loaded.
	Missing bool
}

// Doc is what YAML says about a model or seed.
type Doc struct {
	Description string
	Config      Layer
	Columns     []*Column
	Tests       []*TestSpec
	Pos         diag.Pos
}

// Column is a documented column.
type Column struct {
	Name        string
	Description string
	DataType    string
	Tests       []*TestSpec
	Pos         diag.Pos
}

// TestSpec is one generic test as written in YAML: its kind, arguments and test config.
type TestSpec struct {
	Kind   string
	Args   map[string]any
	ArgPos map[string]diag.Pos
	Config Layer
	Pos    diag.Pos
}

// Source is a group of tables that strata reads but does not build.
type Source struct {
	Name        string
	Schema      string
	Description string
	Tables      []*SourceTable
	Pos         diag.Pos
}

// SourceTable is one table of a source.
type SourceTable struct {
	Name          string
	Identifier    string
	Description   string
	LoadedAtField string
	Freshness     *Freshness
	Columns       []*Column
	Tests         []*TestSpec
	Pos           diag.Pos
}

// Freshness bounds the age of a source's newest row.
type Freshness struct {
	WarnAfter  string
	ErrorAfter string
	Pos        diag.Pos
}

// MacroFile is one macros/**/*.sql file with its {{ define }} blocks.
type MacroFile struct {
	Path     string
	Text     string
	Checksum string
}

// SingularTest is one tests/**/*.sql file: a query returning failing rows.
type SingularTest struct {
	Name     string
	Path     string
	SQL      string
	Checksum string
}

// Exposure is a consumer of models, such as a dashboard.
type Exposure struct {
	Name        string
	Type        string
	Label       string
	Description string
	OwnerName   string
	OwnerEmail  string
	// Maturity is dbt's: high, medium or low ("" when not given).
	Maturity string
	URL      string
	// DependsOn are the nodes it reads as written (a model's or seed's
	// name, dbt's ref('name') or source('source', 'table')), each at
	// DependsOnPos.
	DependsOn    []string
	DependsOnPos []diag.Pos
	Charts       []Chart
	Pos          diag.Pos
}

// Chart is one chart of a dashboard exposure.
type Chart struct {
	Title  string
	Type   string
	Model  string
	Query  string
	X      string
	Y      []string
	Value  string
	Fields []string
	// Sort orders the rows read: column names, each with a leading "-" for
	// descending order ([-revenue, name]).
	Sort    []string
	SortPos []diag.Pos // where each sort key is written
	Limit   int
	Pos     diag.Pos
}

var nameRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Checksum is the hex sha256 of data.
func Checksum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// stripBOM drops the UTF-8 byte order mark some Windows editors put at the
// start of a file: PostgreSQL would read it as part of the first word, and
// it would hide a leading "with" from the ephemeral-CTE merge. It is one
// character before line 1, so lines and columns stay right without it.
func stripBOM(b []byte) []byte {
	return bytes.TrimPrefix(b, []byte("\ufeff"))
}

// readModels reads the models' SQL files from a few goroutines (a big project
// has thousands, and reading each is mostly waiting on system calls) and
// returns the models that could be read, in their order.
func readModels(fsys fs.FS, models []*Model, diags *diag.List) []*Model {
	errs := make([]error, len(models))
	par.For(len(models), min(4, len(models)/64), func(i int) {
		m := models[i]
		b, err := fs.ReadFile(fsys, m.Path)
		if err != nil {
			errs[i] = err
			return
		}
		b = stripBOM(b)
		m.SQL, m.Checksum = string(b), Checksum(b)
	})
	out := models[:0]
	for i, m := range models {
		if errs[i] != nil {
			diags.Errorf(diag.Pos{File: m.Path}, "cannot read: %v", unwrapPathErr(errs[i]))
			continue
		}
		out = append(out, m)
	}
	return out
}

// checksumSeeds sets each seed's checksum, the sha256 of its file's bytes, so
// that state:modified sees a changed CSV. A seed file can be large: it is
// hashed as it is read, never held in memory, and a few files at once.
func checksumSeeds(fsys fs.FS, seeds []*Seed, diags *diag.List) {
	errs := make([]error, len(seeds))
	par.For(len(seeds), min(4, len(seeds)), func(i int) {
		seeds[i].Checksum, errs[i] = checksumFile(fsys, seeds[i].Path)
	})
	for i, s := range seeds {
		if errs[i] != nil {
			diags.Errorf(diag.Pos{File: s.Path}, "cannot read: %v", unwrapPathErr(errs[i]))
		}
	}
}

// checksumFile is the hex sha256 of a file's bytes, as Checksum gives.
func checksumFile(fsys fs.FS, name string) (string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// parsedYAML is one YAML file parsed, or the problems that kept it from parsing.
type parsedYAML struct {
	root  *yaml.Node
	lines []string
	diags diag.List
}

// parseYAMLFiles reads and parses the YAML files of a project from a few
// goroutines (parsing is most of the cost of loading a big project's YAML);
// what they declare is then applied in order, so diagnostics and "defined
// twice" messages do not depend on the scheduling.
func parseYAMLFiles(fsys fs.FS, files []string) []parsedYAML {
	out := make([]parsedYAML, len(files))
	par.For(len(files), min(runtime.GOMAXPROCS(0), len(files)/4), func(i int) {
		b, err := fs.ReadFile(fsys, files[i])
		if err != nil {
			out[i].diags.Errorf(diag.Pos{File: files[i]}, "cannot read: %v", unwrapPathErr(err))
			return
		}
		out[i].root = parseYAML(files[i], b, &out[i].diags)
		out[i].lines = fileLines(b)
	})
	return out
}

// IsProject says whether fsys holds a readable project.yaml, without reading
// the rest of the project; the problem when it does not.
func IsProject(fsys fs.FS) diag.List {
	var diags diag.List
	readProjectYAML(fsys, &diags)
	return diags
}

// ReadFile reads project.yaml alone (name, vars, targets, folder
// defaults, hooks), for a command that needs no models: `db` picks its
// target's local cluster from it.
func ReadFile(fsys fs.FS) (*Project, diag.List) {
	var diags diag.List
	data, err := readProjectYAML(fsys, &diags)
	if err != nil {
		return nil, diags
	}
	p := &Project{Vars: map[string]any{}, Targets: map[string]*Target{}, Folders: map[string]Layer{}, SeedConfig: Layer{}}
	p.readProjectFile(data, &diags)
	diags.Sort()
	return p, diags
}

func readProjectYAML(fsys fs.FS, diags *diag.List) ([]byte, error) {
	data, err := fs.ReadFile(fsys, "project.yaml")
	if err != nil {
		diags.Errorf(diag.Pos{File: "project.yaml"}, "cannot read project.yaml: %v (is this a strata project? use --project-dir)", unwrapPathErr(err))
	}
	return data, err
}

// NoPackages says where what a dbt project takes from packages goes: for
// its packages.yml, and dbt deps.
const NoPackages = "strata has no packages: the tests dbt projects take from dbt_utils are built in (docs/tests.md), and a package's other macros are written in macros/ (docs/templates.md#macros)"

// dbtFiles are the files of a dbt project that strata does not read, with
// where what they hold goes (docs/coming-from-dbt.md#files).
var dbtFiles = []struct{ name, instead string }{
	{"dbt_project.yml", "its settings go in project.yaml: vars under vars:, model config by folder under models: (one flat mapping per folder, without +), seed config under seeds: or in a YAML file under seeds/ (docs/coming-from-dbt.md#configuration)"},
	{"profiles.yml", "the targets go under targets: in project.yaml, their secrets read from the environment (docs/project.md#targets)"},
	{"packages.yml", NoPackages},
	{"dependencies.yml", NoPackages},
	{"selectors.yml", "strata has no named selectors: write the selection with -s and --exclude, in a script or Makefile if it is long (docs/selectors.md)"},
}

// Missing is the problem of a folder dir that holds no project.yaml, and
// whether it holds none. Run from a folder inside a project (its models/,
// say), strata would find no project there: the problem names the
// project's folder, above, and the --project-dir that reaches it from the
// current folder, rather than leaving the reader to guess. Commands that
// would act without a project (db, which would start a new, empty server
// in that folder) refuse with it.
func Missing(dir string) (diag.Diagnostic, bool) {
	d := diag.Diagnostic{Pos: diag.Pos{File: "project.yaml"}, Severity: diag.Error}
	// A folder that does not exist, or a file, is not inside a project,
	// whatever is above it (--project-dir mistyped, or naming project.yaml).
	if st, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		d.Msg = fmt.Sprintf("cannot read project.yaml: there is no folder %s (is --project-dir right?)", dir)
		return d, true
	} else if err == nil && !st.IsDir() {
		d.Msg = fmt.Sprintf("cannot read project.yaml: %s is a file, not a folder (--project-dir names the project's folder, which holds project.yaml)", dir)
		return d, true
	}
	_, err := os.Stat(filepath.Join(dir, "project.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		return d, false
	}
	d.Msg = "cannot read project.yaml: no such file or directory (is this a strata project? use --project-dir)"
	if st, err := os.Stat(filepath.Join(dir, "dbt_project.yml")); err == nil && st.Mode().IsRegular() {
		// strata run out of habit in a dbt project.
		d.Msg = "cannot read project.yaml: no such file or directory: this folder holds dbt's dbt_project.yml, and strata reads its own project.yaml, which holds the targets of profiles.yml too (docs/coming-from-dbt.md says what goes where)"
		return d, true
	}
	up := dir
	for {
		parent := filepath.Dir(up)
		if parent == up {
			return d, true
		}
		up = parent
		if st, err := os.Stat(filepath.Join(up, "project.yaml")); err == nil && st.Mode().IsRegular() {
			break
		}
	}
	// From a folder inside the project, the way up (../..); from
	// elsewhere, where it is.
	rel := up
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, up); err == nil && strings.Trim(strings.ReplaceAll(r, "..", ""), string(filepath.Separator)) == "" {
			rel = r
		}
	}
	d.Msg = fmt.Sprintf("cannot read project.yaml: no such file or directory: %s is a folder inside the project in %s; run strata from there, or with --project-dir %s", dir, up, rel)
	return d, true
}

// Load reads the project in fsys. It returns all problems found, sorted by position;
// the project is nil only when project.yaml itself cannot be read.
func Load(fsys fs.FS) (*Project, diag.List) {
	var diags diag.List
	data, err := readProjectYAML(fsys, &diags)
	if err != nil {
		return nil, diags
	}
	p := &Project{Vars: map[string]any{}, Targets: map[string]*Target{}, Folders: map[string]Layer{}, SeedConfig: Layer{}}
	p.readProjectFile(data, &diags)

	var ymls []string
	seedFiles := map[string]string{} // name -> path
	// visit calls itself to walk the folders that symlinks lead to.
	var visit fs.WalkDirFunc
	visit = func(p0 string, d fs.DirEntry, err error) error {
		if err != nil {
			diags.Errorf(diag.Pos{File: p0}, "cannot read: %v", unwrapPathErr(err))
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if isDir, follow := linkedDir(fsys, p0, &diags); isDir {
				if follow {
					_ = fs.WalkDir(fsys, p0, visit)
				}
				return nil
			}
		}
		if d.IsDir() {
			base := d.Name()
			if p0 != "." && (strings.HasPrefix(base, ".") || base == "target" || base == "node_modules" || base == "testdata") {
				return fs.SkipDir
			}
			return nil
		}
		top, _, _ := strings.Cut(p0, "/")
		ext := path.Ext(p0)
		switch {
		case top == "models" && ext == ".sql":
			name := strings.TrimSuffix(path.Base(p0), ext)
			if name == "" {
				diags.Errorf(diag.Pos{File: p0, Line: 1, Col: 1}, "model file %s has no name (expected models/<name>.sql)", p0)
				return nil
			}
			p.Models = append(p.Models, &Model{Name: name, Path: p0})
		case (top == "models" || top == "seeds") && (ext == ".yml" || ext == ".yaml"):
			ymls = append(ymls, p0)
		case top == "seeds" && (strings.HasSuffix(p0, ".csv") || strings.HasSuffix(p0, ".csv.gz")):
			name := strings.TrimSuffix(strings.TrimSuffix(path.Base(p0), ".gz"), ".csv")
			if name == "" {
				diags.Errorf(diag.Pos{File: p0}, "seed file %s has no name (expected seeds/<name>.csv)", p0)
				return nil
			}
			if prev, dup := seedFiles[name]; dup {
				diags.Errorf(diag.Pos{File: p0}, "seed %q is defined twice: %s and %s (a seed's name is its file's base name, unique across seeds and models: rename or remove one of them)", name, prev, p0)
				return nil
			}
			seedFiles[name] = p0
			p.Seeds = append(p.Seeds, &Seed{Name: name, Path: p0})
		case top == "seeds":
			if w := notASeed(p0); w != "" {
				diags.Warnf(diag.Pos{File: p0}, "%s", w)
			}
		case top == "macros" && ext == ".sql":
			b, err := fs.ReadFile(fsys, p0)
			if err != nil {
				diags.Errorf(diag.Pos{File: p0}, "cannot read: %v", unwrapPathErr(err))
				return nil
			}
			b = stripBOM(b)
			p.Macros = append(p.Macros, &MacroFile{Path: p0, Text: string(b), Checksum: Checksum(b)})
		case top == "tests" && ext == ".sql" && !strings.HasPrefix(p0, "tests/fixtures/"):
			// tests/fixtures/ holds the rows of unit tests (as in dbt),
			// queries among them: none is a test of its own.
			b, err := fs.ReadFile(fsys, p0)
			if err != nil {
				diags.Errorf(diag.Pos{File: p0}, "cannot read: %v", unwrapPathErr(err))
				return nil
			}
			b = stripBOM(b)
			p.Singular = append(p.Singular, &SingularTest{Name: strings.TrimSuffix(path.Base(p0), ext), Path: p0, SQL: string(b), Checksum: Checksum(b)})
		}
		return nil
	}
	// Only the project's own folders are read: the rest of the directory (a
	// Go module, docs, old target folders) is none of strata's business and
	// can be large. In name order, as one walk of the whole tree would be.
	for _, root := range []string{"macros", "models", "seeds", "tests"} {
		if _, err := fs.Stat(fsys, root); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		_ = fs.WalkDir(fsys, root, visit)
	}

	// A dbt project's snapshots/ is not read: its snapshots would be left
	// out without a word.
	snapshots := 0
	_ = fs.WalkDir(fsys, "snapshots", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path.Ext(p) == ".sql" {
			snapshots++
		}
		return nil
	})
	if snapshots > 0 {
		files := "1 .sql file"
		if snapshots > 1 {
			files = strconv.Itoa(snapshots) + " .sql files"
		}
		diags.Warnf(diag.Pos{File: "snapshots/"}, "snapshots/ is not read by strata (%s there): a dbt snapshot is a model with materialized: scd2 under models/ (docs/scd2.md)", files)
	}
	// dbt's own files, left beside project.yaml, are not read either: what
	// they set would be left out without a word.
	for _, f := range dbtFiles {
		if st, err := fs.Stat(fsys, f.name); err == nil && st.Mode().IsRegular() {
			diags.Warnf(diag.Pos{File: f.name}, "%s is dbt's, and strata does not read it: %s", f.name, f.instead)
		}
	}
	p.Models = readModels(fsys, p.Models, &diags)
	checksumSeeds(fsys, p.Seeds, &diags)

	// Names: unique across models and seeds, valid identifiers-to-be.
	owner := map[string]string{}
	for _, m := range p.Models {
		if prev, dup := owner[m.Name]; dup {
			diags.Errorf(diag.Pos{File: m.Path, Line: 1, Col: 1}, "model name %q is used twice: %s and %s (names must be unique across models and seeds)", m.Name, prev, m.Path)
		}
		owner[m.Name] = m.Path
	}
	for _, s := range p.Seeds {
		if prev, dup := owner[s.Name]; dup {
			diags.Errorf(diag.Pos{File: s.Path}, "seed name %q clashes with %s (names must be unique across models and seeds)", s.Name, prev)
		}
		owner[s.Name] = s.Path
	}

	docs := &docIndex{models: map[string]*Model{}, seeds: map[string]*Seed{}, sources: map[string]*Source{}, exposures: map[string]*Exposure{}, docPath: map[string]string{}}
	for _, m := range p.Models {
		docs.models[m.Name] = m
	}
	for _, s := range p.Seeds {
		docs.seeds[s.Name] = s
	}
	sort.Strings(ymls)
	parsed := parseYAMLFiles(fsys, ymls)
	decoded := make([]*docFile, len(parsed))
	par.For(len(parsed), min(runtime.GOMAXPROCS(0), len(parsed)/4), func(i int) {
		decoded[i] = decodeDocFile(ymls[i], parsed[i].root, parsed[i].lines)
	})
	for i, doc := range parsed {
		diags = append(diags, doc.diags...)
		p.readDocFile(decoded[i], docs, &diags)
	}
	p.readFixtures(fsys, &diags)
	// A query a unit test reads as its rows is no test of its own,
	// wherever it is.
	fixtures := map[string]bool{}
	for _, u := range p.UnitTests {
		fixtures[u.Expect.Fixture] = true
		for _, g := range u.Given {
			fixtures[g.Fixture] = true
		}
	}
	p.Singular = slices.DeleteFunc(p.Singular, func(s *SingularTest) bool { return fixtures[s.Path] })
	// Folder defaults must name folders that exist.
	for folder, layer := range p.Folders {
		if folder == "." {
			continue
		}
		found := false
		for _, m := range p.Models {
			if strings.HasPrefix(m.Path, "models/"+folder+"/") {
				found = true
				break
			}
		}
		if !found {
			pos := diag.Pos{File: "project.yaml"}
			for _, v := range layer {
				pos = v.Pos
				break
			}
			diags.Warnf(pos, "models: folder %q has no models (expected a folder under models/)", folder)
		}
	}
	diags.Sort()
	return p, diags
}

// linkedDir reports whether the symlink p leads to a folder and whether to
// read that folder as if it were at p: fs.WalkDir does not follow links, and
// a shared folder of models linked into models/ would silently be missing.
// A link to a folder it is in would be read forever: it is an error, and
// not followed.
func linkedDir(fsys fs.FS, p string, diags *diag.List) (isDir, follow bool) {
	info, err := fs.Stat(fsys, p)
	if err != nil || !info.IsDir() {
		return false, false // a link to a file is read as the file; a broken one as before
	}
	for up := path.Dir(p); ; up = path.Dir(up) {
		if above, err := fs.Stat(fsys, up); err == nil && os.SameFile(info, above) {
			diags.Errorf(diag.Pos{File: p}, "symlink %s leads to %s, a folder it is in, so reading it would never end (expected a link to a folder outside it)", p, up)
			return true, false
		}
		if up == "." {
			return true, true
		}
	}
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

var projectKeys = []string{"name", "vars", "target", "targets", "models", "seeds", "on-run-start", "on-run-end", "check"}
var targetKeys = []string{"type", "threads", "url", "host", "port", "user", "password", "dbname", "schema", "schema_prefix", "citus", "swap_lock_timeout", "swap_max_wait"}

// connectionKeys are the settings of a target that say where to connect:
// a postgres target's only, a local target's connection being strata's.
var connectionKeys = []string{"url", "host", "port", "user", "password", "dbname"}

// dbtProjectKeys are keys of dbt_project.yml that project.yaml does not
// have, with what to write instead: an error at the key, rather than
// "unknown key ... (did you mean "seeds"?)".
var dbtProjectKeys = map[string]string{
	"tests":      testDefaultsHint("tests"),
	"data_tests": testDefaultsHint("data_tests"),
}

func testDefaultsHint(key string) string {
	return key + `: in project.yaml: strata has no project-wide or per-folder test config (dbt's ` + key + `: in dbt_project.yml): set severity, store_failures, warn_if, error_if, where or limit on each test where it is declared, in YAML (- not_null: {severity: warn}) or in a singular test ({{ config "severity" "warn" }}); docs/coming-from-dbt.md#tests`
}

// checkConfigKeys are the keys of project.yaml's check: mapping.
var checkConfigKeys = []string{"undeclared_columns"}

// UndeclaredColumns are the values of check: {undeclared_columns: ...}.
var UndeclaredColumns = []string{"warn", "ignore"}

func (p *Project) readProjectFile(data []byte, diags *diag.List) {
	lines := fileLines(data)
	d := &decoder{file: "project.yaml", lines: lines, diags: diags}
	root := parseYAML("project.yaml", data, diags)
	if root == nil {
		if !diags.HasErrors() {
			diags.Errorf(diag.Pos{File: "project.yaml", Line: 1, Col: 1}, "project.yaml is empty (expected at least name:)")
		}
		return
	}
	f := d.mappingWith(root, "project.yaml", projectKeys, func(k string) (string, bool) {
		hint, ok := dbtProjectKeys[k]
		return hint, ok
	})
	if n, ok := f["name"]; ok {
		p.Name = d.str(n.value, "name")
		// An empty name would give every node an id such as "model..x".
		if !nameRe.MatchString(p.Name) {
			d.errorf(n.value, "name %q must match [a-z_][a-z0-9_]*", p.Name)
		}
	} else if root.Kind == yaml.MappingNode {
		d.errorf(root, "project.yaml has no name: (expected name: <project name>)")
	}
	if n, ok := f["vars"]; ok {
		var r VarReader // one bound for all the file's vars
		for _, kv := range d.pairs(n.value, "vars") {
			v, err := r.Value(kv.value)
			if err != nil {
				d.errorf(kv.value, "var %s: %v", kv.key.Value, err)
				var limit *VarLimitError
				if errors.As(err, &limit) {
					break // the bound is spent: the vars after would all say so
				}
			}
			p.Vars[kv.key.Value] = v
		}
	}
	if n, ok := f["target"]; ok {
		p.DefaultTarget = d.str(n.value, "target")
		p.DefaultTargetPos = d.pos(n.value)
	}
	if n, ok := f["targets"]; ok {
		for _, kv := range d.pairs(n.value, "targets") {
			t := &Target{Name: kv.key.Value, Pos: d.pos(kv.key), Origins: map[string]diag.Origin{}}
			tf := d.mapping(kv.value, "target "+t.Name, targetKeys...)
			if x, ok := tf["type"]; ok {
				t.Type = d.str(x.value, "type")
				if t.Type != "local" && t.Type != "postgres" {
					d.errorf(x.value, "target type %q is not known (expected local or postgres)%s", t.Type, diag.DidYouMean(t.Type, []string{"local", "postgres"}))
				}
			} else {
				d.errorf(kv.key, "target %q has no type: (expected local or postgres)", t.Name)
			}
			if x, ok := tf["threads"]; ok {
				before := len(*d.diags)
				t.Threads = d.integer(x.value, "threads")
				if len(*d.diags) == before && t.Threads < 1 {
					d.errorf(x.value, "threads must be at least 1")
				}
			}
			if x, ok := tf["citus"]; ok {
				t.Citus = d.targetCitus(x.value, t)
			}
			if x, ok := tf["swap_lock_timeout"]; ok {
				if v, ok := d.duration(x.value, "swap_lock_timeout"); ok {
					if v < time.Millisecond {
						d.errorf(x.value, "swap_lock_timeout must be at least 1ms (a lock_timeout of 0 would wait without a limit)")
					}
					t.SwapLockTimeout = v
				}
			}
			if x, ok := tf["swap_max_wait"]; ok {
				if v, ok := d.duration(x.value, "swap_max_wait"); ok {
					t.SwapMaxWait = &v
				}
			}
			for k, dst := range map[string]*string{"url": &t.URL, "host": &t.Host, "port": &t.Port, "user": &t.User, "password": &t.Password, "dbname": &t.DBName, "schema": &t.Schema, "schema_prefix": &t.SchemaPrefix} {
				if x, ok := tf[k]; ok {
					if t.Type == "local" && slices.Contains(connectionKeys, k) {
						// It would be ignored: strata connects to the
						// cluster it runs, and a build meant for the
						// server named here would go to that one.
						d.errorf(x.key, "%s: is a setting of a postgres target, and target %s is local: strata connects to the cluster it runs for the project; remove %s:, or make the target type: postgres to connect where it says", k, t.Name, k)
					}
					*dst = d.str(x.value, k)
					t.Origins[k] = textOrigin(lines, x.value)
				}
			}
			p.Targets[t.Name] = t
		}
	}
	if n, ok := f["models"]; ok {
		for _, kv := range d.pairs(n.value, "models") {
			if nested := dbtNested(kv.value, kv.key.Value, p.Name, ModelConfigKeys); nested != nil {
				d.errorf(kv.key, "%s", dbtNestedModels(kv.key.Value, nested))
				continue
			}
			folder := strings.Trim(path.Clean(kv.key.Value), "/")
			p.Folders[folder] = d.layer(kv.value, "models: "+kv.key.Value, ModelConfigKeys)
		}
	}
	if n, ok := f["seeds"]; ok {
		if nested := dbtNested(n.value, "", p.Name, SeedConfigKeys); nested != nil {
			d.errorf(n.key, "%s", dbtNestedSeeds(nested))
		} else {
			p.SeedConfig = d.layer(n.value, "seeds", SeedConfigKeys)
		}
	}
	p.Check = CheckConfig{UndeclaredColumns: "warn"}
	if n, ok := f["check"]; ok {
		cf := d.mapping(n.value, "check", checkConfigKeys...)
		p.Check.Pos = d.pos(n.value)
		if x, ok := cf["undeclared_columns"]; ok {
			v := d.str(x.value, "undeclared_columns")
			if !slices.Contains(UndeclaredColumns, v) {
				d.errorf(x.value, "undeclared_columns %q is not known (expected warn or ignore)%s", v, diag.DidYouMean(v, UndeclaredColumns))
			} else {
				p.Check.UndeclaredColumns = v
			}
		}
	}
	for _, k := range []string{"on-run-start", "on-run-end"} {
		n, ok := f[k]
		if !ok {
			continue
		}
		var hooks []Hook
		var nodes []*yaml.Node
		if nn := resolve(n.value); nn != nil && nn.Kind == yaml.ScalarNode && nn.Tag != "!!null" {
			nodes = []*yaml.Node{nn} // one statement needs no list
		} else {
			nodes = d.list(n.value, k)
		}
		for _, h := range nodes {
			hooks = append(hooks, Hook{SQL: d.str(h, k), Pos: d.pos(h), Text: textOrigin(lines, h)})
		}
		if k == "on-run-start" {
			p.OnRunStart = hooks
		} else {
			p.OnRunEnd = hooks
		}
	}
	if p.DefaultTarget != "" && len(p.Targets) > 0 {
		if _, ok := p.Targets[p.DefaultTarget]; !ok {
			d.errorf(f["target"].value, "target %q is not defined under targets:%s", p.DefaultTarget, diag.DidYouMean(p.DefaultTarget, sortedKeys(p.Targets)))
		}
	}
}

// targetCitus reads the citus: setting of target t: {workers: N}, on a
// local target only (a postgres target is Citus when its server is).
func (d *decoder) targetCitus(n *yaml.Node, t *Target) *TargetCitus {
	if t.Type != "" && t.Type != "local" {
		d.errorf(n, "citus: is a setting of a local target (type: local), where strata runs the Citus cluster; a %s target is a Citus cluster when its server has the citus extension", t.Type)
		return nil
	}
	if r := resolve(n); r == nil || r.Kind != yaml.MappingNode {
		d.errorf(n, "citus: must be a mapping such as {workers: 2}, got %s", kindName(n))
		return nil
	}
	before := len(*d.diags)
	f := d.mapping(n, "target "+t.Name+" citus", "workers")
	w, ok := f["workers"]
	if !ok && len(*d.diags) == before {
		d.errorf(n, "citus: needs workers: (how many local worker servers, e.g. citus: {workers: 2})")
	}
	if !ok {
		return nil
	}
	c := &TargetCitus{Workers: d.integer(w.value, "citus: workers"), Pos: d.pos(n)}
	if len(*d.diags) > before {
		return nil
	}
	if c.Workers < 1 {
		d.errorf(w.value, "citus: workers must be at least 1 (the cluster is a coordinator and that many workers)")
		return nil
	}
	return c
}

// layer reads a config mapping, checking each key and its value's type.
func (d *decoder) layer(n *yaml.Node, what string, allowed []string) Layer {
	out := Layer{}
	// dbt's keys of a model's or seed's config are refused with ours.
	dbtKey := func(k string) (string, bool) {
		hint, ok := DbtConfigHint(k, allowed)
		return fmt.Sprintf("unknown key %q in %s: %s", k, what, hint), ok && contains(allowed, "schema")
	}
	for k, fv := range d.mappingWith(n, what, allowed, dbtKey) {
		v := d.value(fv.value)
		var probe Config
		if err := probe.Apply(k, v); err != nil {
			d.errorf(fv.value, "%s: %v", k, err)
			continue
		}
		out[k] = Value{V: v, Pos: d.pos(fv.value), Keys: d.keyPositions(fv.value)}
		if k == "pre_hook" || k == "post_hook" {
			out[k] = Value{V: v, Pos: d.pos(fv.value), Keys: d.keyPositions(fv.value), Texts: d.hookTexts(fv.value)}
		}
	}
	return out
}

// hookTexts is where the text of each hook of n, a hook or a list of
// them, is in the file (Value.Texts); nil where the file's lines are not
// known.
func (d *decoder) hookTexts(n *yaml.Node) map[string]diag.Origin {
	n = resolve(n)
	if n == nil || d.lines == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return map[string]diag.Origin{"0": textOrigin(d.lines, n)}
	case yaml.SequenceNode:
		out := make(map[string]diag.Origin, len(n.Content))
		for i, item := range n.Content {
			if item = resolve(item); item != nil && item.Kind == yaml.ScalarNode {
				out[strconv.Itoa(i)] = textOrigin(d.lines, item)
			}
		}
		return out
	}
	return nil
}

// keyPositions is where each key of the mapping n is, or each item of the
// sequence n, keyed by its index from 0 ("1" for a list's second hook);
// nil if n is neither.
func (d *decoder) keyPositions(n *yaml.Node) map[string]diag.Pos {
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := make(map[string]diag.Pos, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[n.Content[i].Value] = d.pos(n.Content[i])
		}
		return out
	case yaml.SequenceNode:
		out := make(map[string]diag.Pos, len(n.Content))
		for i, item := range n.Content {
			out[strconv.Itoa(i)] = d.pos(item)
		}
		return out
	}
	return nil
}

// notASeed says why a file under seeds/ that looks like data to load (its
// name ends in .CSV, or in .tsv) is not read as a seed, for a warning: a
// seed's file name ends in .csv or .csv.gz, in lower case. It is empty for
// other files (a README, the seeds' YAML).
func notASeed(p string) string {
	base := path.Base(p)
	lower := strings.ToLower(base)
	for _, ext := range []string{".csv", ".csv.gz"} {
		if strings.HasSuffix(lower, ext) {
			stem := base[:len(base)-len(ext)]
			return fmt.Sprintf("not read as a seed: a seed's file name ends in .csv or .csv.gz, in lower case (rename it %s to load it as seed %s)", stem+ext, stem)
		}
	}
	for _, ext := range []string{".tsv", ".tsv.gz"} {
		if strings.HasSuffix(lower, ext) {
			stem := base[:len(base)-len(ext)]
			gz := strings.TrimPrefix(ext, ".tsv")
			return fmt.Sprintf("not read as a seed: a seed's file name ends in .csv or .csv.gz (rename it %s.csv%s, and set its delimiter to a tab in YAML: seeds: [{name: %s, config: {delimiter: \"\\t\"}}])", stem, gz, stem)
		}
	}
	return ""
}
