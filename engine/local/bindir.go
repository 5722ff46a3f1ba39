package local

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries means no PostgreSQL server binaries (initdb, pg_ctl,
// postgres) were found on this machine.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found")

// serverBinaries are the programs a local cluster needs side by side.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// binDirFinder holds what FindBinDir looks at, so tests can fake it.
type binDirFinder struct {
	getenv   func(string) string
	lookPath func(string) (string, error)
	pgConfig func() (string, error) // output of `pg_config --bindir`
	globRoot string                 // directory holding <version>/bin, normally /usr/lib/postgresql
}

// FindBinDir finds the directory of the PostgreSQL server binaries:
// $STRATA_PG_BINDIR, then initdb on PATH (symlinks resolved), then
// `pg_config --bindir`, then the newest /usr/lib/postgresql/<version>/bin.
// A directory counts only if it holds initdb, pg_ctl and postgres.
func FindBinDir() (string, error) {
	return binDirFinder{
		getenv:   os.Getenv,
		lookPath: exec.LookPath,
		pgConfig: func() (string, error) {
			out, err := exec.Command("pg_config", "--bindir").Output()
			return strings.TrimSpace(string(out)), err
		},
		globRoot: "/usr/lib/postgresql",
	}.find()
}

func (f binDirFinder) find() (string, error) {
	if dir := f.getenv("STRATA_PG_BINDIR"); dir != "" {
		if missing := missingBinaries(dir); missing != "" {
			return "", fmt.Errorf("STRATA_PG_BINDIR=%s: %s not found there (it must hold initdb, pg_ctl and postgres)", dir, missing)
		}
		return dir, nil
	}
	var tried []string
	if p, err := f.lookPath("initdb"); err == nil {
		// Debian links only some programs into /usr/bin or /usr/local/bin;
		// postgres itself lives next to the real initdb.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if dir := filepath.Dir(p); missingBinaries(dir) == "" {
			return dir, nil
		}
		tried = append(tried, filepath.Dir(p))
	}
	if dir, err := f.pgConfig(); err == nil && dir != "" {
		if missingBinaries(dir) == "" {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	if dir := newestVersionDir(f.globRoot); dir != "" {
		return dir, nil
	}
	where := "PATH, pg_config --bindir or " + filepath.Join(f.globRoot, "*", "bin")
	if len(tried) > 0 {
		where += " (incomplete: " + strings.Join(tried, ", ") + ")"
	}
	return "", fmt.Errorf("%w in %s: install the PostgreSQL server (e.g. `apt-get install postgresql`), set STRATA_PG_BINDIR to its bin directory, or use a target of `type: postgres` with a url", ErrNoBinaries, where)
}

// newestVersionDir returns root/<v>/bin for the highest numeric version v
// that holds all server binaries, or "".
func newestVersionDir(root string) string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return ""
	}
	type cand struct {
		dir string
		ver []int
	}
	var cands []cand
	for _, e := range entries {
		ver, ok := parseVersion(e.Name())
		if !ok {
			continue
		}
		dir := filepath.Join(root, e.Name(), "bin")
		if missingBinaries(dir) == "" {
			cands = append(cands, cand{dir, ver})
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.Slice(cands, func(i, j int) bool { return versionLess(cands[j].ver, cands[i].ver) })
	return cands[0].dir
}

// parseVersion parses "15" or "9.6" into its numeric parts.
func parseVersion(s string) ([]int, bool) {
	var ver []int
	for _, part := range strings.Split(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, false
		}
		ver = append(ver, n)
	}
	return ver, true
}

func versionLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// missingBinaries names the first server binary missing from dir, or "".
func missingBinaries(dir string) string {
	for _, name := range serverBinaries {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return name
		}
	}
	return ""
}
