package pipeline

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/seed"
)

// checkSeedHeaders reports each column_types key of a seed that its CSV
// header lacks, at the key, as the seed command would refuse it. Only the
// header row of each file is read, and only of seeds that set column_types.
// A header that cannot be read is left to the seed command, which reports it
// with the rest of the file's problems.
func checkSeedHeaders(dir string, man *manifest.Manifest, bad map[string]bool) diag.List {
	// Reading one header is too short to be worth a cancellation point, and
	// the loader that calls this has no context.
	ctx := context.Background()
	var diags diag.List
	for _, id := range man.Sorted() {
		n := man.Nodes[id]
		if n.Kind != manifest.Seed || len(n.Config.ColumnTypes) == 0 || bad[n.Path] {
			continue
		}
		names, err := seed.Header(ctx, filepath.Join(dir, filepath.FromSlash(n.Path)), seed.Options{Path: n.Path, Delimiter: n.Config.SeedDelimiter()})
		if err != nil {
			continue
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
			at, ok := n.ConfigPos["column_types."+k]
			if !ok {
				at = n.ConfigPos["column_types"]
			}
			diags.Errorf(at, "column_types: column %q is not in the header of %s (expected one of %s)%s", k, n.Path, shortList(names), diag.DidYouMean(k, names))
		}
	}
	return diags
}

// shortList joins names, the first few of a long list, for a message.
func shortList(names []string) string {
	const shown = 10
	if len(names) <= shown {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:shown], ", ") + ", ..."
}
