package project

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"strata/engine/diag"
)

// Value is one config setting as the user wrote it, with where.
type Value struct {
	V   any
	Pos diag.Pos
	// Keys holds where each key of a mapping value is (a column of
	// column_types), or each item of a list ("0", "1", ...: one hook of
	// post_hook), so that a problem with one points at it.
	Keys map[string]diag.Pos
	// Texts holds where the text of each hook of pre_hook or post_hook is
	// in its file ("0", "1", ... as Keys, "0" for a single one), so that
	// an error inside a hook is placed at its line there.
	Texts map[string]diag.Origin
}

// Layer is the config set at one level (built-ins, folder, YAML, SQL file).
type Layer map[string]Value

// Materializations are the ways a model can be built (docs/models.md).
var Materializations = []string{"view", "table", "incremental", "ephemeral", "materialized_view", "scd2"}

// ModelConfigKeys are the config keys a model accepts.
var ModelConfigKeys = []string{
	"materialized", "schema", "alias", "tags", "enabled", "indexes", "partition_by", "grants",
	"pre_hook", "post_hook", "unique_key", "incremental_strategy", "on_schema_change", "contract",
	"retries", "strategy", "check_cols", "updated_at", "hard_deletes", "scd2_columns", "description",
	"audit", "swap", "distributed_by", "colocate_with", "shard_count", "reference",
}

// dbtConfigKeys are config keys of dbt's models, seeds and snapshots that
// strata names otherwise or has no counterpart of, with what to write
// instead (docs/coming-from-dbt.md#configuration).
var dbtConfigKeys = map[string]string{
	"invalidate_hard_deletes":    "dbt's invalidate_hard_deletes: true is strata's hard_deletes: invalidate (docs/scd2.md)",
	"target_schema":              "a dbt snapshot's target_schema is strata's schema",
	"target_database":            "strata builds every model and seed into the target's database; --target chooses the target (docs/project.md#targets)",
	"database":                   "strata builds every model and seed into the target's database; --target chooses the target (docs/project.md#targets)",
	"snapshot_meta_column_names": "strata's is scd2_columns; scd2_columns: {valid_from: dbt_valid_from, valid_to: dbt_valid_to, surrogate_key: dbt_scd_id} keeps dbt's column names (docs/scd2.md)",
	"persist_docs":               "strata always writes a model's or seed's description as its relation's comment (its columns' descriptions are shown on the docs site, not written to the database); leave persist_docs out (docs/models.md#describing-models-in-yaml)",
	"docs":                       "strata's docs site shows every enabled model and seed, and has no docs config (show, node_color); leave it out (docs/docs-site.md)",
	"quote_columns":              "strata always quotes a seed's column names as its header writes them (capitals, spaces kept); leave quote_columns out, and rename a column in the header row to change it (docs/seeds-and-sources.md)",
	"full_refresh":               "strata has no full_refresh config: --full-refresh rebuilds or reloads what is selected, and a seed is reloaded in full whenever its file changed other than by growing (docs/seeds-and-sources.md#how-a-seed-is-loaded)",
}

// DbtConfigHint says what to write instead of key, a config key of dbt's
// that a model or seed does not take (allowed are the keys it takes).
func DbtConfigHint(key string, allowed []string) (string, bool) {
	hint, ok := dbtConfigKeys[key]
	return hint, ok && !contains(allowed, key)
}

// SeedConfigKeys are the config keys a seed accepts.
var SeedConfigKeys = []string{"schema", "alias", "tags", "enabled", "column_types", "delimiter", "grants", "pre_hook", "post_hook", "indexes", "audit",
	"distributed_by", "colocate_with", "shard_count", "reference"}

// DistributionKeys are the config keys that place a model's or seed's table
// on a Citus cluster (SPEC 13); a server without Citus ignores them.
var DistributionKeys = []string{"distributed_by", "colocate_with", "shard_count", "reference"}

// TestConfigKeys are the config keys every data test accepts.
var TestConfigKeys = []string{"severity", "warn_if", "error_if", "where", "limit", "store_failures", "name", "tags", "enabled"}

// Index is one entry of the indexes config.
type Index struct {
	Columns []string `json:"columns"`
	Unique  bool     `json:"unique,omitempty"`
	Type    string   `json:"type,omitempty"`
}

// PartitionBy is the partition_by config.
type PartitionBy struct {
	Column      string `json:"column"`
	Granularity string `json:"granularity"`
}

// SCD2Columns names the bookkeeping columns of an scd2 model.
type SCD2Columns struct {
	ValidFrom    string `json:"valid_from"`
	ValidTo      string `json:"valid_to"`
	IsCurrent    string `json:"is_current"`
	SurrogateKey string `json:"surrogate_key"`
}

// Config is the resolved configuration of a node, after precedence.
type Config struct {
	Materialized        string              `json:"materialized,omitempty"`
	Schema              string              `json:"schema,omitempty"`
	Alias               string              `json:"alias,omitempty"`
	Tags                []string            `json:"tags,omitempty"`
	Enabled             bool                `json:"enabled"`
	Indexes             []Index             `json:"indexes,omitempty"`
	PartitionBy         *PartitionBy        `json:"partition_by,omitempty"`
	Grants              map[string][]string `json:"grants,omitempty"`
	PreHook             []string            `json:"pre_hook,omitempty"`
	PostHook            []string            `json:"post_hook,omitempty"`
	UniqueKey           []string            `json:"unique_key,omitempty"`
	IncrementalStrategy string              `json:"incremental_strategy,omitempty"`
	OnSchemaChange      string              `json:"on_schema_change,omitempty"`
	Contract            bool                `json:"contract,omitempty"`
	Retries             int                 `json:"retries,omitempty"`
	Strategy            string              `json:"strategy,omitempty"`
	CheckCols           []string            `json:"check_cols,omitempty"`
	UpdatedAt           string              `json:"updated_at,omitempty"`
	HardDeletes         string              `json:"hard_deletes,omitempty"`
	SCD2Columns         *SCD2Columns        `json:"scd2_columns,omitempty"`
	ColumnTypes         map[string]string   `json:"column_types,omitempty"`
	Delimiter           string              `json:"delimiter,omitempty"`
	// Audit false: the node is published, then tested, even when its run
	// audits (write-audit-publish); nil is true.
	Audit *bool `json:"audit,omitempty"`
	// Swap is how a table model's new version replaces the old one:
	// rename (the default) or truncate_insert (in place, for snapshot
	// readers).
	Swap string `json:"swap,omitempty"`
	// Citus (SPEC 13): the column the table is sharded on, the model or
	// seed whose shards it shares, its shard count, or a reference table
	// (a copy on every node).
	DistributedBy string `json:"distributed_by,omitempty"`
	ColocateWith  string `json:"colocate_with,omitempty"`
	ShardCount    int    `json:"shard_count,omitempty"`
	Reference     bool   `json:"reference,omitempty"`
	// Test settings.
	Severity      string `json:"severity,omitempty"`
	WarnIf        string `json:"warn_if,omitempty"`
	ErrorIf       string `json:"error_if,omitempty"`
	Where         string `json:"where,omitempty"`
	Limit         int    `json:"limit,omitempty"`
	StoreFailures bool   `json:"store_failures,omitempty"`
}

var (
	thresholdRe  = regexp.MustCompile(`^\s*(=|==|!=|<>|>=|<=|>|<)\s*\d+\s*$`)
	columnTypeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])?$`)
)

// seedColumnTypeRe is what a seed's column_types may contain: words (dotted
// for a schema), numbers in parentheses ("numeric(12, 2)", "timestamp(3)
// with time zone") and array brackets. Nothing that can end the type or start
// a new clause: the type is pasted into the seed's create table.
var seedColumnTypeRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*(?: +[A-Za-z_][A-Za-z0-9_.]*| *\( *[0-9]+(?: *, *-?[0-9]+)* *\))*(?: *\[[0-9]*\])*$`)

// CheckSeedColumnType checks a type in a seed's column_types. Both validate
// and the seed loader call it, so that validate rejects exactly what a load
// would.
func CheckSeedColumnType(typ string) error {
	if !seedColumnTypeRe.MatchString(strings.TrimSpace(typ)) {
		return fmt.Errorf("%q is not a PostgreSQL type name strata accepts (expected words, numbers in parentheses and [], like numeric(12, 2), varchar(20) or timestamp(3) with time zone)", typ)
	}
	return nil
}

// OnCitus says whether the config places the table on a Citus cluster:
// distributed (distributed_by) or a reference table.
func (c Config) OnCitus() bool { return c.DistributedBy != "" || c.Reference }

// SeedDelimiter is the rune of a seed's delimiter config; 0 (the loader's
// ',') when none is set.
func (c Config) SeedDelimiter() rune {
	for _, r := range c.Delimiter {
		return r
	}
	return 0
}

// CheckSeedDelimiter checks a seed's delimiter. COPY takes a one-byte
// delimiter other than a line break or the quote, and the seed scanner
// reads bytes. Both validate and the seed loader call it, so that validate
// rejects exactly what a load would.
func CheckSeedDelimiter(d string) error {
	r, size := utf8.DecodeRuneInString(d)
	if size != len(d) || r == 0 || r >= utf8.RuneSelf || r == '"' || r == '\r' || r == '\n' {
		return fmt.Errorf("delimiter %q is not allowed (expected one ASCII character other than a quote or a line break)", d)
	}
	return nil
}

// Apply sets key to v in c, checking its type. The error says what was expected.
func (c *Config) Apply(key string, v any) error {
	var err error
	switch key {
	case "materialized":
		c.Materialized, err = oneOf(v, Materializations)
		if v == "snapshot" {
			err = fmt.Errorf("%v: a dbt snapshot is a model materialized as scd2 here, built by run and build (docs/scd2.md)", err)
		}
	case "schema":
		c.Schema, err = asString(v)
	case "alias":
		c.Alias, err = asString(v)
	case "description":
		_, err = asString(v)
	case "tags":
		var tags []string
		tags, err = asStrings(v)
		c.Tags = mergeTags(c.Tags, tags)
	case "enabled":
		c.Enabled, err = asBool(v)
	case "contract":
		c.Contract, err = asBool(v)
		if m, ok := v.(map[string]any); ok && err != nil {
			c.Contract, err = asBool(m["enforced"])
		}
	case "store_failures":
		c.StoreFailures, err = asBool(v)
	case "audit":
		var b bool
		if b, err = asBool(v); err == nil {
			c.Audit = &b
		}
	case "swap":
		c.Swap, err = oneOf(v, []string{"rename", "truncate_insert"})
	case "retries":
		c.Retries, err = asInt(v)
	case "limit":
		// 0 would be no limit at all (Limit 0 is unset): a test that looks
		// at no failure could never fail, so it is no limit to write.
		if c.Limit, err = asInt(v); err == nil && c.Limit == 0 {
			err = fmt.Errorf("expected a whole number >= 1 (the most failures the test looks at), got 0: a test that looks at none could never fail; leave limit out to look at them all")
		}
	case "indexes":
		c.Indexes, err = asIndexes(v)
	case "partition_by":
		c.PartitionBy, err = asPartition(v)
	case "grants":
		c.Grants, err = asGrants(v)
	case "pre_hook":
		c.PreHook, err = asStrings(v)
	case "post_hook":
		c.PostHook, err = asStrings(v)
	case "unique_key":
		c.UniqueKey, err = asStrings(v)
	case "check_cols":
		c.CheckCols, err = asStrings(v)
	case "incremental_strategy":
		c.IncrementalStrategy, err = oneOf(v, []string{"append", "merge", "delete+insert"})
	case "on_schema_change":
		c.OnSchemaChange, err = oneOf(v, []string{"ignore", "fail", "append_new_columns", "sync_all_columns"})
	case "strategy":
		c.Strategy, err = oneOf(v, []string{"check", "timestamp"})
	case "updated_at":
		c.UpdatedAt, err = asString(v)
	case "hard_deletes":
		c.HardDeletes, err = oneOf(v, []string{"ignore", "invalidate", "new_record"})
	case "scd2_columns":
		c.SCD2Columns, err = asSCD2(v)
	case "column_types":
		c.ColumnTypes, err = asColumnTypes(v)
	case "delimiter":
		c.Delimiter, err = asString(v)
		if err == nil {
			err = CheckSeedDelimiter(c.Delimiter)
		}
	case "distributed_by":
		c.DistributedBy, err = asName(v, "the name of the column to shard the table on")
	case "colocate_with":
		c.ColocateWith, err = asName(v, "the name of a distributed model or seed")
	case "shard_count":
		c.ShardCount, err = asInt(v)
		if err == nil && c.ShardCount < 1 {
			err = fmt.Errorf("expected a whole number >= 1, got %d", c.ShardCount)
		}
	case "reference":
		c.Reference, err = asBool(v)
	case "severity":
		c.Severity, err = oneOf(v, []string{"error", "warn"})
	case "warn_if":
		c.WarnIf, err = asThreshold(v)
	case "error_if":
		c.ErrorIf, err = asThreshold(v)
	case "where":
		c.Where, err = asString(v)
	case "name":
		_, err = asString(v)
	default:
		return fmt.Errorf("unknown config key %q", key)
	}
	return err
}

func mergeTags(have, add []string) []string {
	out := append([]string(nil), have...)
	for _, t := range add {
		if !contains(out, t) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

func asString(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("expected a string, got %s", describe(v))
}

// asName is a non-empty string: what names.
func asName(v any, what string) (string, error) {
	s, err := asString(v)
	if err == nil && s == "" {
		err = fmt.Errorf("expected %s, got nothing", what)
	}
	return s, err
}

func oneOf(v any, allowed []string) (string, error) {
	s, err := asString(v)
	if err != nil {
		// hard_deletes: true, as dbt's invalidate_hard_deletes is written.
		return "", fmt.Errorf("expected one of %s, got %s", strings.Join(allowed, ", "), describe(v))
	}
	if !contains(allowed, s) {
		return "", fmt.Errorf("expected one of %s, got %q%s", strings.Join(allowed, ", "), s, diag.DidYouMean(s, allowed))
	}
	return s, nil
}

func asBool(v any) (bool, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return false, fmt.Errorf("expected true or false, got %s", describe(v))
}

func asInt(v any) (int, error) {
	switch t := v.(type) {
	case int:
		if t >= 0 {
			return t, nil
		}
	case int64:
		if t >= 0 {
			return int(t), nil
		}
	}
	return 0, fmt.Errorf("expected a whole number >= 0, got %s", describe(v))
}

func asStrings(v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{t}, nil
	case []string:
		return t, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("expected a list of strings, got an item %s", describe(x))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a string or a list of strings, got %s", describe(v))
}

func asMap(v any) (map[string]any, error) {
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	return nil, fmt.Errorf("expected a mapping, got %s", describe(v))
}

func checkKeys(m map[string]any, allowed ...string) error {
	for _, k := range sortedKeys(m) {
		if !contains(allowed, k) {
			return fmt.Errorf("unknown key %q (expected %s)%s", k, strings.Join(allowed, ", "), diag.DidYouMean(k, allowed))
		}
	}
	return nil
}

func asIndexes(v any) ([]Index, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a list of {columns: [...], unique: bool}, got %s", describe(v))
	}
	var out []Index
	for _, item := range list {
		m, err := asMap(item)
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		if err := checkKeys(m, "columns", "unique", "type"); err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		var ix Index
		if ix.Columns, err = asStrings(m["columns"]); err != nil || len(ix.Columns) == 0 {
			return nil, fmt.Errorf("index: columns: expected a non-empty list of column names")
		}
		if u, ok := m["unique"]; ok {
			if ix.Unique, err = asBool(u); err != nil {
				return nil, fmt.Errorf("index: unique: %w", err)
			}
		}
		if t, ok := m["type"]; ok {
			if ix.Type, err = oneOf(t, []string{"btree", "hash", "gin", "gist", "brin"}); err != nil {
				return nil, fmt.Errorf("index: type: %w", err)
			}
		}
		out = append(out, ix)
	}
	return out, nil
}

func asPartition(v any) (*PartitionBy, error) {
	m, err := asMap(v)
	if err != nil {
		return nil, err
	}
	if err := checkKeys(m, "column", "granularity"); err != nil {
		return nil, err
	}
	p := &PartitionBy{Granularity: "month"}
	if p.Column, err = asString(m["column"]); err != nil || p.Column == "" {
		return nil, fmt.Errorf("column: expected the name of a date or timestamp column")
	}
	if g, ok := m["granularity"]; ok {
		if p.Granularity, err = oneOf(g, []string{"day", "month", "year"}); err != nil {
			return nil, fmt.Errorf("granularity: %w", err)
		}
	}
	return p, nil
}

func asGrants(v any) (map[string][]string, error) {
	m, err := asMap(v)
	if err != nil {
		return nil, err
	}
	privs := []string{"select", "insert", "update", "delete", "truncate", "references", "trigger"}
	out := map[string][]string{}
	for _, k := range sortedKeys(m) {
		if !contains(privs, k) {
			return nil, fmt.Errorf("unknown privilege %q (expected one of %s)%s", k, strings.Join(privs, ", "), diag.DidYouMean(k, privs))
		}
		roles, err := asStrings(m[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = roles
	}
	return out, nil
}

func asSCD2(v any) (*SCD2Columns, error) {
	m, err := asMap(v)
	if err != nil {
		return nil, err
	}
	if err := checkKeys(m, "valid_from", "valid_to", "is_current", "surrogate_key"); err != nil {
		return nil, err
	}
	c := &SCD2Columns{}
	for k, dst := range map[string]*string{"valid_from": &c.ValidFrom, "valid_to": &c.ValidTo, "is_current": &c.IsCurrent, "surrogate_key": &c.SurrogateKey} {
		if x, ok := m[k]; ok {
			if *dst, err = asString(x); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	return c, nil
}

func asColumnTypes(v any) (map[string]string, error) {
	m, err := asMap(v)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, x := range m {
		s, err := asString(x)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if err := CheckSeedColumnType(s); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = s
	}
	return out, nil
}

// asThreshold is a warn_if or error_if as the run compares it: the
// operator and the number, without the blanks around them (a tab too), the
// number one that a count of failures is compared with (at most
// math.MaxInt64: a larger one was taken for "!=0").
func asThreshold(v any) (string, error) {
	s, err := asString(v)
	if err != nil {
		return "", err
	}
	if !thresholdRe.MatchString(s) {
		return "", fmt.Errorf("expected a comparison with a number such as \">10\" or \"!=0\", got %q", s)
	}
	s = strings.Join(strings.Fields(s), "")
	digits := strings.TrimLeft(s, "=!<>")
	if _, err := strconv.ParseInt(digits, 10, 64); err != nil {
		return "", fmt.Errorf("the number of %q is too large: a count of failures is compared with a number up to %d", s, int64(math.MaxInt64))
	}
	return s, nil
}

func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("%q", t)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v", v)
}
