package run

import (
	"context"
	"errors"

	"strata/engine/manifest"
)

// scd2 builds a slowly changing dimension (SPEC 4).
func (e *Executor) scd2(ctx context.Context, n *manifest.Node, r Result) Result {
	return fail(r, errors.New("materialized: scd2 is not built yet by this version of strata"))
}
