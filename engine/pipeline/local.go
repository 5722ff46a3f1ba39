package pipeline

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"strata/engine/adapter/postgres"
	"strata/engine/local"
	"strata/engine/manifest"
	"strata/engine/project"
)

// LocalCluster is the cluster a local target runs: the project's one
// server, or, for a target with citus:, its Citus cluster (a coordinator
// and workers). Exactly one of Server and Citus is set.
type LocalCluster struct {
	Server *local.Cluster
	Citus  *local.Citus
	// Target is the target chosen (nil when project.yaml could not be
	// read): db destroy removes a cluster only for a local one.
	Target *project.Target
}

// Local returns the local cluster of the project in dir for the target
// named (--target; STRATA_TARGET and project.yaml's target: otherwise, as
// for a run): its Citus cluster when that target is local with citus:, and
// the project's local server otherwise, or when project.yaml cannot be
// parsed. A folder without project.yaml is refused (project.Missing),
// unless it holds a server it made (local.Made). Only project.yaml is read.
func Local(dir, target string, lookupEnv func(string) (string, bool)) (LocalCluster, error) {
	// Without a project.yaml there is no project, and no cluster of its:
	// from a folder inside a project, db psql started a new, empty server
	// there. A project whose project.yaml was deleted while its server ran
	// keeps the server it made, which db stop and db destroy must reach.
	if d, missing := project.Missing(dir); missing && !local.Made(dir) {
		return LocalCluster{}, &BadTarget{Err: d}
	}
	var t *project.Target
	if p, diags := project.ReadFile(os.DirFS(dir)); p != nil {
		var err error
		if t, err = chooseTarget(p, target, lookupEnv); err != nil {
			if err == errReported {
				err = diags.Err()
			}
			return LocalCluster{}, &BadTarget{Err: err}
		}
	}
	c, err := localOf(dir, t)
	c.Target = t
	return c, err
}

// BadTarget is Local's error when the target named cannot be chosen (it
// is not defined, or project.yaml's target: names none): the command line
// or the project is wrong, not the machine.
type BadTarget struct{ Err error }

func (e *BadTarget) Error() string { return e.Err.Error() }
func (e *BadTarget) Unwrap() error { return e.Err }

// localOf is the local cluster of target t (nil: the built-in local one)
// of the project in dir.
func localOf(dir string, t *project.Target) (LocalCluster, error) {
	if t != nil && t.Type == "local" && t.Citus != nil {
		c, err := local.NewCitus(dir, t.Citus.Workers)
		return LocalCluster{Citus: c}, err
	}
	c, err := local.New(dir)
	return LocalCluster{Server: c}, err
}

// Start creates the cluster if needed and starts it.
func (c LocalCluster) Start(ctx context.Context) error {
	if c.Citus != nil {
		return c.Citus.Start(ctx)
	}
	return c.Server.Start(ctx)
}

// Stop stops it.
func (c LocalCluster) Stop(ctx context.Context) error {
	if c.Citus != nil {
		return c.Citus.Stop(ctx)
	}
	return c.Server.Stop(ctx)
}

// Destroy stops it and deletes it, and the record of where it lives, for
// the project in dir. It returns what it removed, none when there was no
// cluster.
func (c LocalCluster) Destroy(ctx context.Context, dir string) ([]string, error) {
	var removed []string
	var err error
	if c.Citus != nil {
		removed, err = c.Citus.Destroy(ctx)
	} else {
		removed, err = c.Server.Destroy(ctx)
	}
	if err != nil {
		return removed, err
	}
	return append(removed, local.ForgetLocation(dir, c.Citus != nil)...), nil
}

// URL is the connection string of its server, or of its coordinator.
func (c LocalCluster) URL() string {
	if c.Citus != nil {
		return c.Citus.URL()
	}
	return c.Server.URL()
}

// PsqlEnv is the connection of URL as libpq's environment variables, for
// psql (local.Cluster.PsqlEnv).
func (c LocalCluster) PsqlEnv() []string {
	if c.Citus != nil {
		return c.Citus.PsqlEnv()
	}
	return c.Server.PsqlEnv()
}

// BinDir is where its server binaries (psql among them) are.
func (c LocalCluster) BinDir() string {
	if c.Citus != nil {
		return c.Citus.BinDir()
	}
	return c.Server.BinDir()
}

// Status describes its servers: one named "postgres", or the coordinator
// and the workers.
func (c LocalCluster) Status(ctx context.Context) ([]local.NodeStatus, error) {
	if c.Citus != nil {
		return c.Citus.Status(ctx)
	}
	st, err := c.Server.Status(ctx)
	return []local.NodeStatus{{Name: "postgres", Status: st}}, err
}

// CitusIgnored is the one warning of a run (SPEC 13) when nodes among ids
// place their tables on Citus (distributed_by, colocate_with, shard_count,
// reference) but the target's database has no Citus extension, so those
// keys are ignored; "" when there is nothing to warn about.
func (l *Project) CitusIgnored(ctx context.Context, db *postgres.Adapter, ids []string) (string, error) {
	var names []string
	for _, id := range ids {
		if n := l.Manifest.Nodes[id]; n != nil && len(manifest.DistributionKeysSet(n)) > 0 {
			names = append(names, n.Name)
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	ok, err := postgres.HasCitus(ctx, db.Shared())
	if err != nil || ok {
		return "", err
	}
	sort.Strings(names)
	eg := strings.Join(names[:min(3, len(names))], ", ")
	if len(names) > 3 {
		eg += ", ..."
	}
	what := "models and seeds set"
	if len(names) == 1 {
		what = "model or seed sets"
	}
	return fmt.Sprintf("warning: %d %s where their tables go on Citus (%s), but target %s's database has no Citus extension: those keys are ignored, and the tables are ordinary tables",
		len(names), what, eg, l.Target.Name), nil
}
