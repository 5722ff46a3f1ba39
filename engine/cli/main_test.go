package cli

import (
	"os"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestMain stops the package's shared PostgreSQL after the tests (one per package: add no other).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
