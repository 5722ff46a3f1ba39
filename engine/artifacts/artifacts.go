// Package artifacts defines the files strata writes to target/ for other
// tools and for later runs: manifest.json, run_results.json and junit.xml.
// It holds types and their encoding only and imports nothing else from the
// engine, so readers of the files can depend on it alone.
package artifacts

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
)

// ManifestVersion changes when the shape of manifest.json does.
const ManifestVersion = 1

// Manifest is target/manifest.json: every node of the project as it was compiled.
type Manifest struct {
	Version  int                 `json:"version"`
	Project  string              `json:"project"`
	Target   string              `json:"target"`
	Nodes    map[string]*Node    `json:"nodes"`
	Macros   map[string]*Macro   `json:"macros"`
	Parents  map[string][]string `json:"parent_map"`
	Children map[string][]string `json:"child_map"`
	Vars     map[string]string   `json:"vars,omitempty"`
	Extra    map[string]any      `json:"extra,omitempty"`
	Sources  map[string]*Node    `json:"sources"`
	Exposure map[string]*Node    `json:"exposures"`
}

// Node is one model, seed, test, source or exposure.
type Node struct {
	ID           string            `json:"unique_id"`
	ResourceType string            `json:"resource_type"`
	Name         string            `json:"name"`
	Path         string            `json:"original_file_path"`
	Line         int               `json:"line,omitempty"`
	Schema       string            `json:"schema,omitempty"`
	Relation     string            `json:"relation_name,omitempty"`
	Description  string            `json:"description,omitempty"`
	Config       json.RawMessage   `json:"config,omitempty"`
	DependsOn    DependsOn         `json:"depends_on"`
	Checksum     string            `json:"checksum"`
	ConfigSum    string            `json:"config_checksum"`
	Vars         map[string]string `json:"vars_read,omitempty"`     // name -> sha256 of the value read
	EnvVars      map[string]string `json:"env_vars_read,omitempty"` // name -> sha256 of the value read
	Columns      []Column          `json:"columns,omitempty"`
	// ColumnsUsed are the columns of other nodes a model reads, and
	// ColumnsCheckedAt when strata check found them and Columns' types;
	// empty when check has not run on the node as it is now.
	ColumnsUsed      []ColumnRef `json:"columns_used,omitempty"`
	ColumnsCheckedAt string      `json:"columns_checked_at,omitempty"`
	Tags             []string    `json:"tags,omitempty"`
	Compiled         string      `json:"compiled_path,omitempty"`
	Test             *TestMeta   `json:"test_metadata,omitempty"`
	Raw              string      `json:"raw_code,omitempty"`
	CompiledCode     string      `json:"compiled_code,omitempty"`

	// A source table's source, by its name and its description (the
	// table's own is Description), as dbt's manifest names them.
	SourceName        string `json:"source_name,omitempty"`
	SourceDescription string `json:"source_description,omitempty"`

	// An exposure's YAML, as dbt's manifest carries it: its type
	// (dashboard, notebook, analysis, ml, application), label, owner,
	// maturity (high, medium, low) and url; empty when not given.
	Type     string `json:"type,omitempty"`
	Label    string `json:"label,omitempty"`
	Owner    *Owner `json:"owner,omitempty"`
	Maturity string `json:"maturity,omitempty"`
	URL      string `json:"url,omitempty"`
}

// Owner is who owns an exposure.
type Owner struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// DependsOn lists a node's parents and the macros it uses.
type DependsOn struct {
	Nodes  []string `json:"nodes"`
	Macros []string `json:"macros"`
}

// Column is a column of a node. Without a check, the columns its YAML
// declares, with their declared data_type. After strata check: the
// columns the node produces, in order, with the type PostgreSQL gives
// them (data_type), the YAML's declared one (declared_type) and
// description, then the declared columns it does not produce, with
// produced false.
type Column struct {
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
	DataType     string `json:"data_type,omitempty"`
	DeclaredType string `json:"declared_type,omitempty"`
	Produced     *bool  `json:"produced,omitempty"`
}

// ColumnRef is a column of a node, as read by another.
type ColumnRef struct {
	Node   string `json:"node"`
	Column string `json:"column"`
}

// CheckVersion changes when the shape of check.json does.
const CheckVersion = 1

// CheckResults is target/check.json: what strata check found of each node
// it checked, kept across checks (a check of some nodes updates theirs).
type CheckResults struct {
	Version int                   `json:"version"`
	Project string                `json:"project"`
	Target  string                `json:"target"`
	Nodes   map[string]*CheckNode `json:"nodes"`
}

// CheckNode is what one check found of one node.
type CheckNode struct {
	// Lineage is the checksum of the node and its ancestors (SQL, config,
	// vars read) when it was checked: their columns depend on all of them.
	Lineage     string        `json:"lineage_checksum"`
	CheckedAt   string        `json:"checked_at"`
	Status      string        `json:"status"`
	Columns     []CheckColumn `json:"columns,omitempty"`
	ColumnsUsed []ColumnRef   `json:"columns_used,omitempty"`
}

// CheckColumn is an output column and its type as PostgreSQL gives it.
type CheckColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ReadCheck reads a check.json.
func ReadCheck(path string) (*CheckResults, error) { return readJSON[CheckResults](path) }

// TestMeta says what a test checks.
type TestMeta struct {
	Kind     string         `json:"name"`
	Column   string         `json:"column_name,omitempty"`
	Args     map[string]any `json:"kwargs,omitempty"`
	Attached string         `json:"attached_node,omitempty"`
}

// Macro is one macro.
type Macro struct {
	Name     string `json:"name"`
	Path     string `json:"original_file_path"`
	Checksum string `json:"checksum"`
}

// RunResults is target/run_results.json.
type RunResults struct {
	Command string `json:"command"`
	// Args are the flags the run was given, which retry runs with again.
	Args        *RunArgs `json:"args"`
	StartedAt   string   `json:"started_at"`
	ElapsedTime float64  `json:"elapsed_time"`
	Target      string   `json:"target"`
	// Env is the environment the run built in (--env); "" production.
	Env string `json:"env,omitempty"`
	// RunID tells this run from another run of the project that started
	// in the same second (in the same folder, on another target or
	// environment): its progress lines carry it.
	RunID string `json:"run_id,omitempty"`
	// InProgress: the run had not ended when the file was written. A run
	// writes the file as it starts, every selected node "not finished",
	// and records each node as it ends in run_progress.jsonl beside it
	// (ReadRunResults reads both); it writes the file whole when it ends.
	// A file still in progress after the run is gone says what a run that
	// was killed had done.
	InProgress bool     `json:"in_progress,omitempty"`
	Results    []Result `json:"results"`
	Summary    Summary  `json:"summary"`
}

// RunArgs are the flags of a run that say what it does; retry repeats
// them, on the target the run used (RunResults.Target).
type RunArgs struct {
	Select          []string `json:"select,omitempty"`
	Exclude         []string `json:"exclude,omitempty"`
	State           string   `json:"state,omitempty"`
	Vars            string   `json:"vars,omitempty"`
	FullRefresh     bool     `json:"full_refresh,omitempty"`
	FullRefreshSCD2 bool     `json:"full_refresh_scd2,omitempty"`
	Threads         int      `json:"threads,omitempty"`
	FailFast        bool     `json:"fail_fast,omitempty"`
	Audit           bool     `json:"audit,omitempty"`
	NoAudit         bool     `json:"no_audit,omitempty"`
	Env             string   `json:"env,omitempty"`
	NoDefer         bool     `json:"no_defer,omitempty"`
	Check           bool     `json:"check,omitempty"` // build --check
}

// Result is the outcome of one node.
type Result struct {
	ID           string `json:"unique_id"`
	ResourceType string `json:"resource_type"`
	Status       string `json:"status"`
	Message      string `json:"message,omitempty"`
	// PlacedMessage is an error's message as strata prints it and
	// junit.xml holds it: placed at its node's file, and line where there
	// is one, also when Message has no place (a constraint violated by a
	// merge). Message stays as it was: an audit's starts with AUDIT FAILED.
	PlacedMessage string  `json:"placed_message,omitempty"`
	AdapterResp   string  `json:"adapter_response,omitempty"`
	Rows          int64   `json:"rows_affected"`
	Failures      *int64  `json:"failures,omitempty"`
	StartedAt     string  `json:"started_at,omitempty"`
	ExecutionTime float64 `json:"execution_time"`
	Compiled      string  `json:"compiled_path,omitempty"`
	Executed      string  `json:"executed_path,omitempty"`
	Relation      string  `json:"relation_name,omitempty"`
	Attempts      int     `json:"attempts,omitempty"`
}

// AuditFailed is the adapter_response of a model or seed whose new
// version failed its audit (write-audit-publish) and was not published:
// its previous version was kept.
const AuditFailed = "AUDIT FAILED"

// AuditNotCreated is in the message of an AuditFailed result whose model
// or seed did not exist before the run: there was no previous version to
// keep, and the new one was not created ("AUDIT FAILED: ...; public.m did
// not exist before this build, and was not created").
const AuditNotCreated = "did not exist before this build, and was not created"

// Summary counts results by outcome: pass (success or pass), warn, fail (a
// test that found rows), error (a node or a test's query that failed), skip.
type Summary struct {
	Pass  int `json:"pass"`
	Warn  int `json:"warn"`
	Fail  int `json:"fail"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
}

func writeAtomic(path string, data []byte) error {
	return writeAtomicWith(path, func(w *bufio.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// ReadManifest reads a manifest.json.
func ReadManifest(path string) (*Manifest, error) { return readJSON[Manifest](path) }

// ReadRunResults reads a run_results.json. Of a run in progress (or
// killed), it also reads what run_progress.jsonl beside it recorded.
func ReadRunResults(path string) (*RunResults, error) {
	rr, err := readJSON[RunResults](path)
	if err != nil || !rr.InProgress {
		return rr, err
	}
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(path), ProgressFile)); err == nil {
		applyProgress(b, rr)
	}
	return rr, nil
}

// ParseRunResults is ReadRunResults of the bytes read from path, b, and
// from the run_progress.jsonl beside it, progress (nil when there is none).
func ParseRunResults(path string, b, progress []byte) (*RunResults, error) {
	var rr RunResults
	if err := json.Unmarshal(b, &rr); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if rr.InProgress {
		applyProgress(progress, &rr)
	}
	return &rr, nil
}

func readJSON[T any](path string) (*T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &v, nil
}

// JUnit is target/junit.xml.
type JUnit struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite groups the test cases of one run.
type JUnitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []JUnitCase `xml:"testcase"`
}

// JUnitCase is one data test.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *JUnitMessage `xml:"failure,omitempty"`
	Error     *JUnitMessage `xml:"error,omitempty"`
	Skipped   *JUnitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitMessage is a failure, error or skip.
type JUnitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes j as XML to path.
func WriteJUnit(path string, j *JUnit) error {
	b, err := xml.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append([]byte(xml.Header), append(b, '\n')...))
}
