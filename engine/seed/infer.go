package seed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/pgname"
	"strata/engine/project"
)

// The SQL types that inference produces.
const (
	TypeBigint      = "bigint"
	TypeNumeric     = "numeric"
	TypeBoolean     = "boolean"
	TypeDate        = "date"
	TypeTimestamp   = "timestamp"
	TypeTimestamptz = "timestamptz"
	TypeText        = "text"
)

// Kinds a value can be read as. A column keeps the intersection of the kinds
// of its non-empty values and takes the first type in this order that is left.
const (
	kInt  uint8 = 1 << iota // bigint; also numeric
	kNum                    // numeric
	kBool                   // boolean
	kDate                   // date; also timestamp
	kTS                     // timestamp without zone
	kTSTZ                   // timestamp with a zone
	kAll  = kInt | kNum | kBool | kDate | kTS | kTSTZ
)

// checksumVersion changes whenever inference or loading changes what ends up
// in the table, so that seeds loaded by an older strata are reloaded.
const checksumVersion = "strata-seed-v1"

func typeOf(mask uint8, seen bool) string {
	switch {
	case !seen:
		return TypeText
	case mask&kInt != 0:
		return TypeBigint
	case mask&kNum != 0:
		return TypeNumeric
	case mask&kBool != 0:
		return TypeBoolean
	case mask&kDate != 0:
		return TypeDate
	case mask&kTS != 0:
		return TypeTimestamp
	case mask&kTSTZ != 0:
		return TypeTimestamptz
	}
	return TypeText
}

// Options configure how a seed is read and loaded. The errors of its
// callbacks (BeforeLoad, Finish, Audit, BeforeCommit) are returned as they
// are: the runner's own errors name the seed, or the place in its config.
type Options struct {
	// Path names the file in messages, relative to the project.
	Path string
	// Delimiter separates fields; zero means ','. It must pass
	// project.CheckSeedDelimiter.
	Delimiter rune
	// ColumnTypes overrides inference for the named columns; the value is a
	// SQL type such as "varchar(20)" or "numeric(12, 2)" that passes
	// project.CheckSeedColumnType.
	ColumnTypes map[string]string
	// FullRefresh reloads the seed even when it is unchanged.
	FullRefresh bool
	// Progress, when set, is called during the COPY with the bytes of the
	// file sent so far and the file's size (of an append: the bytes
	// appended, uncompressed), at most about every 500ms and once at the end.
	Progress func(done, total int64)
	// BeforeLoad, when set, runs in the load's transaction before the table
	// is changed (a seed's pre_hook), so that a failure leaves the table as
	// it was. It is not called when the seed is skipped.
	BeforeLoad func(ctx context.Context, tx pgx.Tx) error
	// BeforeSwap, when set, runs in the load's transaction just before a
	// table whose columns changed replaces one that views depend on, which
	// drops and recreates those views: the runner takes its swap lock there,
	// so that nothing else rewrites those views meanwhile.
	BeforeSwap func(ctx context.Context, tx pgx.Tx) error
	// BeforeCommit, when set, runs last in a transaction of the load that
	// commits a change (the runner records the seed in the target's state
	// there); an error rolls the load back.
	BeforeCommit func(ctx context.Context, tx pgx.Tx) error
	// Finish, when set, runs in the load's transaction once the new rows
	// are in rel, before Audit (the runner completes the table there: its
	// indexes, statistics, grants and comment, so that nothing is published
	// half finished); rel is the table that replaces the old one, or the
	// old one refilled or appended to. refilled says that rel is the old
	// one, truncated and refilled in this transaction (which so holds its
	// ACCESS EXCLUSIVE lock). An error rolls the whole load back.
	Finish func(ctx context.Context, tx pgx.Tx, rel pgname.Rel, refilled bool) error
	// Audit, when set, runs in the load's transaction once the new rows are
	// in rel (the table that replaces the old one, or the old one refilled
	// or appended to), before anything is published: an error rolls the
	// whole load back (write-audit-publish).
	Audit func(ctx context.Context, tx pgx.Tx, rel pgname.Rel) error
	// Locks is how the load takes the table's exclusive lock, which readers
	// hold it back from (zero: postgres.DefaultLockPolicy); Waiting reports
	// each wait.
	Locks   postgres.LockPolicy
	Waiting func(postgres.LockWait)
	// Holders, when set, lists on the load's transaction (q) the sessions
	// that held up an attempt, for Waiting (postgres.LockWait.Holders).
	Holders func(ctx context.Context, q postgres.Querier) ([]postgres.LockHolder, error)
	// KeepComment: the table that replaces the old one gets its comment
	// (the seed has no description of its own).
	KeepComment bool
	// Redefine gives, for a view that depends on the table and cannot be
	// recreated on its new columns, its new SQL when it is a view or
	// materialized view model that the run builds
	// (postgres.SwapOptions.Redefine); the zero value: none.
	Redefine postgres.Redefiner
	// Citus, when set, places the seed's table on a Citus cluster (SPEC 13).
	Citus *Citus
	// Parts is how many connections copy a large file at once (0: Parts();
	// 1: one). The others are opened with the config of the one Load is
	// given (parallel.go).
	Parts int
	// SchemaReady: the caller made sure the schema exists (the runner
	// does, once a run for each schema), so Load does not ask the server
	// again, a round trip per seed.
	SchemaReady bool
}

// Citus is how a seed's table is placed on a Citus cluster: the runner
// decides, the loader calls it at the right moments.
type Citus struct {
	// Begin starts the load's transaction on Citus: views: the load may
	// replace a table that views depend on, which recreates them.
	Begin func(ctx context.Context, tx pgx.Tx, views bool) error
	// Distribute distributes (or makes a reference table of) the new,
	// empty table rel, before it is filled by COPY, which Citus then
	// routes to the shards.
	Distribute func(ctx context.Context, tx pgx.Tx, rel pgname.Rel) error
	// Placed says whether the existing table rel is placed as the config
	// asks: when it is not, it is replaced in full (no append, no skip, no
	// refill in place), so that it moves.
	Placed func(ctx context.Context, q postgres.Querier, rel pgname.Rel) (bool, error)
}

// Column is a column of a seed's table.
type Column struct {
	Name string
	Type string
}

// Schema is what inference found in a CSV file.
type Schema struct {
	Columns []Column
	// Rows counts the data rows, without the header.
	Rows int64
	// Checksum identifies the file's contents together with the options
	// that change how it is loaded: "sha256:<hex>".
	Checksum string

	state fileState
	// typedBy holds, for each column, the value that made it its inferred
	// type (the last to narrow the types it could be); zero when no value
	// did (a column without values is text).
	typedBy []valueAt
}

// madeBy says what made column col the type it has, for a message about a
// column whose type changed since the last load: the value and where it
// is, or that the column has no value; empty when column_types set it.
func (sc Schema) madeBy(col, path string, opts Options) string {
	if _, set := opts.ColumnTypes[col]; set {
		return ""
	}
	for i, c := range sc.Columns {
		if c.Name != col || i >= len(sc.typedBy) {
			continue
		}
		if v := sc.typedBy[i]; v.line > 0 {
			return fmt.Sprintf(" (%q at %s:%d:%d made it %s)", v.value, path, v.line, v.col, c.Type)
		}
		return " (no row has a value in it)"
	}
	return ""
}

// fileState is what a later load needs to continue after the end of this
// file when rows were appended to it: where it ended and what its values
// allowed each column to be.
type fileState struct {
	bytes int64   // length of the (uncompressed) file
	line  int     // physical line on which a next record would start
	eol   int     // line ending style, eolUnknown if no line ended
	open  bool    // the last record is not followed by a line break
	blank int     // blank lines at the end, which are not rows
	kinds []uint8 // per column: the kinds every non-empty value can be read as
	seen  []bool  // per column: whether any value was non-empty
}

// delimiterByte validates opts.Delimiter, by the rule validate applies.
func delimiterByte(d rune) (byte, error) {
	if d == 0 {
		return ',', nil
	}
	if err := project.CheckSeedDelimiter(string(d)); err != nil {
		return 0, err
	}
	return byte(d), nil
}

// Infer reads a whole CSV file once, streaming, and returns the table it
// will load into. It checks every row, so a file that Infer accepts loads
// with COPY without CSV errors. r is the uncompressed CSV; the checksum
// covers its bytes (so a re-compressed .csv.gz with the same content is
// unchanged) and the delimiter and column_types.
//
// A column's type is the narrowest that every non-empty value in it fits:
//
//   - bigint: integers within int64 ("-12", "+3"); a leading zero before
//     more digits ("01234", "-07") makes the column text, since such values
//     are codes whose zeros matter. Larger integers are numeric.
//   - numeric: decimals ("1.5", ".5", "5.", "2e-3"); not NaN or Infinity.
//   - boolean: true/false, t/f, yes/no, in any case; not 1/0 or y/n.
//   - date: "YYYY-MM-DD", a real calendar date from year 1.
//   - timestamp: "YYYY-MM-DD HH:MM[:SS[.fraction]]", with ' ' or 'T';
//     dates mixed in are fine (they mean midnight).
//   - timestamptz: the same with a zone ("Z", "+02", "+0530", "-05:30") on
//     every value; zoned and unzoned (or date) values together make text,
//     since the unzoned ones would depend on the server's time zone.
//   - text: anything else, and columns with no non-empty value.
//
// An empty unquoted field is NULL (COPY's csv rule). A quoted empty field
// ("") is an empty string, which only text can hold, so it makes its
// column text. Options.ColumnTypes replaces the inferred type of a column.
func Infer(r io.Reader, opts Options) (Schema, error) {
	return infer(context.Background(), r, opts)
}

func infer(ctx context.Context, r io.Reader, opts Options) (Schema, error) {
	delim, err := delimiterByte(opts.Delimiter)
	if err != nil {
		return Schema{}, err
	}
	h := sha256.New()
	s := newScanner(ctx, r, h, opts.Path, delim)

	if err := s.next(); err == io.EOF {
		return Schema{}, diag.Diagnostic{Pos: diag.Pos{File: opts.Path}, Msg: "the file is empty (expected a header row with the column names)"}
	} else if err != nil {
		return Schema{}, err
	}
	cols, err := header(s)
	if err != nil {
		return Schema{}, err
	}
	masks := make([]uint8, len(cols))
	seen := make([]bool, len(cols))
	for i := range masks {
		masks[i] = kAll
	}
	s.typedBy = make([]valueAt, len(cols))
	rows, err := scanRows(s, masks, seen)
	if err != nil {
		return Schema{}, err
	}
	for j := range cols {
		cols[j].Type = typeOf(masks[j], seen[j])
	}
	if err := applyColumnTypes(cols, opts); err != nil {
		return Schema{}, err
	}
	writeConfig(h, delim, opts.ColumnTypes, s.blank)
	return Schema{Columns: cols, Rows: rows, Checksum: "sha256:" + hex.EncodeToString(h.Sum(nil)), state: s.state(masks, seen), typedBy: s.typedBy}, nil
}

// scanRows reads the remaining records of s, checks that each has
// len(masks) fields, and narrows masks and seen by their values. It returns
// the number of records read.
//
// Blank lines at the end of the file are not rows (editors add them; COPY
// would refuse them, or load NULLs into a seed of one column): s.blank
// counts them. A blank line before another row is a row of NULL in a seed
// of one column, as COPY loads it, and an error otherwise.
func scanRows(s *scanner, masks []uint8, seen []bool) (int64, error) {
	n := len(masks)
	var rows int64
	blank, blankLine := 0, 0 // blank lines read since the last row
	for {
		err := s.next()
		if err == io.EOF {
			if blank > 0 && s.more {
				// Not at the end of the file: the piece after this one
				// starts with a row (the splitter sees to that).
				if n != 1 {
					return rows, s.errorAt(blankLine, 0, blankLineMsg, n)
				}
				rows += int64(blank)
				blank = 0
			}
			s.blank = blank
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		if s.blankRecord() {
			if blank == 0 {
				blankLine = s.recLine
			}
			blank++
			continue
		}
		if blank > 0 {
			if n != 1 {
				return rows, s.errorAt(blankLine, 0, blankLineMsg, n)
			}
			rows += int64(blank) // NULL, which every type holds
			blank = 0
		}
		fields := s.fields
		if len(fields) != n {
			return rows, fieldCountError(s, n)
		}
		buf := s.buf
		// COPY refuses bytes that are not UTF-8 with the line at best; say
		// where they are and what to do before anything is loaded.
		if last := fields[n-1]; !utf8.Valid(buf[fields[0].start:last.end]) {
			return rows, encodingError(s, fields)
		}
		rows++
		for j, f := range fields {
			m := masks[j]
			if m == 0 {
				continue // already text
			}
			if f.start == f.end {
				if f.quoted {
					// "" is an empty string to COPY, not NULL: only text holds it.
					masks[j] = 0
					s.narrowed(j, f)
				}
				continue
			}
			seen[j] = true
			if masks[j] = classify(buf[f.start:f.end], m); masks[j] != m {
				s.narrowed(j, f)
			}
		}
	}
}

// maxColumns is how many columns a PostgreSQL table can have
// (MaxHeapAttributeNumber).
const maxColumns = 1600

// systemColumn holds the names of PostgreSQL's system columns, which
// every table has (xmin, xmax: a bounding box's columns clash with them).
var systemColumn = map[string]bool{"tableoid": true, "xmin": true, "cmin": true, "xmax": true, "cmax": true, "ctid": true}

// header reads the column names from the first record.
func header(s *scanner) ([]Column, error) {
	if n := len(s.fields); n > maxColumns {
		line, col := s.posOf(s.fields[maxColumns].start - btoi(s.fields[maxColumns].quoted))
		return nil, s.errorAt(line, col, "the header has %d columns, more than the %d a PostgreSQL table can have (column %d starts here): split the file into seeds of fewer columns, or leave out the columns that nothing reads", n, maxColumns, maxColumns+1)
	}
	cols := make([]Column, len(s.fields))
	first := make(map[string]int, len(s.fields))
	for j, f := range s.fields {
		name := s.value(f)
		at := f.start
		if f.quoted {
			at--
		}
		line, col := s.posOf(at)
		switch {
		case name == "":
			return nil, s.errorAt(line, col, "column %d has no name (every column needs a name in the header row)", j+1)
		case strings.IndexByte(name, 0) >= 0:
			return nil, s.errorAt(line, col, "column name %q contains a NUL byte, which a PostgreSQL name cannot hold (remove it from the header row)", name)
		case !utf8.ValidString(name):
			return nil, s.errorAt(line, col, "column name %q is not valid UTF-8 (strata reads seeds as UTF-8: save the file as UTF-8, for example with iconv -f latin1 -t utf-8)", name)
		case len(name) > pgname.MaxIdent:
			return nil, s.errorAt(line, col, "column name %q is %d bytes long (PostgreSQL allows at most %d: give the column a shorter name in the header row)", name, len(name), pgname.MaxIdent)
		}
		if systemColumn[name] {
			return nil, s.errorAt(line, col, "column name %q is the name of a column PostgreSQL gives every table, which a table's own column cannot have (give the column another name in the header row, as %s_)", name, name)
		}
		if k, dup := first[name]; dup {
			return nil, s.errorAt(line, col, "duplicate column name %q (also column %d: give one of them another name in the header row)", name, k+1)
		}
		first[name] = j
		cols[j] = Column{Name: name}
	}
	return cols, nil
}

// encodingError places the first byte of the current record that is not
// UTF-8.
func encodingError(s *scanner, fields []field) error {
	for _, f := range fields {
		v := s.buf[f.start:f.end]
		for i := 0; i < len(v); {
			r, size := utf8.DecodeRune(v[i:])
			if r == utf8.RuneError && size <= 1 {
				line, col := s.posOf(f.start + i)
				return s.errorAt(line, col, "byte 0x%02x is not UTF-8 (strata reads seeds as UTF-8: save the file as UTF-8, for example with iconv -f latin1 -t utf-8)", v[i])
			}
			i += size
		}
	}
	return s.errorAt(s.recLine, 0, "the row is not UTF-8 (strata reads seeds as UTF-8: save the file as UTF-8, for example with iconv -f latin1 -t utf-8)")
}

const blankLineMsg = "blank line (expected %d fields like the header; remove the line: blank lines are ignored only at the end of the file)"

// fieldCountError places a record whose number of fields is not the
// header's: at the first field too many, or at the end of a record that
// is short, and says what to do.
func fieldCountError(s *scanner, want int) error {
	fs := s.fields
	got := fmt.Sprintf("row has %d field%s, the header has %d", len(fs), plural(len(fs)), want)
	delim := fmt.Sprintf("%q", string(s.delim))
	if s.delim == '\t' {
		delim = "tab"
	}
	if len(fs) > want {
		line, col := s.posOf(fs[want].start - btoi(fs[want].quoted))
		return s.errorAt(line, col, "%s (a value that holds the delimiter %s must be quoted, as in \"1%c5\"; or set the seed's delimiter, if the file uses another)", got, delim, s.delim)
	}
	last := fs[len(fs)-1]
	line, col := s.posOf(last.end + btoi(last.quoted))
	return s.errorAt(line, col, "%s (add the missing field%s, empty for NULL; or set the seed's delimiter, if the file uses another than %s)", got, plural(want-len(fs)), delim)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// applyColumnTypes puts the configured column_types over inferred types.
func applyColumnTypes(cols []Column, opts Options) error {
	if len(opts.ColumnTypes) == 0 {
		return nil
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	keys := sortedKeys(opts.ColumnTypes)
	for _, name := range keys {
		typ := strings.TrimSpace(opts.ColumnTypes[name])
		if err := project.CheckSeedColumnType(typ); err != nil {
			return fmt.Errorf("column_types: column %q: %w", name, err)
		}
		i := slices.Index(names, name)
		if i < 0 {
			return fmt.Errorf("column_types: column %q is not in the header of %s%s", name, opts.Path, diag.DidYouMean(name, names))
		}
		cols[i].Type = typ
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// writeConfig adds to the checksum what, besides the file, decides what the
// table holds. blank is the number of blank lines at the end of the file:
// older versions of strata loaded those of a seed of one column as NULL
// rows (and refused the others), so a file that has them gets a checksum
// of its own, which reloads such a table.
func writeConfig(h io.Writer, delim byte, types map[string]string, blank int) {
	fmt.Fprintf(h, "\x00%s\x00delimiter=%q", checksumVersion, delim)
	for _, k := range sortedKeys(types) {
		fmt.Fprintf(h, "\x00column_types[%q]=%q", k, strings.TrimSpace(types[k]))
	}
	if blank > 0 {
		fmt.Fprintf(h, "\x00trailing_blank_lines_ignored")
	}
}

// classify narrows mask to the kinds that value can be read as. value is
// not empty. The checks are byte comparisons: this runs for every cell.
func classify(v []byte, mask uint8) uint8 {
	c := v[0]
	switch {
	case c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.':
		var k uint8
		if mask&(kInt|kNum) != 0 {
			k = numberKind(v)
		}
		if mask&(kDate|kTS|kTSTZ) != 0 && len(v) >= 10 && v[4] == '-' {
			k |= timeKind(v)
		}
		return mask & k
	case mask&kBool != 0 && isBool(v):
		return mask & kBool
	}
	return 0
}

func isDigit(c byte) bool { return c-'0' < 10 }

// numberKind reads an integer (kInt|kNum) or a decimal number (kNum). A
// leading zero before more digits ("01234", "007.5") is an identifier, not a
// number: zip codes and account numbers keep their zeros as text.
func numberKind(v []byte) uint8 {
	i := 0
	if v[0] == '-' || v[0] == '+' {
		i++
	}
	ds := i
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	intDigits := i - ds
	if intDigits > 1 && v[ds] == '0' {
		return 0
	}
	if i == len(v) {
		switch {
		case intDigits == 0:
			return 0
		case fitsInt64(v[ds:], v[0] == '-'):
			return kInt | kNum
		case len(v) <= 1000:
			return kNum
		}
		return 0
	}
	frac := 0
	if v[i] == '.' {
		i++
		fs := i
		for i < len(v) && isDigit(v[i]) {
			i++
		}
		frac = i - fs
	}
	if intDigits+frac == 0 {
		return 0
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '-' || v[i] == '+') {
			i++
		}
		es, exp := i, 0
		for i < len(v) && isDigit(v[i]) && i-es < 5 {
			exp = exp*10 + int(v[i]-'0')
			i++
		}
		// PostgreSQL's numeric input refuses exponents beyond ±1000.
		if i == es || exp > 1000 {
			return 0
		}
	}
	if i != len(v) || len(v) > 1000 {
		return 0
	}
	return kNum
}

func fitsInt64(digits []byte, neg bool) bool {
	const maxInt, minInt = "9223372036854775807", "9223372036854775808"
	switch {
	case len(digits) < len(maxInt):
		return true
	case len(digits) > len(maxInt):
		return false
	case neg:
		return string(digits) <= minInt
	}
	return string(digits) <= maxInt
}

// isBool accepts true/false, t/f and yes/no in any case. Not 1/0 (those are
// numbers) and not y/n or on/off (too often one-letter codes or words).
func isBool(v []byte) bool {
	switch len(v) {
	case 1:
		c := v[0] | 0x20
		return c == 't' || c == 'f'
	case 2:
		return v[0]|0x20 == 'n' && v[1]|0x20 == 'o'
	case 3:
		return v[0]|0x20 == 'y' && v[1]|0x20 == 'e' && v[2]|0x20 == 's'
	case 4:
		return v[0]|0x20 == 't' && v[1]|0x20 == 'r' && v[2]|0x20 == 'u' && v[3]|0x20 == 'e'
	case 5:
		return v[0]|0x20 == 'f' && v[1]|0x20 == 'a' && v[2]|0x20 == 'l' && v[3]|0x20 == 's' && v[4]|0x20 == 'e'
	}
	return false
}

// timeKind reads an ISO date "YYYY-MM-DD" (kDate|kTS: a date is also a
// valid timestamp) or timestamp "YYYY-MM-DD[ T]HH:MM[:SS[.frac]][zone]" with
// zone "Z", "±HH", "±HHMM" or "±HH:MM" (kTSTZ with a zone, kTS without).
// Values are range-checked so that a column typed date or timestamp loads.
func timeKind(v []byte) uint8 {
	if len(v) < 10 || v[4] != '-' || v[7] != '-' {
		return 0
	}
	y, ok1 := num(v[0:4])
	m, ok2 := num(v[5:7])
	d, ok3 := num(v[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0
	}
	if len(v) == 10 {
		return kDate | kTS
	}
	if v[10] != ' ' && v[10] != 'T' || len(v) < 16 || v[13] != ':' {
		return 0
	}
	hh, ok1 := num(v[11:13])
	mm, ok2 := num(v[14:16])
	if !ok1 || !ok2 || hh > 23 || mm > 59 {
		return 0
	}
	i := 16
	if i < len(v) && v[i] == ':' {
		ss, ok := num(v[i+1 : min(i+3, len(v))])
		if !ok || i+3 > len(v) || ss > 59 {
			return 0
		}
		i += 3
		if i < len(v) && v[i] == '.' {
			i++
			fs := i
			for i < len(v) && isDigit(v[i]) {
				i++
			}
			if i == fs || i-fs > 9 {
				return 0
			}
		}
	}
	if i == len(v) {
		return kTS
	}
	switch v[i] {
	case 'Z', 'z':
		if i+1 == len(v) {
			return kTSTZ
		}
		return 0
	case '+', '-':
	default:
		return 0
	}
	z := v[i+1:]
	var zh, zm int
	var ok bool
	switch len(z) {
	case 2:
		zh, ok = num(z)
	case 4:
		zh, ok = num(z[:2])
		if ok {
			zm, ok = num(z[2:])
		}
	case 5:
		zh, ok = num(z[:2])
		if ok && z[2] == ':' {
			zm, ok = num(z[3:])
		} else {
			ok = false
		}
	}
	if !ok || zh > 15 || zm > 59 {
		return 0
	}
	return kTSTZ
}

// num reads a fixed-width unsigned decimal.
func num(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
