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
	if rr, err := artifacts.ReadRunResults(filepath.Join(l.TargetDir(), "run_results.json")); err == nil {
		in.Results = rr
	} else if !errors.Is(err, os.ErrNotExist) {
		resultsErr = err
	}
	// Each node's latest result across commands (a missing file is no history).
	if h, err := artifacts.ReadNodeResults(filepath.Join(l.TargetDir(), artifacts.NodeResultsFile)); err == nil {
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
			OwnerName: e.OwnerName, OwnerEmail: e.OwnerEmail, URL: e.URL, DependsOn: n.DependsOn}
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
