package cli

import (
	"context"
	"fmt"
)

// cmdDocs is `strata docs generate|serve`.
func cmdDocs(ctx context.Context, a *app, args []string) int {
	fmt.Fprintln(a.stderr, "strata docs: not built yet in this version")
	return ExitBadInput
}
