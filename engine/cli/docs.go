package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"strata/engine/artifacts"
	"strata/engine/diag"
	"strata/engine/docs"
)

// cmdDocs is `strata docs generate|serve`.
func cmdDocs(ctx context.Context, a *app, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		// Only the global flags and --help come before the subcommand.
		f := a.newBareFlags("docs")
		f.fs.SetInterspersed(false)
		if code, done := a.parse(f, args); done {
			return code
		}
		if f.fs.NArg() == 0 {
			fmt.Fprintln(a.stderr, "strata docs: expected a subcommand, generate or serve (strata docs --help)")
			return ExitBadInput
		}
		args = f.fs.Args()
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
		fmt.Fprintf(a.stderr, "strata docs: unknown subcommand %q (expected generate or serve)%s\n", sub, diag.DidYouMean(sub, []string{"generate", "serve"}))
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
		// The site is regenerated, when a page is asked for, if the project or
		// its results changed since it was generated.
		srv := &docs.Server{Site: site, Project: dir,
			Generate: func(ctx context.Context) error {
				if code := a.docsGenerate(ctx, f, offline); code != ExitOK {
					return fmt.Errorf("strata docs generate failed (exit %d)", code)
				}
				return nil
			},
			Failed: func(err error) {
				fmt.Fprintf(a.stderr, "strata docs serve: %v; serving the site as it was\n", err)
			},
		}
		if _, err := os.Stat(filepath.Join(site, "index.html")); err != nil {
			if code := a.docsGenerate(ctx, f, offline); code != ExitOK {
				return code
			}
		}
		return a.docsServe(ctx, site, f.port, srv)
	}
	return a.docsGenerate(ctx, f, offline)
}

func (a *app) docsGenerate(ctx context.Context, f *flags, offline bool) int {
	started := time.Now()
	// Stamped before the project is read: a change made while it is read makes the next stamp differ.
	abs, _ := filepath.Abs(a.projectDir)
	stamp, _ := docs.Stamp(abs)
	l, diags, ok := a.load(ctx, f)
	a.printDiags(diags)
	if !ok {
		return ExitBadInput
	}
	in, resultsErr := l.DocsInput(ctx, offline, started)
	if ctx.Err() != nil {
		// Ctrl-C while connecting or reading: not a database that could
		// not be read, so no site without its data either.
		fmt.Fprintln(a.stderr, "strata docs: cancelled; the site was not written")
		return ExitCancelled
	}
	if resultsErr != nil {
		fmt.Fprintf(a.stderr, "strata docs: ignoring the last run's results: %v\n", resultsErr)
	}
	in.Stamp = stamp
	if !offline && in.Offline != "" {
		fmt.Fprintf(a.stderr, "strata docs: the database was not read (%s); column types come from the last strata check of each model unchanged since, else from YAML, and dashboards have no data\n", in.Offline)
	}
	for _, d := range in.Dashboards {
		for _, c := range d.Charts {
			if c.Err != "" && in.Offline == "" {
				fmt.Fprintf(a.stderr, "strata docs: dashboard %s, chart %q: %s\n", d.Name, c.Title, c.Err)
			}
		}
	}
	sum, err := docs.Generate(filepath.Join(l.TargetDir(), "docs"), in)
	if err == nil {
		err = artifacts.Folder(l.TargetDir())
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "strata docs: %v\n", err)
		return ExitFailed
	}
	rel, _ := filepath.Rel(l.Dir, sum.Index)
	a.say("Wrote %s: %d nodes, %d dashboards, %d pages in %.2fs", rel, sum.Nodes, sum.Dashboards, sum.Pages, time.Since(started).Seconds())
	return ExitOK
}

// docsServe serves the site in dir through h on 127.0.0.1:port until ctx ends.
func (a *app) docsServe(ctx context.Context, dir string, port int, h http.Handler) int {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		fmt.Fprintf(a.stderr, "strata docs serve: %v (choose another port with --port N)\n", err)
		return ExitBadInput
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
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
