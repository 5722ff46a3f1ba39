package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNoCitus means the Citus extension is not installed for the PostgreSQL
// server binaries a local Citus cluster would run.
var ErrNoCitus = errors.New("the Citus extension is not installed")

// citusLocationFile, under <project>/.strata, records where a project's
// Citus cluster lives when it is not in .strata/citus.
const citusLocationFile = "citus-location"

// Citus is a local Citus cluster: a coordinator and workers, each a
// PostgreSQL server of its own (a Cluster: its own data directory, log and
// unix socket), started with the citus library preloaded. Start creates
// the extension on every node and registers the coordinator and the
// workers with the coordinator, over their unix sockets.
type Citus struct {
	Coordinator *Cluster
	Workers     []*Cluster
	// base holds the nodes' roots (coordinator, worker1, ...) and the lock.
	base  string
	place place
}

// NodeStatus is the status of one node of a Citus cluster.
type NodeStatus struct {
	Name string // coordinator, worker1, ...
	Status
}

// NewCitus returns the Citus cluster of the project in projectDir, with
// workers workers: its nodes live in <projectDir>/.strata/citus (or, as for
// New, in a fallback under /var/tmp when the server account cannot enter
// the project). Workers that an earlier, larger setting created are kept:
// they may hold shards. It fails with ErrNoCitus, saying what to install,
// when the server binaries have no Citus extension.
func NewCitus(projectDir string, workers int, opts ...Option) (*Citus, error) {
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	pl, err := locate(projectDir, "citus", citusLocationFile, "-citus", acct)
	if err != nil {
		return nil, err
	}
	return newCitus(pl, workers, acct, opts)
}

// NewCitusAt is NewCitus for a cluster whose nodes live under base, used as
// given (the test harness's).
func NewCitusAt(base string, workers int, opts ...Option) (*Citus, error) {
	abs, err := filepath.Abs(base)
	if err != nil {
		return nil, fmt.Errorf("local citus: %w", err)
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	return newCitus(place{root: abs}, workers, acct, opts)
}

func newCitus(pl place, workers int, acct *account, opts []Option) (*Citus, error) {
	if workers < 1 {
		return nil, fmt.Errorf("local citus: a Citus cluster needs at least 1 worker, got %d", workers)
	}
	// Workers beyond the setting that exist on disk stay part of the cluster.
	for n := workers + 1; ; n++ {
		if _, err := os.Stat(filepath.Join(pl.root, workerName(n), "data", "PG_VERSION")); err != nil {
			break
		}
		workers = n
	}
	opts = append([]Option{WithSetting("shared_preload_libraries", "citus")}, opts...)
	c := &Citus{base: pl.root, place: pl}
	var err error
	if c.Coordinator, err = newCluster(filepath.Join(pl.root, "coordinator"), acct, opts); err != nil {
		return nil, err
	}
	c.Coordinator.citus = true
	if err := citusInstalled(c.Coordinator.binDir); err != nil {
		return nil, err
	}
	for n := 1; n <= workers; n++ {
		w, err := newCluster(filepath.Join(pl.root, workerName(n)), acct, opts)
		if err != nil {
			return nil, err
		}
		w.citus = true
		c.Workers = append(c.Workers, w)
	}
	return c, nil
}

func workerName(n int) string { return "worker" + strconv.Itoa(n) }

// isWorkerName says whether name is a worker's folder (workerName).
func isWorkerName(name string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(name, "worker"))
	return strings.HasPrefix(name, "worker") && err == nil && n > 0 && workerName(n) == name
}

// citusInstalled checks that the server binaries in binDir have the Citus
// library beside them, and says what to install when they do not.
func citusInstalled(binDir string) error {
	libDir := filepath.Join(filepath.Dir(binDir), "lib")
	if out, err := exec.Command(filepath.Join(binDir, "pg_config"), "--pkglibdir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			libDir = d
		}
	}
	so := filepath.Join(libDir, "citus.so")
	if _, err := os.Stat(so); err == nil {
		return nil
	}
	version := filepath.Base(filepath.Dir(binDir))
	if _, err := strconv.Atoi(version); err != nil {
		version = "<version>"
	}
	return fmt.Errorf("%w for the PostgreSQL server in %s (no %s): install it, e.g. on Debian or Ubuntu `apt-get install postgresql-%s-citus-13.2` from Citus's package repository (https://docs.citusdata.com/en/stable/installation/single_node_debian.html), or build it from source (https://github.com/citusdata/citus); or remove citus: from the target to use one local server", ErrNoCitus, binDir, so, version)
}

// Nodes are the coordinator, then the workers, with their names.
func (c *Citus) Nodes() []NodeStatus {
	out := []NodeStatus{{Name: "coordinator"}}
	for i := range c.Workers {
		out = append(out, NodeStatus{Name: workerName(i + 1)})
	}
	return out
}

func (c *Citus) all() []*Cluster { return append([]*Cluster{c.Coordinator}, c.Workers...) }

// URL is a connection string for database postgres on the coordinator,
// which is where every query of a Citus cluster goes.
func (c *Citus) URL() string { return c.Coordinator.URL() }

// PsqlEnv is the coordinator's (Cluster.PsqlEnv).
func (c *Citus) PsqlEnv() []string { return c.Coordinator.PsqlEnv() }

// BinDir is the directory of the server binaries the nodes use.
func (c *Citus) BinDir() string { return c.Coordinator.BinDir() }

// Root is the directory holding the nodes' directories.
func (c *Citus) Root() string { return c.base }

// Status describes every node, coordinator first, without changing them.
func (c *Citus) Status(ctx context.Context) ([]NodeStatus, error) {
	out := c.Nodes()
	for i, n := range c.all() {
		st, err := n.Status(ctx)
		if err != nil {
			return nil, err
		}
		out[i].Status = st
	}
	return out, nil
}

// Start creates the nodes that do not exist, starts those not running (all
// at once), and then makes sure that the citus extension exists on each
// and that the coordinator knows itself and every worker by its current
// socket directory (a moved project's nodes are updated, not added again).
// It is safe to call when the cluster runs, and from several processes.
func (c *Citus) Start(ctx context.Context) error {
	if err := c.prepareBase(); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, filepath.Join(c.base, "lock"), "this Citus cluster")
	if err != nil {
		return err
	}
	defer unlock()
	nodes := c.all()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.Start(ctx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", c.Nodes()[i].Name, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("local citus: %w", err)
	}
	return c.register(ctx)
}

// prepareBase creates the directory holding the nodes: private when it is
// the shared fallback, and recorded so later commands find it.
func (c *Citus) prepareBase() error {
	acct := c.Coordinator.acct
	if c.place.shared {
		if err := ensurePrivateDir(c.base, acct); err != nil {
			return fmt.Errorf("local citus: %w", err)
		}
		if c.place.record != "" {
			if err := os.MkdirAll(filepath.Dir(c.place.record), 0o755); err != nil {
				return fmt.Errorf("local citus: %w", err)
			}
			if err := os.WriteFile(c.place.record, []byte(c.base+"\n"+c.place.project+"\n"), 0o644); err != nil {
				return fmt.Errorf("local citus: record the cluster location: %w", err)
			}
		}
		return nil
	}
	// The project's .strata and .strata/citus: made open to the server
	// account whatever the umask, when strata makes them.
	for _, d := range []string{filepath.Dir(c.base), c.base} {
		_, statErr := os.Stat(d)
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("local citus: %w", err)
		}
		if errors.Is(statErr, os.ErrNotExist) && acct != nil {
			if err := os.Chmod(d, 0o755); err != nil {
				return fmt.Errorf("local citus: %w", err)
			}
		}
	}
	return nil
}

// Stop stops every node, the coordinator first so that no distributed
// query starts on the way. Stopping nodes that are not running is not an
// error.
func (c *Citus) Stop(ctx context.Context) error {
	var errs []error
	for i, n := range c.all() {
		if err := n.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Nodes()[i].Name, err))
		}
	}
	return errors.Join(errs...)
}

// distNode is a row of the coordinator's pg_dist_node.
type distNode struct {
	id    int
	group int
	name  string
}

// register creates the extension on every node and registers the nodes
// with the coordinator, in database postgres (the local target's).
func (c *Citus) register(ctx context.Context) error { return c.Register(ctx, "postgres") }

// Register makes database dbname, which must exist on every node, a Citus
// database: Citus's metadata is kept per database, so the extension is
// created in it on every node, and its coordinator is told of itself and
// of every worker. Start does it for database postgres.
func (c *Citus) Register(ctx context.Context, dbname string) error {
	nodes := c.all()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := execOn(ctx, n.URLFor(dbname), "create extension if not exists citus"); err != nil {
				errs[i] = fmt.Errorf("local citus: create extension citus in database %s on the %s: %w", dbname, c.Nodes()[i].Name, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	conn, err := pgconn.Connect(ctx, c.Coordinator.URLFor(dbname))
	if err != nil {
		return fmt.Errorf("local citus: %w", err)
	}
	defer conn.Close(ctx)
	res := conn.ExecParams(ctx, "select nodeid, groupid, nodename from pg_dist_node order by nodeid", nil, nil, nil, nil).Read()
	if res.Err != nil {
		return fmt.Errorf("local citus: read pg_dist_node: %w", res.Err)
	}
	var have []distNode
	for _, row := range res.Rows {
		id, _ := strconv.Atoi(string(row[0]))
		group, _ := strconv.Atoi(string(row[1]))
		have = append(have, distNode{id: id, group: group, name: string(row[2])})
	}
	var workers []string
	for _, w := range c.Workers {
		workers = append(workers, w.socketDir)
	}
	for _, stmt := range registerStatements(have, c.Coordinator.socketDir, workers) {
		if _, err := conn.Exec(ctx, stmt).ReadAll(); err != nil {
			return fmt.Errorf("local citus: %s: %w", stmt, err)
		}
	}
	return nil
}

// registerStatements are what makes the coordinator's node list (have)
// name the coordinator and the workers by their socket directories: each
// worker not listed is added, except that listed workers whose directory
// is no longer any node's (the project moved) are renamed to the unlisted
// ones, in order; then the coordinator is set.
func registerStatements(have []distNode, coordinator string, workers []string) []string {
	var out []string
	coordOK := false
	listed := map[string]bool{}
	var stale []distNode
	for _, n := range have {
		if n.group == 0 {
			coordOK = n.name == coordinator
			continue
		}
		listed[n.name] = true
	}
	renamed := false
	current := map[string]bool{}
	for _, w := range workers {
		current[w] = true
	}
	for _, n := range have {
		if n.group != 0 && !current[n.name] {
			stale = append(stale, n)
		}
	}
	for _, w := range workers {
		if listed[w] {
			continue
		}
		if len(stale) > 0 {
			out = append(out, fmt.Sprintf("select citus_update_node(%d, %s, %d)", stale[0].id, quoteLiteral(w), port))
			stale = stale[1:]
			renamed = true
			continue
		}
		out = append(out, fmt.Sprintf("select citus_add_node(%s, %d)", quoteLiteral(w), port))
	}
	// The coordinator last: setting it syncs the metadata to the workers,
	// which must be reachable under the names the list gives them by then,
	// and in sync (a renamed node is synced in the background otherwise).
	if renamed {
		out = append(out, "select start_metadata_sync_to_all_nodes()")
	}
	if !coordOK {
		out = append(out, fmt.Sprintf("select citus_set_coordinator_host(%s, %d)", quoteLiteral(coordinator), port))
	}
	return out
}

// quoteLiteral quotes a SQL string literal (standard_conforming_strings on).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// execOn runs sql on the server at url.
func execOn(ctx context.Context, url, sql string) error {
	conn, err := pgconn.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql).ReadAll()
	return err
}

// CheckCitus finds the machine's PostgreSQL server binaries (as New does)
// and says whether they have the Citus extension: nil when they do,
// ErrNoCitus (saying what to install) or ErrNoBinaries when not.
func CheckCitus() error {
	dir, err := FindBinDir()
	if err != nil {
		return err
	}
	return citusInstalled(dir)
}

// Destroy stops every node and deletes the cluster: the nodes' data
// directories and logs, and the folder holding them. It returns the
// directories it removed, none when there was no cluster.
func (c *Citus) Destroy(ctx context.Context) ([]string, error) {
	if _, err := os.Stat(c.base); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	// Nothing is removed unless all of it is the Citus cluster's: its
	// folder holds the nodes' folders and its lock (see Cluster.destroyable).
	entries, err := os.ReadDir(c.base)
	if err != nil {
		return nil, fmt.Errorf("local citus: %w", err)
	}
	nodes := map[string]*Cluster{}
	for _, n := range c.all() {
		nodes[filepath.Base(n.root)] = n
	}
	var foreign []string
	for _, e := range entries {
		name := e.Name()
		if name == "lock" {
			continue
		}
		n, ok := nodes[name]
		if !ok && isWorkerName(name) {
			n, ok = &Cluster{root: filepath.Join(c.base, name)}, true // a worker beyond the last one set up
		}
		if !ok || !e.IsDir() {
			foreign = append(foreign, name)
		} else if err := n.destroyable(); err != nil {
			return nil, err
		}
	}
	if len(foreign) > 0 {
		return nil, fmt.Errorf("local citus: %s holds %s, which strata does not make in a Citus cluster's folder: it is not only a strata cluster, so nothing was removed (remove it by hand if it is to go)", c.base, quoteNames(foreign))
	}
	var removed []string
	for _, n := range c.all() {
		r, err := n.Destroy(ctx)
		removed = append(removed, r...)
		if err != nil {
			return removed, err
		}
	}
	if err := os.RemoveAll(c.base); err != nil {
		return removed, fmt.Errorf("local citus: %w", err)
	}
	return append(removed, c.base), nil
}
