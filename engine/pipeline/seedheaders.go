package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/seed"
)

// checkSeedHeaders reports what the seed command would refuse in the header
// row of a seed's CSV file, so that validate and every other command say it
// before anything runs: a column without a name, a name given twice, longer
// than PostgreSQL's 63 bytes or a system column's, more columns than a
// table holds, an empty file (at the file's line and column); and each
// column_types key, the distributed_by column and each column of the
// seed's YAML that the header lacks, at the key or at the column's name.
// A header read as one column that holds another separator is a warning.
// Only the header row of each file is read. A file that is missing (a
// warning of its own) or cannot be opened is left to the seed command.
func checkSeedHeaders(dir string, man *manifest.Manifest, bad map[string]bool) diag.List {
	// Reading one header is too short to be worth a cancellation point, and
	// the loader that calls this has no context.
	ctx := context.Background()
	var diags diag.List
	for _, id := range man.Sorted() {
		n := man.Nodes[id]
		if n.Kind != manifest.Seed || bad[n.Path] {
			continue
		}
		names, err := seed.Header(ctx, filepath.Join(dir, filepath.FromSlash(n.Path)), seed.Options{Path: n.Path, Delimiter: n.Config.SeedDelimiter()})
		var d diag.Diagnostic
		if errors.As(err, &d) {
			diags = append(diags, d)
		}
		if err != nil {
			continue
		}
		if w := oneColumnHeader(n, names); w != "" {
			diags.Warnf(diag.Pos{File: n.Path, Line: 1, Col: 1}, "%s", w)
		}
		keys := make([]string, 0, len(n.Config.ColumnTypes))
		for k := range n.Config.ColumnTypes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if slices.Contains(names, k) {
				continue
			}
			diags.Errorf(n.EntryPos("column_types", k), "column_types: column %q is not in the header of %s (expected one of %s)%s", k, n.Path, shortList(names), diag.DidYouMean(k, names))
		}
		// Citus places each row by its distribution column: the loader
		// would refuse the file on a Citus server (the key is ignored
		// elsewhere, but a project's config is checked wherever it runs,
		// as validate checks the other Citus keys).
		if col := n.Config.DistributedBy; col != "" && !n.Config.Reference && !slices.Contains(names, col) {
			diags.Errorf(n.ConfigPos["distributed_by"], "distributed_by: column %q is not in the header of %s (expected one of %s)%s", col, n.Path, shortList(names), diag.DidYouMean(col, names))
		}
		// A column the YAML describes or tests must be one the file has:
		// its tests would fail on a column that does not exist.
		if n.Seed != nil && n.Seed.Doc != nil {
			for _, c := range n.Seed.Doc.Columns {
				if !slices.Contains(names, c.Name) {
					diags.Errorf(c.Pos, "column %q of seed %s is not in the header of %s (expected one of %s)%s", c.Name, n.Name, n.Path, shortList(names), diag.DidYouMean(c.Name, names))
				}
			}
		}
	}
	return diags
}

// oneColumnHeader warns of a header read as one column whose name holds
// another separator than the seed's delimiter ("id;name;amount", a
// spreadsheet's export where the decimal separator is a comma): the seed
// would load every line into that one text column. Empty when the header
// is not such.
func oneColumnHeader(n *manifest.Node, names []string) string {
	if len(names) != 1 {
		return ""
	}
	delim := n.Config.SeedDelimiter()
	if delim == 0 {
		delim = ','
	}
	for _, sep := range ";\t|," {
		if sep == delim || !strings.ContainsRune(names[0], sep) {
			continue
		}
		yamlSep := fmt.Sprintf("'%c'", sep)
		what := fmt.Sprintf("%q", string(sep))
		if sep == '\t' {
			yamlSep, what = `"\t"`, "tabs"
		}
		by := fmt.Sprintf("%q", string(delim))
		if delim == '\t' {
			by = "tabs"
		}
		todo := fmt.Sprintf("set the seed's delimiter in YAML: seeds: [{name: %s, config: {delimiter: %s}}]", n.Name, yamlSep)
		if sep == ',' {
			todo = "leave the seed's delimiter out (',' is the default)"
		}
		return fmt.Sprintf("the header is one column, %q, since the seed's fields are separated by %s: if the file's are separated by %s, %s", names[0], by, what, todo)
	}
	return ""
}

// shortList joins names, the first few of a long list, for a message.
func shortList(names []string) string {
	const shown = 10
	if len(names) <= shown {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:shown], ", ") + ", ..."
}
