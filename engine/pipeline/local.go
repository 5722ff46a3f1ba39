package pipeline

import (
	"context"
	"os"

	"strata/engine/local"
	"strata/engine/project"
)

// LocalCluster is the cluster a local target runs: the project's one
// server, or, for a target with citus:, its Citus cluster (a coordinator
// and workers). Exactly one of Server and Citus is set.
type LocalCluster struct {
	Server *local.Cluster
	Citus  *local.Citus
}

// Local returns the local cluster of the project in dir for the target
// named (--target; STRATA_TARGET and project.yaml's target: otherwise, as
// for a run): its Citus cluster when that target is local with citus:, and
// the project's local server otherwise, or when project.yaml cannot be
// read (db works in any folder). Only project.yaml is read.
func Local(dir, target string, lookupEnv func(string) (string, bool)) (LocalCluster, error) {
	var t *project.Target
	if p, diags := project.ReadFile(os.DirFS(dir)); p != nil {
		var err error
		if t, err = chooseTarget(p, target, lookupEnv); err != nil {
			if err == errReported {
				return LocalCluster{}, diags.Err()
			}
			return LocalCluster{}, err
		}
	}
	return localOf(dir, t)
}

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

// URL is the connection string of its server, or of its coordinator.
func (c LocalCluster) URL() string {
	if c.Citus != nil {
		return c.Citus.URL()
	}
	return c.Server.URL()
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
