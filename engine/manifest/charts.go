package manifest

import (
	"strings"

	"strata/engine/diag"
	"strata/engine/project"
)

// checkChartSort checks that a chart's sort keys name columns of its model,
// as far as the columns are known: a model with an enforced contract declares
// exactly the columns it returns, so another name is an error; a model that
// only documents some of its columns may return others, so there it is a
// warning. A model that documents no columns is not checked (the database
// says, when the site is generated).
func checkChartSort(diags *diag.List, c project.Chart, model *Node) {
	if len(c.Sort) == 0 || len(model.Columns) == 0 {
		return
	}
	names := make([]string, 0, len(model.Columns))
	known := map[string]bool{}
	for _, col := range model.Columns {
		names = append(names, col.Name)
		known[col.Name] = true
	}
	for i, key := range c.Sort {
		col := strings.TrimPrefix(key, "-")
		if known[col] {
			continue
		}
		if model.Config.Contract {
			diags.Errorf(c.SortPos[i], "chart %q sorts by %q, which is not a column of %s (its contract declares every column)%s",
				c.Title, col, model.Name, diag.DidYouMean(col, names))
			continue
		}
		diags.Warnf(c.SortPos[i], "chart %q sorts by %q, which is not among the columns %s documents%s",
			c.Title, col, model.Name, diag.DidYouMean(col, names))
	}
}
