// Package local runs strata's self-managed PostgreSQL cluster: the `type:
// local` target. It finds the machine's PostgreSQL server binaries, creates a
// private cluster on first use (in <project>/.strata/postgres, or a reachable
// fallback when strata runs as root and the server account cannot enter the
// project), and starts, stops and describes it. The server listens on a unix
// socket only. When strata runs as root the server runs as the unprivileged
// `postgres` account, since PostgreSQL refuses root.
//
// It manages the server process and nothing inside it: it never runs a
// model's SQL and never prints.
package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Cluster is one local PostgreSQL cluster. Its methods may be called from
// several goroutines and processes at once: Start and Stop serialize on a
// lock file.
type Cluster struct {
	root      string   // holds data/, server.log, lock; owned by the server account
	socketDir string   // root/run, or a short directory under /tmp
	binDir    string   // initdb, pg_ctl, postgres
	acct      *account // nil: the server runs as the current user
	settings  []setting

	// shared: root is the fallback location in a directory every user can
	// write to, so it must be created with care.
	shared bool
	// record, when set, is the file naming root that Start writes so later
	// commands find a cluster living outside the project.
	record string
	// project is the project path written into record.
	project string
	// citus: the server is a node of a Citus cluster (see Citus).
	citus bool
}

type setting struct{ name, value string }

// Status describes a cluster.
type Status struct {
	Initialized bool   // the data directory holds a cluster
	Running     bool   // a server process for it is alive
	PID         int    // the server's process id when Running
	DataDir     string // the PostgreSQL data directory
	SocketDir   string // the directory of the server's unix socket
	LogFile     string // the server log
}

// Option configures a Cluster.
type Option func(*Cluster)

// WithBinDir uses the server binaries in dir instead of FindBinDir's choice.
func WithBinDir(dir string) Option { return func(c *Cluster) { c.binDir = dir } }

// WithSetting sets a server parameter in postgresql.conf when the cluster is
// initialized, after (so overriding) the defaults. It has no effect on a
// cluster that already exists.
func WithSetting(name, value string) Option {
	return func(c *Cluster) { c.settings = append(c.settings, setting{name, value}) }
}

// devSettings make a development cluster fast while keeping committed data
// safe across an operating system crash (fsync stays on); a crash may lose
// the last few transactions (synchronous_commit=off). wal_level=minimal with
// no WAL senders lets COPY into a table created in the same transaction skip
// the WAL.
var devSettings = []setting{
	{"synchronous_commit", "off"},
	{"wal_level", "minimal"},
	{"max_wal_senders", "0"},
	{"shared_buffers", "256MB"},
	{"max_connections", "100"},
	// Analytical queries sort and hash far more than PostgreSQL's 4MB default
	// expects; with it, deduplicating a staging view of a million rows spills
	// to disk. A few threads times 64MB fits any development machine.
	{"work_mem", "64MB"},
	{"maintenance_work_mem", "256MB"},
	// JIT compilation is triggered by cost estimates, and the estimates of
	// staging views stacked under incremental filters are large: compiling
	// took 2.5 s for a query that then ran in 2 ms. Models here are many and
	// short; JIT rarely pays for itself.
	{"jit", "off"},
}

// New returns the cluster of the project in projectDir. It lives in
// <projectDir>/.strata/postgres unless strata runs as root and the server
// account cannot enter the project directory; then it lives in
// /var/tmp/strata-<hash of the project path>, recorded in
// .strata/postgres-location by Start so that later commands find it.
func New(projectDir string, opts ...Option) (*Cluster, error) {
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	pl, err := locate(projectDir, "postgres", locationFile, "", acct)
	if err != nil {
		return nil, err
	}
	c, err := newCluster(pl.root, acct, opts)
	if err != nil {
		return nil, err
	}
	c.shared, c.record, c.project = pl.shared, pl.record, pl.project
	return c, nil
}

// place is where a project's cluster (or a Citus cluster's nodes) lives.
type place struct {
	root string
	// shared: root is the fallback in a directory every user can write to.
	shared bool
	// record, when set, is the file to write root into (with project) so
	// that later commands find it.
	record, project string
}

// locate finds where the cluster called name of the project in projectDir
// lives: <project>/.strata/<name>, unless strata runs as root and the
// server account cannot enter the project directory; then
// /var/tmp/strata-<hash of the project path><suffix>, recorded in
// .strata/<recordName> (by Start) so that later commands find it.
func locate(projectDir, name, recordName, suffix string, acct *account) (place, error) {
	abs, err := filepath.Abs(projectDir)
	if err != nil {
		return place{}, fmt.Errorf("local postgres: %w", err)
	}
	stateDir := filepath.Join(abs, ".strata")
	record := filepath.Join(stateDir, recordName)
	inProject := filepath.Join(stateDir, name)
	if b, err := os.ReadFile(record); err == nil {
		if p, ok := recordedRoot(string(b), abs); ok {
			return place{root: p, shared: p != inProject}, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return place{}, fmt.Errorf("local postgres: %w", err)
	}
	if checkEnterable(stateDir, acct) == nil {
		return place{root: inProject}, nil
	}
	return place{root: fallbackRoot(abs) + suffix, shared: true, record: record, project: abs}, nil
}

// recordedRoot returns the cluster root in a postgres-location record, unless
// the record was written for another project: a copied project must not
// share the original's cluster. The record is the root on its first line and
// the project path on the second; records written before the path was added
// have only the root and hold for any project. A record of another path still
// holds when that path is this project's folder reached another way (a
// symlink) or no longer exists (the project was moved): only a folder that
// still exists elsewhere makes this one a copy.
func recordedRoot(content, projectDir string) (string, bool) {
	lines := strings.Split(strings.TrimSpace(content), "\n")
	root := strings.TrimSpace(lines[0])
	if !filepath.IsAbs(root) {
		return "", false
	}
	if len(lines) > 1 {
		if rec := strings.TrimSpace(lines[1]); rec != projectDir && isOtherFolder(rec, projectDir) {
			return "", false
		}
	}
	return root, true
}

// isOtherFolder says whether folder a exists and is not folder b.
func isOtherFolder(a, b string) bool {
	ia, err := os.Stat(a)
	if err != nil {
		return false
	}
	ib, err := os.Stat(b)
	return err != nil || !os.SameFile(ia, ib)
}

// NewAt returns the cluster rooted at root, used as given: its data directory
// is root/data. When strata runs as root the server account must be able to
// enter root's parent directories, or Start fails and says so.
func NewAt(root string, opts ...Option) (*Cluster, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("local postgres: %w", err)
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	return newCluster(abs, acct, opts)
}

func newCluster(root string, acct *account, opts []Option) (*Cluster, error) {
	c := &Cluster{root: root, socketDir: socketDirFor(root), acct: acct}
	c.settings = append(c.settings, devSettings...)
	for _, o := range opts {
		o(c)
	}
	if c.binDir == "" {
		dir, err := FindBinDir()
		if err != nil {
			return nil, err
		}
		c.binDir = dir
	} else if missing := missingBinaries(c.binDir); missing != "" {
		return nil, fmt.Errorf("%w: %s not found in %s", ErrNoBinaries, missing, c.binDir)
	}
	return c, nil
}

// BinDir is the directory of the server binaries the cluster uses.
func (c *Cluster) BinDir() string { return c.binDir }

// Root is the directory holding the cluster's data directory and log.
func (c *Cluster) Root() string { return c.root }

func (c *Cluster) dataDir() string { return filepath.Join(c.root, "data") }
func (c *Cluster) logFile() string { return filepath.Join(c.root, "server.log") }

// URL is a connection string for database postgres as user postgres over the
// cluster's unix socket, understood by pgx and psql.
func (c *Cluster) URL() string { return c.URLFor("postgres") }

// URLFor is like URL for database dbname.
func (c *Cluster) URLFor(dbname string) string {
	// Slashes may stay literal in a query; everything else is escaped, and a
	// space as %20 since pgx does not read "+" as a space.
	host := url.QueryEscape(c.socketDir)
	host = strings.NewReplacer("%2F", "/", "+", "%20").Replace(host)
	// target_session_attrs is spelt out: a PGTARGETSESSIONATTRS of the
	// user's (standby, say) would otherwise make every connection to this
	// primary wait and fail.
	return "postgres://postgres@/" + url.PathEscape(dbname) + "?host=" + host + "&port=" + strconv.Itoa(port) + "&target_session_attrs=any"
}

// PsqlEnv is the connection of URL as libpq's environment variables
// (PGHOST, PGPORT, PGUSER, PGDATABASE, PGTARGETSESSIONATTRS), for a psql
// given the user's arguments: a database of theirs (-d shop, or a bare
// shop) then keeps the socket, port and user, where one given after a
// connection string replaced it whole.
func (c *Cluster) PsqlEnv() []string {
	return []string{
		"PGHOST=" + c.socketDir,
		"PGPORT=" + strconv.Itoa(port),
		"PGUSER=postgres",
		"PGDATABASE=postgres",
		"PGTARGETSESSIONATTRS=any",
	}
}

// Status describes the cluster without changing it.
func (c *Cluster) Status(ctx context.Context) (Status, error) {
	st := Status{DataDir: c.dataDir(), SocketDir: c.socketDir, LogFile: c.logFile()}
	if _, err := os.Stat(filepath.Join(st.DataDir, "PG_VERSION")); err == nil {
		st.Initialized = true
	} else if !errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("local postgres: %w", err)
	}
	pid, err := readPID(filepath.Join(st.DataDir, "postmaster.pid"))
	if err != nil {
		return st, fmt.Errorf("local postgres: %w", err)
	}
	if pid > 0 && processAlive(pid, st.DataDir) {
		st.Running, st.PID = true, pid
	}
	return st, ctx.Err()
}

// readPID returns the pid in a postmaster.pid file, or 0 if there is none.
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		// Being written right now, or garbage: treat as no server.
		return 0, nil
	}
	return pid, nil
}

// processAlive reports whether pid is a live PostgreSQL server serving
// dataDir. After a crash or a reboot (common in containers) postmaster.pid
// may name a pid that now belongs to some other program, or to the server of
// another cluster; /proc tells them apart.
func processAlive(pid int, dataDir string) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return servesDataDir("/proc", pid, dataDir)
}

// servesDataDir reports whether process pid, as described by the procfs
// mounted at proc, is a PostgreSQL server of dataDir: it is not when it is
// no postgres, is a zombie, or serves another directory. Without procfs, or
// when its directory cannot be read, it trusts the caller's signal check.
func servesDataDir(proc string, pid int, dataDir string) bool {
	dir := filepath.Join(proc, strconv.Itoa(pid))
	comm, err := os.ReadFile(filepath.Join(dir, "comm"))
	if err != nil {
		return true // no /proc: trust the signal check
	}
	if name := strings.TrimSpace(string(comm)); name != "postgres" && name != "postmaster" {
		return false
	}
	// A killed postmaster stays a zombie until its new parent reaps it,
	// which PID 1 may do only seconds later; signal 0 still reaches it.
	if isZombie(dir) {
		return false
	}
	want := resolveDir(dataDir)
	// The postmaster's working directory is its data directory. Reading it
	// needs the process's owner or root, which strata is whenever it started
	// the server; otherwise the command line (pg_ctl passes -D) says.
	if cwd, err := os.Readlink(filepath.Join(dir, "cwd")); err == nil {
		return filepath.Clean(cwd) == want
	}
	if d, ok := cmdlineDataDir(filepath.Join(dir, "cmdline")); ok {
		return resolveDir(d) == want
	}
	// A live postgres whose directory cannot be told (started with PGDATA,
	// or /proc hidden): taken for this cluster's, since treating it as gone
	// would remove the pid and socket lock files that keep a second server
	// off this data directory.
	return true
}

// isZombie reports whether the process whose procfs directory is dir has
// exited (state Z or X in its stat file).
func isZombie(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return false
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return false
	}
	fields := strings.Fields(string(b[i+1:]))
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}

// cmdlineDataDir returns the value of -D in the NUL-separated command line
// in the file at path.
func cmdlineDataDir(path string) (string, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	for i, a := range args {
		if a == "-D" && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, "-D"); ok && v != "" {
			return v, true
		}
	}
	return "", false
}

// resolveDir is dir with symlinks resolved, as /proc shows a working
// directory, or just cleaned if it cannot be resolved.
func resolveDir(dir string) string {
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		return r
	}
	return filepath.Clean(dir)
}

// Start creates the cluster if it does not exist, starts its server if it is
// not running, and returns once the server accepts connections. It is safe to
// call when the server already runs, and from several processes at once.
func (c *Cluster) Start(ctx context.Context) error {
	if err := c.prepareRoot(); err != nil {
		return err
	}
	unlock, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	c.removeStaleInitdb()
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if !st.Initialized {
		if err := c.initdb(ctx); err != nil {
			return err
		}
	}
	if err := c.prepareSocketDir(); err != nil {
		return err
	}
	if err := c.writeConnectionConf(); err != nil {
		return err
	}
	if !st.Running {
		// A postmaster.pid left by a crash names a dead or foreign process,
		// or is empty or garbage; the server would refuse to start if that
		// pid is alive (a zombie counts) or the file unreadable. We hold the
		// lock, so no other strata is starting this server.
		//
		// The socket's lock file, in this cluster's own socket directory,
		// names the same pid and blocks the start the same way.
		for _, f := range []string{filepath.Join(c.dataDir(), "postmaster.pid"), filepath.Join(c.socketDir, socketName+".lock")} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("local postgres: remove stale %s: %w", f, err)
			}
		}
		out, err := c.run(ctx, "pg_ctl", "start", "-w", "-t", "120", "-s",
			"-D", c.dataDir(), "-l", c.logFile())
		if err != nil {
			return c.startError(fmt.Sprintf("pg_ctl start failed: %v%s", err, indentOutput(out)))
		}
	}
	if err := c.waitReady(ctx); err != nil {
		if errors.Is(err, errNotRunning) {
			// The server log holds only the old server's last words.
			return fmt.Errorf("local postgres: %w", err)
		}
		return c.startError(fmt.Sprintf("the server does not accept connections on %s: %v", c.socketDir, err))
	}
	return nil
}

// Stop stops the server (fast shutdown: open sessions are ended). Stopping a
// cluster that is not running, or does not exist, is not an error.
func (c *Cluster) Stop(ctx context.Context) error {
	if _, err := os.Stat(c.root); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := c.Status(ctx)
	if err != nil || !st.Running {
		return err
	}
	out, err := c.run(ctx, "pg_ctl", "stop", "-w", "-t", "120", "-s", "-m", "fast", "-D", c.dataDir())
	if err != nil {
		if st, _ := c.Status(ctx); !st.Running {
			return nil
		}
		return fmt.Errorf("local postgres: stop the server in %s: %v%s", c.dataDir(), err, indentOutput(out))
	}
	return nil
}

// prepareRoot creates the cluster's root directory, owned by the server
// account, and checks that account can reach it.
func (c *Cluster) prepareRoot() error {
	parent := filepath.Dir(c.root)
	if c.shared {
		if err := ensurePrivateDir(c.root, c.acct); err != nil {
			return fmt.Errorf("local postgres: %w", err)
		}
		if c.record != "" {
			if err := os.MkdirAll(filepath.Dir(c.record), 0o755); err != nil {
				return fmt.Errorf("local postgres: %w", err)
			}
			if err := os.WriteFile(c.record, []byte(c.root+"\n"+c.project+"\n"), 0o644); err != nil {
				return fmt.Errorf("local postgres: record the cluster location: %w", err)
			}
		}
	} else {
		_, statErr := os.Stat(parent)
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return fmt.Errorf("local postgres: %w", err)
		}
		if errors.Is(statErr, os.ErrNotExist) && c.acct != nil {
			// We made it (a project's .strata, say); a strict umask must
			// not close it to the server account.
			if err := os.Chmod(parent, 0o755); err != nil {
				return fmt.Errorf("local postgres: %w", err)
			}
		}
		if err := os.Mkdir(c.root, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("local postgres: %w", err)
		}
		if err := chownTo(c.root, c.acct); err != nil {
			return fmt.Errorf("local postgres: %w", err)
		}
	}
	if err := checkEnterable(c.root, c.acct); err != nil {
		return fmt.Errorf("local postgres: %w: the server runs as %s because strata runs as root; let it in (e.g. `chmod o+x` on that directory) or put the project elsewhere", err, c.acct.name)
	}
	return nil
}

// prepareSocketDir creates the socket directory, owned by the server account.
func (c *Cluster) prepareSocketDir() error {
	if filepath.Dir(c.socketDir) == c.root {
		if err := os.Mkdir(c.socketDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("local postgres: %w", err)
		}
		if err := chownTo(c.socketDir, c.acct); err != nil {
			return fmt.Errorf("local postgres: %w", err)
		}
		return nil
	}
	// A short directory under /tmp, because root/run is too long a path for
	// a unix socket.
	if err := ensurePrivateDir(c.socketDir, c.acct); err != nil {
		return fmt.Errorf("local postgres: socket directory (the cluster path %s is too long for a unix socket): %w", c.root, err)
	}
	return nil
}

// initdb creates the cluster in a fresh temporary directory and renames it
// into place, so an interrupted initdb never leaves a half-made data
// directory. A strata killed meanwhile (kill -9) leaves its initdb running
// in its own directory: the next one initializes in another, and removes
// that directory only once nothing holds its lock file, which the initdb
// it is for (and the programs it starts) hold until they end.
func (c *Cluster) initdb(ctx context.Context) (err error) {
	data := c.dataDir()
	if entries, err := os.ReadDir(data); err == nil && len(entries) > 0 {
		return fmt.Errorf("local postgres: %s exists but holds no PostgreSQL cluster (no PG_VERSION): move it away or remove it", data)
	}
	tmp, err := os.MkdirTemp(c.root, initdbPrefix)
	if err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	lock, err := os.OpenFile(tmp+".lock", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("local postgres: %w", err)
	}
	defer func() {
		lock.Close()
		if err != nil {
			os.RemoveAll(tmp)
		}
		os.Remove(tmp + ".lock")
	}()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("local postgres: lock %s: %w", tmp+".lock", err)
	}
	if err := chownTo(tmp, c.acct); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	// initdb inherits the lock (as its fd 3), so the lock outlives this
	// process as long as initdb runs.
	out, err := c.runWith(ctx, []*os.File{lock}, "initdb", "-D", tmp, "--username=postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	if err != nil {
		return fmt.Errorf("local postgres: initdb failed: %v%s", err, indentOutput(out))
	}
	var conf bytes.Buffer
	conf.WriteString("\n# Added by strata for a fast development cluster.\n")
	for _, s := range c.settings {
		fmt.Fprintf(&conf, "%s = %s\n", s.name, quoteConf(s.value))
	}
	conf.WriteString("# Socket directory, port and listen addresses, rewritten at every start.\ninclude_if_exists = 'strata.conf'\n")
	f, err := os.OpenFile(filepath.Join(tmp, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	_, err = f.Write(conf.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("local postgres: write postgresql.conf: %w", err)
	}
	_ = os.Remove(data) // an empty leftover directory
	if err := os.Rename(tmp, data); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	return nil
}

// initdbPrefix starts the name of the temporary directory an initdb
// creates a cluster in, beside data/; its lock file is <directory>.lock.
const initdbPrefix = "data.initdb-"

// removeStaleInitdb removes the directories left by initdbs that are no
// longer running: those whose lock file no process holds (or which have
// none: a kill came between creating the directory and its lock, before
// initdb started). Those of an initdb still running are left to it. The
// caller holds the cluster's lock, so no other strata is creating one.
func (c *Cluster) removeStaleInitdb() {
	entries, err := os.ReadDir(c.root)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if name == "data.initdb" {
			_ = os.RemoveAll(filepath.Join(c.root, name)) // an older strata's, which had no lock
			continue
		}
		if !strings.HasPrefix(name, initdbPrefix) || !e.IsDir() {
			continue
		}
		dir := filepath.Join(c.root, name)
		lock, err := os.OpenFile(dir+".lock", os.O_RDWR, 0)
		if err == nil {
			if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
				lock.Close()
				continue // its initdb still runs
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			continue
		}
		if os.RemoveAll(dir) == nil {
			_ = os.Remove(dir + ".lock")
		}
		if lock != nil {
			lock.Close()
		}
	}
}

// writeConnectionConf writes strata.conf, which postgresql.conf includes: the
// settings that depend on where the cluster is. It is rewritten at every start
// so a moved project still gets a socket it can reach.
func (c *Cluster) writeConnectionConf() error {
	conf := "# Written by strata at every start; edit postgresql.conf instead.\n" +
		"listen_addresses = ''\n" +
		"port = " + strconv.Itoa(port) + "\n" +
		"unix_socket_directories = " + quoteConf(c.socketDir) + "\n"
	if c.citus {
		// How a node of a Citus cluster reaches itself (a coordinator
		// reading its own copy of a reference table over a connection):
		// its socket, since it has no TCP listener for the default
		// localhost.
		conf += "citus.local_hostname = " + quoteConf(c.socketDir) + "\n"
	}
	path := filepath.Join(c.dataDir(), "strata.conf")
	if b, err := os.ReadFile(path); err == nil && string(b) == conf {
		return nil
	}
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	return chownTo(path, c.acct)
}

// quoteConf quotes a postgresql.conf value.
func quoteConf(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// errNotRunning means the server went away while strata waited for it.
var errNotRunning = errors.New("the server is not running (it may have been killed); run `strata db start`")

// waitReady connects until the server answers, ctx ends, a minute passes, or
// the server process is gone.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cfg, err := pgconn.ParseConfig(c.URL())
	if err != nil {
		return err
	}
	for {
		conn, err := pgconn.ConnectConfig(ctx, cfg)
		if err == nil {
			return conn.Close(ctx)
		}
		// No process will ever answer: say so now rather than after a minute.
		if st, serr := c.Status(ctx); serr == nil && !st.Running {
			return errNotRunning
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startError is a start failure with the end of the server log, which is
// where PostgreSQL says why.
func (c *Cluster) startError(msg string) error {
	tail := logTail(c.logFile(), 20)
	if tail == "" {
		return fmt.Errorf("local postgres: %s (the server log %s is empty)", msg, c.logFile())
	}
	return fmt.Errorf("local postgres: %s\nlast lines of %s:\n%s", msg, c.logFile(), tail)
}

// logTail returns the last n lines of the file at path, indented.
func logTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 16 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		if _, err := f.Seek(st.Size()-max, io.SeekStart); err != nil {
			return ""
		}
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	return "  " + strings.Join(lines, "\n  ")
}

func indentOutput(out []byte) string {
	s := strings.TrimSpace(string(out))
	if s == "" {
		return ""
	}
	return ":\n  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// run runs a server program as the server account and returns its combined
// output.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	return c.runWith(ctx, nil, prog, args...)
}

// runWith is run with extra open files, which the program inherits as fds
// 3 and up.
func (c *Cluster) runWith(ctx context.Context, extra []*os.File, prog string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, prog), args...)
	cmd.ExtraFiles = extra
	cmd.Dir = c.root // the current directory may be closed to the server account
	cmd.Env = serverEnv(os.Environ(), c.acct)
	cmd.WaitDelay = 5 * time.Second
	if c.acct != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid: c.acct.uid, Gid: c.acct.gid, Groups: c.acct.groups,
		}}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// serverEnv is env without the PG* variables meant for clients (PGDATA,
// PGPORT, PGHOST... would redirect the server programs), and with the
// server account's HOME and USER.
func serverEnv(env []string, acct *account) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PG") {
			continue
		}
		if acct != nil && (name == "HOME" || name == "USER" || name == "LOGNAME") {
			continue
		}
		out = append(out, kv)
	}
	if acct != nil {
		out = append(out, "HOME="+acct.home, "USER="+acct.name, "LOGNAME="+acct.name)
	}
	sort.Strings(out)
	return out
}

// lock takes the cluster's lock file, waiting until ctx ends.
func (c *Cluster) lock(ctx context.Context) (unlock func(), err error) {
	return lockFile(ctx, filepath.Join(c.root, "lock"), "this cluster")
}

// lockFile takes the lock file at path, waiting until ctx ends; what names
// what it guards, for the message. Locks taken with flock belong to the
// open file, so it serializes goroutines of one process as well as
// processes, and dies with its holder.
func lockFile(ctx context.Context, path, what string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("local postgres: open lock file: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("local postgres: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("local postgres: waiting for the lock %s (another strata is starting or stopping %s): %w", path, what, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Destroy stops the cluster and deletes it: its root (the data directory,
// the server log) and its socket directory. It returns the directories it
// removed, none when there was no cluster.
func (c *Cluster) Destroy(ctx context.Context) ([]string, error) {
	if _, err := os.Stat(c.root); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err := c.destroyable(); err != nil {
		return nil, err
	}
	if err := c.Stop(ctx); err != nil {
		return nil, err
	}
	unlock, err := c.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if st, err := c.Status(ctx); err != nil {
		return nil, err
	} else if st.Running {
		return nil, fmt.Errorf("local postgres: the server in %s was started again meanwhile; nothing was removed", c.dataDir())
	}
	var removed []string
	if filepath.Dir(c.socketDir) != c.root {
		if _, err := os.Stat(c.socketDir); err == nil {
			if err := os.RemoveAll(c.socketDir); err != nil {
				return removed, fmt.Errorf("local postgres: %w", err)
			}
			removed = append(removed, c.socketDir)
		}
	}
	if err := os.RemoveAll(c.root); err != nil {
		return removed, fmt.Errorf("local postgres: %w", err)
	}
	return append([]string{c.root}, removed...), nil
}

// destroyable checks, before Destroy removes anything, that the cluster's
// root holds only what strata makes there: data/ (a cluster, or empty),
// server.log, lock, run/, and initdb's scratch directories. The root may
// come from a record in .strata (a project copied with it, or a record
// edited by hand, may name any folder): one that holds anything else is
// not removed.
func (c *Cluster) destroyable() error {
	entries, err := os.ReadDir(c.root)
	if err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	var foreign []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == "data":
			if !e.IsDir() || !clusterOrEmpty(filepath.Join(c.root, name)) {
				foreign = append(foreign, name)
			}
		case name == "server.log" || name == "lock" || name == "run" || name == "data.initdb" || strings.HasPrefix(name, initdbPrefix):
		default:
			foreign = append(foreign, name)
		}
	}
	if len(foreign) > 0 {
		return fmt.Errorf("local postgres: %s holds %s, which strata does not make in a cluster's folder: it is not only a strata cluster, so nothing was removed (remove it by hand if it is to go)", c.root, quoteNames(foreign))
	}
	return nil
}

// clusterOrEmpty says whether dir is a PostgreSQL data directory (it has
// PG_VERSION) or empty.
func clusterOrEmpty(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		return true
	}
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// quoteNames lists names quoted, at most five of them.
func quoteNames(names []string) string {
	var q []string
	for i, n := range names {
		if i == 5 {
			q = append(q, fmt.Sprintf("and %d more", len(names)-5))
			break
		}
		q = append(q, strconv.Quote(n))
	}
	return strings.Join(q, ", ")
}

// ForgetLocation removes the record under <projectDir>/.strata of where
// the project's cluster (citus: its Citus cluster) lives outside it, once
// that cluster is destroyed, and .strata itself when that leaves it empty.
// It returns the file it removed, if any.
func ForgetLocation(projectDir string, citus bool) []string {
	state := filepath.Join(projectDir, ".strata")
	name := locationFile
	if citus {
		name = citusLocationFile
	}
	var removed []string
	if p := filepath.Join(state, name); os.Remove(p) == nil {
		removed = append(removed, p)
	}
	_ = os.Remove(state) // only when empty
	return removed
}
