package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"strata/engine/adapter/postgres"
	"strata/engine/artifacts"
	"strata/engine/docs"
	"strata/engine/local"
	"strata/engine/manifest"
)

// cmdDocs is `strata docs generate|serve`.
func cmdDocs(ctx context.Context, a *app, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(a.stderr, "usage: strata docs generate [--offline] | strata docs serve [--port N] [--offline]")
		fmt.Fprintln(a.stderr, "  generate  writes a static site to target/docs/: lineage, models, tests, last run, dashboards")
		fmt.Fprintln(a.stderr, "  serve     serves target/docs/ on 127.0.0.1 (generating it first when it is missing)")
		if len(args) == 0 {
			return ExitBadInput
		}
		return ExitOK
	}
	sub, rest := args[0], args[1:]
	f := a.newFlags("docs "+sub, false)
	var offline bool
	f.fs.BoolVar(&offline, "offline", false, "don't read the database: column types from YAML, dashboards without data")
	switch sub {
	case "generate":
	case "serve":
		f.fs.IntVar(&f.port, "port", 8080, "the port to serve on (on 127.0.0.1)")
	default:
		fmt.Fprintf(a.stderr, "strata docs: unknown subcommand %q (expected generate or serve)\n", sub)
		return ExitBadInput
	}
	if code, done := a.parse(f, rest); done {
		return code
	}
	if f.fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "strata docs %s: unexpected argument %q\n", sub, f.fs.Arg(0))
		return ExitBadInput
	}
	if sub == "serve" {
		dir, _ := filepath.Abs(a.projectDir)
		site := filepath.Join(dir, "target", "docs")
		if _, err := os.Stat(filepath.Join(site, "index.html")); err != nil {
			if code := a.docsGenerate(ctx, f, offline); code != ExitOK {
				return code
			}
		}
		return a.docsServe(ctx, site, f.port)
	}
	return a.docsGenerate(ctx, f, offline)
}

func (a *app) docsGenerate(ctx context.Context, f *flags, offline bool) int {
	started := time.Now()
	l, diags, ok := a.load(f)
	a.printDiags(diags)
	if !ok {
		return ExitBadInput
	}
	// Connect while the manifest is assembled: the two don't depend on each other.
	var conn chan docsConn
	if !offline {
		conn = make(chan docsConn, 1)
		go func() {
			ad, reason := a.docsConnect(ctx, l)
			conn <- docsConn{ad, reason}
		}()
	}
	targetDir := filepath.Join(l.dir, "target")
	in := &docs.Input{Manifest: a.manifestArtifact(l), GeneratedAt: started.UTC().Format("2006-01-02 15:04:05 UTC")}
	if rr, err := artifacts.ReadRunResults(filepath.Join(targetDir, "run_results.json")); err == nil {
		in.Results = rr
	} else if !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(a.stderr, "strata docs: ignoring the last run's results: %v\n", err)
	}
	in.Dashboards = docsDashboards(l)

	if offline {
		in.Offline = "--offline"
	} else if reason := docsFetch(ctx, <-conn, in); reason != "" {
		in.Offline = reason
		fmt.Fprintf(a.stderr, "strata docs: the database was not read (%s); column types come from YAML and dashboards have no data\n", reason)
	}
	for _, d := range in.Dashboards {
		for _, c := range d.Charts {
			if c.Err != "" && in.Offline == "" {
				fmt.Fprintf(a.stderr, "strata docs: dashboard %s, chart %q: %s\n", d.Name, c.Title, c.Err)
			}
		}
	}
	sum, err := docs.Generate(filepath.Join(targetDir, "docs"), in)
	if err != nil {
		fmt.Fprintf(a.stderr, "strata docs: %v\n", err)
		return ExitFailed
	}
	rel, _ := filepath.Rel(l.dir, sum.Index)
	a.say("Wrote %s: %d nodes, %d dashboards, %d pages in %.2fs", rel, sum.Nodes, sum.Dashboards, sum.Pages, time.Since(started).Seconds())
	return ExitOK
}

// docsDashboards turns the project's dashboard exposures into the site's dashboards.
func docsDashboards(l *loaded) []*docs.Dashboard {
	var out []*docs.Dashboard
	for _, id := range l.man.Sorted() {
		n := l.man.Nodes[id]
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
			dc := &docs.Chart{Title: c.Title, Type: c.Type, Model: c.Model, Query: c.Query, X: c.X, Y: c.Y, Value: c.Value, Fields: c.Fields, Limit: c.Limit}
			if c.Model != "" {
				if m, ok := l.man.Lookup(c.Model); ok {
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

// docsConn is a connection to the target for docs, or why there is none.
type docsConn struct {
	ad     *postgres.Adapter
	reason string
}

// docsConnect connects to the target; it returns why it could not, or "".
func (a *app) docsConnect(ctx context.Context, l *loaded) (*postgres.Adapter, string) {
	if l.target.Type == "local" {
		// Don't create a cluster just to document a project that was never built.
		c, err := local.New(l.dir)
		if err != nil {
			return nil, err.Error()
		}
		st, err := c.Status(ctx)
		if err != nil {
			return nil, err.Error()
		}
		if !st.Initialized {
			return nil, "the local PostgreSQL has not been created yet; run strata build first"
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ad, err := a.connect(cctx, l, docs.FetchConns)
	if err != nil {
		return nil, err.Error()
	}
	return ad, ""
}

// docsFetch reads the catalog and the dashboards' data over c and closes it; it
// returns why it could not, or "".
func docsFetch(ctx context.Context, c docsConn, in *docs.Input) string {
	if c.reason != "" {
		return c.reason
	}
	defer c.ad.Close()
	if err := docs.Fetch(ctx, poolQuerier{c.ad.Pool}, in); err != nil {
		return err.Error()
	}
	return ""
}

// poolQuerier reads query results as text, the way the database prints them.
type poolQuerier struct{ pool *pgxpool.Pool }

var _ docs.Querier = poolQuerier{}

func (q poolQuerier) QueryText(ctx context.Context, sql string, args ...any) ([]string, [][]*string, error) {
	rows, err := q.pool.Query(ctx, sql, append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, args...)...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var cols []string
	for _, fd := range rows.FieldDescriptions() {
		cols = append(cols, fd.Name)
	}
	var out [][]*string
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]*string, len(raw))
		for i, b := range raw {
			if b != nil {
				s := string(b)
				row[i] = &s
			}
		}
		out = append(out, row)
	}
	return cols, out, rows.Err()
}

// docsServe serves dir on 127.0.0.1:port until ctx ends.
func (a *app) docsServe(ctx context.Context, dir string, port int) int {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		fmt.Fprintf(a.stderr, "strata docs serve: %v (choose another port with --port N)\n", err)
		return ExitBadInput
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	a.say("Serving %s on http://%s/ (Ctrl-C to stop)", dir, ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return ExitOK
	case err := <-done:
		fmt.Fprintf(a.stderr, "strata docs serve: %v\n", err)
		return ExitFailed
	}
}
