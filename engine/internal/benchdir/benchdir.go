// Package benchdir gives benchmarks the folders they write projects into.
//
// Creating a file on an ext4 file system without a journal (like this
// project's development machine) scans past every inode of the block group
// that was freed in the last minutes (the kernel's recently_deleted check), so
// right after thousands of files were removed nearby, each new file costs
// 0.3-0.7 ms instead of ~25 µs. A benchmark that removes its folder when it
// ends (testing.B.TempDir) therefore slows the next one down: the figures
// measure the kernel, not strata. Under `make bench`, STRATA_BENCH_DIR names a
// fresh folder for the whole run; benchmarks make their folders there and
// leave them (make clean removes them).
package benchdir

import (
	"os"
	"regexp"
	"testing"
)

// Env is the variable that names the folder of a benchmark run.
const Env = "STRATA_BENCH_DIR"

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// New returns an empty folder for tb. For a benchmark run with $STRATA_BENCH_DIR
// set, it is a new folder there that is not removed when tb ends; otherwise
// (tests, or a plain go test -bench) it is tb.TempDir().
func New(tb testing.TB) string {
	tb.Helper()
	root := os.Getenv(Env)
	if _, isBench := tb.(*testing.B); !isBench || root == "" {
		return tb.TempDir()
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		tb.Fatalf("%s: %v", Env, err)
	}
	dir, err := os.MkdirTemp(root, unsafe.ReplaceAllString(tb.Name(), "_")+"-")
	if err != nil {
		tb.Fatalf("%s: %v", Env, err)
	}
	return dir
}
