package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"strata/engine/adapter/postgres"
	"strata/engine/check"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/pipeline"
)

func cmdCheck(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("check", true)
	f.fs.BoolVar(&f.fullRefresh, "full-refresh", false, "check incremental models as a --full-refresh build renders them (is_incremental false)")
	f.fs.BoolVar(&f.fullSCD2, "full-refresh-scd2", false, "check the build that --full-refresh-scd2 allows: --full-refresh of scd2 models, and an scd2 model become another materialization")
	f.fs.StringVarP(&f.output, "output", "o", "text", "text or json")
	if code, done := a.parse(f, args); done {
		return code
	}
	if f.output != "text" && f.output != "json" {
		fmt.Fprintf(a.stderr, "strata check: --output must be text or json, got %q\n", f.output)
		return ExitBadInput
	}
	if code, done := a.noArgs(f); done {
		return code
	}
	started := time.Now()
	l, selected, code, ok := a.loadSelection(ctx, f, "check")
	if !ok {
		return code
	}
	// The flags the build it previews takes: a --full-refresh that
	// build refuses is refused here too.
	if a.scd2FullRefreshRefused(l, f, "check", slices.Sorted(maps.Keys(selected))) {
		return ExitBadInput
	}
	// Unit tests are run, not proven: said so, rather than counted among
	// the nodes checked ("Checked 0 nodes" for -s test_type:unit).
	units := 0
	for id := range selected {
		if l.Manifest.Nodes[id].IsUnit() {
			units++
		}
	}
	unitNote := fmt.Sprintf("the %d selected unit test%s %s not run by check, which proves SQL against the database: strata test -s test_type:unit runs them", units, plural(units), isAre(units))
	if len(checkable(l, selected)) == 0 {
		if units > 0 {
			a.say("Nothing to check: %s.", unitNote)
			return ExitOK
		}
		a.say("Nothing to check: the selection matches no models, seeds or tests.")
		return ExitOK
	}
	report := a.reportMode()
	if f.output == "json" {
		report = "json"
	}
	var notes []string
	if units > 0 {
		notes = append(notes, unitNote)
	}
	_, code, _ = a.checkAndReport(ctx, l, nil, selected, check.Options{FullRefresh: f.fullRefresh, FullRefreshSCD2: f.fullSCD2}, started, report, notes...)
	return code
}

// reportMode is how a check run by another command prints its report:
// "jsonl" (one line of JSON) under --log-format json, else "text".
func (a *app) reportMode() string {
	if a.logFormat == "json" {
		return "jsonl"
	}
	return "text"
}

// checkAndReport checks selected on db (connecting when db is nil), keeps
// what it found (target/check.json, manifest.json) and prints it as
// report says (text, json, jsonl): what it found (nil when it could not
// check, with the reason, already printed) and the exit code of strata
// check.
func (a *app) checkAndReport(ctx context.Context, l *pipeline.Project, db *postgres.Adapter, selected map[string]bool, opt check.Options, started time.Time, report string, notes ...string) (*check.Result, int, error) {
	res, code, err := a.runCheck(ctx, l, db, selected, opt)
	if res == nil {
		return nil, code, err
	}
	res.Notes = append(res.Notes, notes...)
	// What check found is kept for column: selectors, manifest.json and
	// the docs site: a check that could not keep it fails (exit 1, as a
	// file that cannot be written does), rather than pass and leave
	// strata ls -s column:... saying that check never ran.
	unkept := false
	if err := l.WriteCheck(res, started); err != nil {
		fmt.Fprintf(a.stderr, "strata: writing target/check.json: %v: what check found is not kept (column: selectors and the docs site read it); make target/check.json writable and check again\n", err)
		unkept = true
	}
	if err := l.WriteManifest(); err != nil {
		fmt.Fprintf(a.stderr, "strata: writing target/manifest.json: %v\n", err)
		unkept = true
	}
	switch report {
	case "json":
		a.checkJSON(l, res, time.Since(started), true)
	case "jsonl":
		a.checkJSON(l, res, time.Since(started), false)
	default:
		a.checkText(l, res, time.Since(started))
	}
	if res.Failed() || unkept {
		return res, ExitFailed, nil
	}
	return res, ExitOK, nil
}

// checkable are the selected nodes check proves.
func checkable(l *pipeline.Project, selected map[string]bool) []string {
	var ids []string
	for id := range selected {
		n := l.Manifest.Nodes[id]
		switch n.Kind {
		case manifest.Model, manifest.Seed, manifest.Test, manifest.Source:
			if !n.IsUnit() {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// runCheck connects and checks; a nil result ends the command with code,
// its reason (the error) printed on one line.
func (a *app) runCheck(ctx context.Context, l *pipeline.Project, db *postgres.Adapter, selected map[string]bool, opt check.Options) (*check.Result, int, error) {
	if db == nil {
		var err error
		db, err = l.Connect(ctx, 1)
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(a.stderr, "strata check: cancelled before it started; nothing was changed")
				return nil, ExitCancelled, err
			}
			// An unreachable target is the command line's or the environment's
			// to fix: nothing was checked.
			fmt.Fprintf(a.stderr, "strata check: target %s: %s\n", l.Target.Name, oneLine(err.Error()))
			return nil, ExitBadInput, err
		}
		defer db.Close()
		// check creates what it checks in a rolled-back transaction,
		// which a read-only connection refuses at every model.
		if err := postgres.Writable(ctx, db.Shared()); err != nil {
			fmt.Fprintf(a.stderr, "strata check: target %s: %s; nothing was checked\n", l.Target.Name, oneLine(err.Error()))
			return nil, ExitBadInput, err
		}
	}
	res, err := l.Check(ctx, db, selected, opt)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(a.stderr, "strata check: cancelled; its transaction was rolled back and nothing was left behind")
			return nil, ExitCancelled, err
		}
		fmt.Fprintf(a.stderr, "strata check: %s\n", oneLine(err.Error()))
		return nil, ExitFailed, err
	}
	return res, ExitOK, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// checkText prints what check found: the notes, every problem at its
// place, what was not checked, and a summary.
func (a *app) checkText(l *pipeline.Project, res *check.Result, elapsed time.Duration) {
	for _, n := range res.Notes {
		fmt.Fprintln(a.stdout, "note: "+n)
	}
	for _, d := range res.Diags {
		fmt.Fprintln(a.stdout, d.Error())
	}
	// What was not checked: each model, seed and source; the tests, many
	// more and all below those, in one line (--output json lists them).
	tests := 0
	for _, id := range res.Order {
		n := res.Nodes[id]
		if n.Status != check.NotChecked {
			continue
		}
		node := l.Manifest.Nodes[id]
		if node.Kind == manifest.Test {
			tests++
			continue
		}
		fmt.Fprintf(a.stdout, "%s: %s %s %s\n", node.Path, node.Kind, node.Name, n.Message)
	}
	if tests > 0 {
		fmt.Fprintf(a.stdout, "%d test%s not checked: what %s read%s was not checked (--output json lists them)\n", tests, plural(tests), map[bool]string{true: "it", false: "they"}[tests == 1], map[bool]string{true: "s", false: ""}[tests == 1])
	}
	counts := map[manifest.Kind]int{}
	for id, n := range res.Nodes {
		if n.Selected {
			counts[l.Manifest.Nodes[id].Kind]++
		}
	}
	selected, parents := checkTotals(res)
	nparents := 0
	for _, c := range parents {
		nparents += c
	}
	var what []string
	for _, k := range []manifest.Kind{manifest.Model, manifest.Seed, manifest.Test, manifest.Source} {
		if c := counts[k]; c > 0 {
			what = append(what, fmt.Sprintf("%d %s%s", c, k, plural(c)))
		}
	}
	if len(what) == 0 {
		what = []string{"0 nodes"} // unit tests alone: strata test runs them
	}
	warnings := 0
	for _, d := range res.Diags {
		if d.Severity == diag.Warning {
			warnings++
		}
	}
	also := ""
	if nparents > 0 {
		also = fmt.Sprintf("; %d unselected parent%s, absent from the target, checked too: OK=%d ERROR=%d NOT_CHECKED=%d",
			nparents, plural(nparents), parents[check.OK], parents[check.Error], parents[check.NotChecked])
	}
	fmt.Fprintf(a.stdout, "Checked %s on target %s in %.2fs (%.2fs in PostgreSQL): OK=%d ERROR=%d NOT_CHECKED=%d WARN=%d%s; everything was rolled back\n",
		strings.Join(what, ", "), l.Target.Name, elapsed.Seconds(), res.Timing.Database.Seconds(), selected[check.OK], selected[check.Error], selected[check.NotChecked], warnings, also)
}

// checkTotals counts check's results by status: of the selected nodes,
// and apart, of the parents check made because the target lacks them (not
// those it read as they are), so that "Checked 1 model" is not followed
// by OK=3. The text and the JSON report count alike.
func checkTotals(res *check.Result) (selected, parents map[check.Status]int) {
	selected, parents = map[check.Status]int{}, map[check.Status]int{}
	for _, n := range res.Nodes {
		if n.Selected {
			selected[n.Status]++
		} else if n.Status != check.Existing {
			parents[n.Status]++
		}
	}
	return selected, parents
}

// checkReport is check's --output json.
type checkReport struct {
	Command string             `json:"command"`
	Target  string             `json:"target"`
	Status  string             `json:"status"`
	Elapsed float64            `json:"elapsed_time"`
	Timing  map[string]float64 `json:"timing"`
	Summary map[string]int     `json:"summary"`
	// Parents counts, as Summary does, the unselected parents that the
	// target lacks and check made to check the selection (omitted when none).
	Parents     map[string]int    `json:"parents_summary,omitempty"`
	Nodes       []checkReportNode `json:"nodes"`
	Diagnostics []checkReportDiag `json:"diagnostics"`
	Notes       []string          `json:"notes"`
}

type checkReportNode struct {
	check.Node
	Name         string `json:"name"`
	ResourceType string `json:"resource_type"`
	Path         string `json:"path"`
}

type checkReportDiag struct {
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// checkJSON prints the report as one JSON document: indented for
// --output json, on one line under --log-format json (every line of
// stdout is then JSON).
func (a *app) checkJSON(l *pipeline.Project, res *check.Result, elapsed time.Duration, indent bool) {
	r := checkReport{Command: "check", Target: l.Target.Name, Status: "ok", Elapsed: elapsed.Seconds(), Summary: map[string]int{},
		Timing: map[string]float64{"check_seconds": res.Timing.Total.Seconds(), "database_seconds": res.Timing.Database.Seconds(), "seed_files_seconds": res.Timing.SeedFiles.Seconds()},
		Nodes:  []checkReportNode{}, Diagnostics: []checkReportDiag{}, Notes: res.Notes}
	if r.Notes == nil {
		r.Notes = []string{}
	}
	if res.Failed() {
		r.Status = "error"
	}
	ids := append([]string(nil), res.Order...)
	sort.Strings(ids)
	for _, id := range ids {
		n, node := res.Nodes[id], l.Manifest.Nodes[id]
		r.Nodes = append(r.Nodes, checkReportNode{Node: *n, Name: node.Name, ResourceType: string(node.Kind), Path: node.Path})
	}
	selected, parents := checkTotals(res)
	for st, c := range selected {
		r.Summary[string(st)] = c
	}
	for st, c := range parents {
		if r.Parents == nil {
			r.Parents = map[string]int{}
		}
		r.Parents[string(st)] = c
	}
	for _, d := range res.Diags {
		sev := "error"
		if d.Severity == diag.Warning {
			sev = "warning"
			r.Summary["warning"]++
		}
		r.Diagnostics = append(r.Diagnostics, checkReportDiag{File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Col, Severity: sev, Message: d.Msg})
	}
	var b []byte
	if indent {
		b, _ = json.MarshalIndent(r, "", "  ")
	} else {
		b, _ = json.Marshal(r)
	}
	fmt.Fprintln(a.stdout, string(b))
}
