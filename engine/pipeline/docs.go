package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"strata/engine/adapter/postgres"
	"strata/engine/artifacts"
	"strata/engine/docs"
	"strata/engine/manifest"
)

var _ docs.Querier = (*postgres.Adapter)(nil)

// DocsInput assembles what the docs site shows: the manifest, the last
// run's results and each node's latest result, the dashboards declared as exposures and, unless offline,
// the database's catalog and the dashboards' data. in.Offline says why the
// database was not read; resultsErr why the last run's results were left
// out, when they exist but cannot be read.
func (l *Project) DocsInput(ctx context.Context, offline bool, generatedAt time.Time) (in *docs.Input, resultsErr error) {
	// Connect while the manifest is assembled: the two don't depend on each other.
	type connected struct {
		db  *postgres.Adapter
		err error
	}
	var conn chan connected
	if !offline {
		conn = make(chan connected, 1)
		go func() {
			db, err := l.ConnectExisting(ctx, docs.FetchConns)
			conn <- connected{db, err}
		}()
	}
	in = &docs.Input{Manifest: l.ManifestArtifact(), GeneratedAt: generatedAt.UTC().Format("2006-01-02 15:04:05 UTC")}
	// The results of this target (in production, or in the environment of
	// --env): the last run there, and each node's latest result there. The
	// site shows where the manifest's relations are; a run on another
	// target says nothing of them.
	place := l.Env()
	if rr, err := l.placeRunResults(place); err == nil {
		in.Results = rr
	} else if !errors.Is(err, os.ErrNotExist) {
		resultsErr = err
	}
	// Each node's latest result across commands (a missing file is no history).
	if h, err := artifacts.ReadPlaceNodeResults(l.TargetDir(), l.Target.Name, place); err == nil {
		in.History = h
	} else if resultsErr == nil {
		resultsErr = err
	}
	in.Dashboards = l.dashboards()
	if offline {
		in.Offline = "--offline"
		return in, resultsErr
	}
	c := <-conn
	if c.err != nil {
		in.Offline = c.err.Error()
		return in, resultsErr
	}
	defer c.db.Close()
	if err := docs.Fetch(ctx, c.db, in); err != nil {
		in.Offline = err.Error()
	}
	return in, resultsErr
}

// placeRunResults reads the record of the last run on the project's
// target in environment env ("" for production): its own folder's
// (artifacts.RunDir), or, when there is none (an older strata ran it),
// target/run_results.json if that run was there.
func (l *Project) placeRunResults(env string) (*artifacts.RunResults, error) {
	rr, err := artifacts.ReadRunResults(filepath.Join(artifacts.RunDir(l.TargetDir(), l.Target.Name, env), "run_results.json"))
	if !errors.Is(err, os.ErrNotExist) {
		return rr, err
	}
	rr, err = artifacts.ReadRunResults(filepath.Join(l.TargetDir(), "run_results.json"))
	if err != nil {
		return nil, err
	}
	if rr.Target != "" && (rr.Target != l.Target.Name || rr.Env != env) {
		return nil, os.ErrNotExist
	}
	return rr, nil
}

// dashboards turns the project's dashboard exposures into the site's dashboards.
func (l *Project) dashboards() []*docs.Dashboard {
	var out []*docs.Dashboard
	for _, id := range l.Manifest.Sorted() {
		n := l.Manifest.Nodes[id]
		if n.Kind != manifest.Exposure || n.Exposure == nil {
			continue
		}
		e := n.Exposure
		if e.Type != "dashboard" && len(e.Charts) == 0 {
			continue
		}
		d := &docs.Dashboard{ID: id, Name: e.Name, Label: e.Label, Type: e.Type, Description: e.Description,
			OwnerName: e.OwnerName, OwnerEmail: e.OwnerEmail, Maturity: e.Maturity, URL: e.URL, DependsOn: n.DependsOn}
		if d.Label == "" {
			d.Label = e.Name
		}
		for _, c := range e.Charts {
			dc := &docs.Chart{Title: c.Title, Type: c.Type, Model: c.Model, Query: c.Query, X: c.X, Y: c.Y, Value: c.Value, Fields: c.Fields, Sort: c.Sort, Limit: c.Limit}
			if c.Model != "" {
				if m, ok := l.Manifest.Lookup(c.Model); ok {
					dc.Relation = m.Relation.Quoted()
				} else {
					dc.Err = fmt.Sprintf("no model or seed is called %q", c.Model)
				}
			}
			d.Charts = append(d.Charts, dc)
		}
		out = append(out, d)
	}
	return out
}
