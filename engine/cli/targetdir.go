package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// targetFolderProblem says why target/ (dir) could not be made ready for
// a run. strata keeps target/ to its owner alone (0700: the compiled SQL
// holds env_var values), and only the owner may change that: a target/
// created by another user (a run by hand as root, before the timer's runs
// as etl) fails on the chmod, which said "cannot create target/" of a
// folder that is there.
func targetFolderProblem(dir string, err error) string {
	st, serr := os.Stat(dir)
	if !errors.Is(err, fs.ErrPermission) || serr != nil || !st.IsDir() {
		return fmt.Sprintf("cannot create target/: %v", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || int(sys.Uid) == os.Geteuid() {
		return fmt.Sprintf("cannot use target/: %v", err)
	}
	return fmt.Sprintf("cannot use target/ (%s): it belongs to %s, not to %s, who runs strata; strata keeps target/ to its owner alone (its compiled SQL holds the values of env_var): chown -R %s %s, or run strata as %s", dir, userName(int(sys.Uid)), userName(os.Geteuid()), userArg(os.Geteuid()), dir, userArg(int(sys.Uid)))
}

// logFileProblem says why target/strata.log (path, in target/ dir) could
// not be opened for appending. One that another user's run created (a run
// by hand as root, before the timer's runs as etl) is that user's, 0600:
// it said "open ...: permission denied" and nothing of what to do, and
// every later run of the timer went unlogged.
func logFileProblem(dir, path string, err error) string {
	st, serr := os.Stat(path)
	if !errors.Is(err, fs.ErrPermission) || serr != nil {
		return err.Error()
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || int(sys.Uid) == os.Geteuid() {
		return err.Error()
	}
	return fmt.Sprintf("it belongs to %s, not to %s, who runs strata: chown -R %s %s, or run strata as %s", userName(int(sys.Uid)), userName(os.Geteuid()), userArg(os.Geteuid()), dir, userArg(int(sys.Uid)))
}

// unwrittenFiles says that n files of target/compiled/ and target/run/
// (in target/ dir) could not be written, first being the first error. A
// run writes them as a record and goes on without them, but the files an
// earlier run left in their place then showed that run's SQL without a
// word: after a run by hand as root had made a folder there, the timer's
// runs as etl could not replace its files.
func unwrittenFiles(dir string, n int, first error) string {
	msg := fmt.Sprintf("%d file%s of target/compiled/ and target/run/ %s not written, so %s an earlier run's SQL, or none: %v", n, plural(n), pick(n == 1, "was", "were"), pick(n == 1, "it shows", "they show"), first)
	var pe *fs.PathError
	if !errors.Is(first, fs.ErrPermission) || !errors.As(first, &pe) {
		return msg
	}
	// The nearest of the file and its folders that is there says whose.
	for p := pe.Path; strings.HasPrefix(p, dir); p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
			msg += fmt.Sprintf(": %s belongs to %s, not to %s, who runs strata: chown -R %s %s, or run strata as %s", p, userName(int(sys.Uid)), userName(os.Geteuid()), userArg(os.Geteuid()), dir, userArg(int(sys.Uid)))
		}
		break
	}
	return msg
}

// userName is "name (uid N)", or "uid N" for a uid with no account.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return fmt.Sprintf("%s (uid %d)", u.Username, uid)
	}
	return fmt.Sprintf("uid %d", uid)
}

// userArg is uid's name for chown, or the uid itself.
func userArg(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(uid)
}
