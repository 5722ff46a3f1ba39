package local

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

const (
	// port is fixed: each cluster has its own socket directory and no TCP
	// listener, so clusters never clash on it.
	port = 5432
	// socketName is the file PostgreSQL creates in its socket directory.
	socketName = ".s.PGSQL.5432"
	// maxSocketPath is the longest unix socket path Linux accepts
	// (sizeof(sun_path) - 1).
	maxSocketPath = 107
	// locationFile, under <project>/.strata, records where the cluster of a
	// project lives when it is not in .strata/postgres.
	locationFile = "postgres-location"
)

// account is the unprivileged user the server runs as when strata runs as
// root. A nil *account means "the current user".
type account struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32
	home   string
}

// serverAccount returns nil when not running as root, or the `postgres`
// account the server must run as.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses to run as root, but there is no `postgres` account to run it as (%v): create it (e.g. `useradd --system --user-group postgres`) or run strata as another user", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("account postgres has a non-numeric uid %q or gid %q", u.Uid, u.Gid)
	}
	a := &account{name: u.Username, uid: uint32(uid), gid: uint32(gid), home: u.HomeDir}
	gids, _ := u.GroupIds()
	for _, g := range gids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil {
			a.groups = append(a.groups, uint32(n))
		}
	}
	return a, nil
}

// shortHash is a short stable name for a path.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:12]
}

// socketDirFor returns where the server of the cluster rooted at root puts its
// socket: root/run, or a short directory under /tmp when root/run would make
// the socket path longer than the kernel accepts.
func socketDirFor(root string) string {
	dir := filepath.Join(root, "run")
	if len(dir)+1+len(socketName) <= maxSocketPath {
		return dir
	}
	return filepath.Join("/tmp", "strata-s-"+shortHash(root))
}

// fallbackRoot is where the cluster of a project lives when the server
// account cannot enter the project directory.
func fallbackRoot(projectDir string) string {
	return filepath.Join("/var/tmp", "strata-"+shortHash(projectDir))
}

// checkEnterable returns nil if acct may enter (search) dir and every
// directory above it, or an error naming the first one it may not enter.
// Directories that do not exist yet are skipped: whoever creates them
// decides their mode. A nil acct may enter everything.
func checkEnterable(dir string, acct *account) error {
	if acct == nil {
		return nil
	}
	dir = filepath.Clean(dir)
	var chain []string
	for d := dir; ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		d := chain[i]
		st, err := os.Stat(d)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !mayEnter(st, acct) {
			return fmt.Errorf("%s account cannot enter %s (mode %v, owner uid %d)", acct.name, d, st.Mode().Perm(), ownerUID(st))
		}
	}
	return nil
}

// mayEnter reports whether acct has search permission on the directory st.
func mayEnter(st os.FileInfo, acct *account) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := st.Mode().Perm()
	if sys.Uid == acct.uid {
		return perm&0o100 != 0
	}
	inGroup := sys.Gid == acct.gid
	for _, g := range acct.groups {
		inGroup = inGroup || g == sys.Gid
	}
	if inGroup {
		return perm&0o010 != 0
	}
	return perm&0o001 != 0
}

func ownerUID(st os.FileInfo) int {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid)
	}
	return -1
}

// ensurePrivateDir creates dir (mode 0700) if needed and gives it to acct.
// In a shared place such as /tmp it refuses a directory that someone else
// created (or a symlink), since the server would trust its contents.
func ensurePrivateDir(dir string, acct *account) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory: remove it", dir)
	}
	owner := ownerUID(st)
	self := os.Geteuid()
	if acct == nil {
		if owner != self {
			return fmt.Errorf("%s belongs to uid %d, not to you (uid %d): remove it", dir, owner, self)
		}
		return os.Chmod(dir, 0o700)
	}
	if owner != self && owner != int(acct.uid) {
		return fmt.Errorf("%s belongs to uid %d, neither root nor %s: remove it", dir, owner, acct.name)
	}
	if err := os.Chown(dir, int(acct.uid), int(acct.gid)); err != nil {
		return fmt.Errorf("give %s to the %s account: %w", dir, acct.name, err)
	}
	return os.Chmod(dir, 0o700)
}

// chownTo gives path to acct (no-op for the current user).
func chownTo(path string, acct *account) error {
	if acct == nil {
		return nil
	}
	if err := os.Chown(path, int(acct.uid), int(acct.gid)); err != nil {
		return fmt.Errorf("give %s to the %s account: %w", path, acct.name, err)
	}
	return nil
}

// Made says whether the project in projectDir has made its local server:
// .strata/postgres holds it, or .strata/postgres-location records where it
// lives. The folder's project.yaml may be gone since (db stop and db
// destroy still reach the server then).
func Made(projectDir string) bool {
	state := filepath.Join(projectDir, ".strata")
	for _, name := range []string{"postgres", locationFile} {
		if _, err := os.Lstat(filepath.Join(state, name)); err == nil {
			return true
		}
	}
	return false
}
