package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"strata/engine/adapter/postgres"
	"strata/engine/manifest"
	"strata/engine/pipeline"
	"strata/engine/run"
)

// printer writes one whole line per event, safe for concurrent workers, to the
// terminal and to target/strata.log.
type printer struct {
	mu     sync.Mutex
	out    io.Writer
	log    io.Writer
	json   bool
	color  bool
	man    *manifest.Manifest
	counts map[run.Status]int
	lastPr map[string]time.Time
}

func (a *app) newPrinter(m *manifest.Manifest, logFile io.Writer) *printer {
	return &printer{out: a.stdout, log: logFile, json: a.logFormat == "json", color: !a.noColor && isTerminal(a.stdout), man: m,
		counts: map[run.Status]int{}, lastPr: map[string]time.Time{}}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// line prints a message that belongs to no node; under --log-format json it
// is an event like the others, so that every line of stdout is JSON.
func (p *printer) line(s string) {
	if p.json {
		p.event(map[string]any{"event": "log", "message": s})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.write(s)
}

// say prints a command's message on stdout: as it is under --log-format
// text, and under json one "log" event per line, as the run commands print
// theirs, so that every line of stdout is JSON whatever the command.
func (a *app) say(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if a.logFormat != "json" {
		fmt.Fprintln(a.stdout, msg)
		return
	}
	p := a.newPrinter(nil, nil)
	for _, l := range strings.Split(msg, "\n") {
		p.line(l)
	}
}

func (p *printer) write(s string) {
	stamp := time.Now().Format("15:04:05")
	fmt.Fprintf(p.out, "%s  %s\n", stamp, s)
	if p.log != nil {
		fmt.Fprintf(p.log, "%s  %s\n", stamp, stripColor(s))
	}
}

func stripColor(s string) string {
	for _, c := range []string{"\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[0m"} {
		s = strings.ReplaceAll(s, c, "")
	}
	return s
}

func (p *printer) event(v map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v["ts"] = time.Now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(v)
	fmt.Fprintln(p.out, string(b))
	if p.log != nil {
		fmt.Fprintln(p.log, string(b))
	}
}

// describe names a node as the output shows it: "table model warehouse.dim_time".
func (p *printer) describe(n *manifest.Node) string {
	switch n.Kind {
	case manifest.Model:
		return n.Config.Materialized + " model " + n.Relation.String()
	case manifest.Seed:
		return "seed " + n.Relation.String()
	case manifest.Test:
		return "test " + n.Name
	}
	return string(n.Kind) + " " + n.Name
}

const width = 72

func dots(s string) string {
	if len(s) >= width {
		return s + " "
	}
	return s + " " + strings.Repeat(".", width-len(s)) + " "
}

func (p *printer) start(id string, i, total int) {
	n := p.man.Nodes[id]
	if p.json {
		p.event(map[string]any{"event": "start", "node": id, "index": i, "total": total})
		return
	}
	p.line(dots(fmt.Sprintf("%d of %d START %s", i, total, p.describe(n))) + "[RUN]")
}

func (p *printer) paint(s, color string) string {
	if !p.color {
		return s
	}
	return color + s + "\x1b[0m"
}

func (p *printer) end(r run.Result, i, total int) {
	n := p.man.Nodes[r.ID]
	p.mu.Lock()
	p.counts[r.Status]++
	p.mu.Unlock()
	if p.json {
		ev := map[string]any{"event": "end", "node": r.ID, "path": n.Path, "index": i, "total": total, "status": r.Status,
			"message": pipeline.PlacedMessage(n, r), "response": r.Response, "rows": r.Rows, "seconds": r.Duration.Seconds()}
		if n.Kind == manifest.Test {
			ev["failures"] = r.Failures
		}
		p.event(ev)
		return
	}
	secs := fmt.Sprintf("%.2fs", r.Duration.Seconds())
	var head, tail string
	switch r.Status {
	case run.Success:
		// What the build did: a load into an existing table did not
		// create it (run.Result.Did).
		verb := r.Did
		switch {
		case n.Kind == manifest.Seed:
			verb = "loaded"
		case verb == "":
			verb = "created"
		}
		head = p.paint("OK", "\x1b[32m") + " " + verb + " " + p.describe(n)
		tail = "[" + r.Response + " in " + secs + "]"
	case run.Pass:
		head = p.paint("PASS", "\x1b[32m") + " " + n.Name
		tail = "[PASS in " + secs + "]"
	case run.Warn:
		head = p.paint(fmt.Sprintf("WARN %d", r.Failures), "\x1b[33m") + " " + n.Name
		tail = "[WARN " + fmt.Sprint(r.Failures) + " in " + secs + "]"
	case run.Fail:
		head = p.paint(fmt.Sprintf("FAIL %d", r.Failures), "\x1b[31m") + " " + n.Name
		tail = "[FAIL " + fmt.Sprint(r.Failures) + " in " + secs + "]"
	case run.Error:
		head = p.paint("ERROR", "\x1b[31m") + " " + p.describe(n)
		tail = "[ERROR in " + secs + "]"
		if r.Response == run.AuditFailed {
			tail = "[" + run.AuditFailed + " in " + secs + "]"
		}
	case run.Skipped:
		head = p.paint("SKIP", "\x1b[33m") + " " + p.describe(n)
		tail = "[SKIP]"
	}
	lines := dots(fmt.Sprintf("%d of %d %s", i, total, head)) + tail
	if r.Message != "" && r.Status != run.Success && r.Status != run.Pass {
		for _, l := range strings.Split(pipeline.PlacedMessage(n, r), "\n") {
			lines += "\n          " + l
		}
	}
	p.line(lines)
}

// waiting reports a build that waits for the readers of its relation to
// release it.
func (p *printer) waiting(id string, w postgres.LockWait) {
	n := p.man.Nodes[id]
	if p.json {
		ev := map[string]any{"event": "lock_wait", "node": id, "attempt": w.Attempt, "waited_seconds": w.Waited.Seconds(), "pause_seconds": w.Pause.Seconds()}
		if w.Typing {
			ev["typing_unit_tests"] = true
		}
		if w.ShardsMoving {
			ev["citus_shards_moving"] = true
			if w.Group != "" {
				ev["colocated_with"] = w.Group
			}
		}
		if len(w.Holders) > 0 {
			var hs []map[string]any
			for _, h := range w.Holders {
				m := map[string]any{"pid": h.PID, "application_name": h.Application, "role": h.Role, "client_addr": h.Client,
					"state": h.State, "transaction_started": h.Since, "strata": h.Strata, "this_run": h.ThisRun, "building": h.Building, "holds_relation": h.OnRelation}
				if h.Run != nil {
					m["run"] = h.Run.String()
				}
				hs = append(hs, m)
			}
			ev["holders"] = hs
		}
		p.event(ev)
		return
	}
	if w.ShardsMoving {
		group := "the colocation group its table joins"
		if w.Group != "" {
			group = "the colocation group of " + w.Group + ", which its table joins"
		}
		p.line(fmt.Sprintf("        ... %s waits for Citus to finish moving shards of %s (%s so far, attempt %d); Citus creates no table there meanwhile", n.Name, group, w.Waited.Round(10*time.Millisecond), w.Attempt))
		return
	}
	if w.Typing {
		p.line(fmt.Sprintf("        ... typing the unit tests' inputs: %s %s reads a relation another session holds locked (%s so far, attempt %d); no node starts meanwhile", n.Kind, n.Name, w.Waited.Round(10*time.Millisecond), w.Attempt))
		return
	}
	p.line(fmt.Sprintf("        ... %s waits for %s (%s so far, attempt %d); readers go on meanwhile", n.Name, postgres.DescribeHolders(w.Holders, n.Relation.String()), w.Waited.Round(10*time.Millisecond), w.Attempt))
}

// progress reports a long seed load at most every two seconds.
func (p *printer) progress(id string, done, total int64) {
	p.mu.Lock()
	last := p.lastPr[id]
	if time.Since(last) < 2*time.Second || done == total {
		p.mu.Unlock()
		return
	}
	p.lastPr[id] = time.Now()
	p.mu.Unlock()
	n := p.man.Nodes[id]
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	if p.json {
		p.event(map[string]any{"event": "progress", "node": id, "bytes": done, "total": total})
		return
	}
	p.line(fmt.Sprintf("        ... %s %.0f%% (%.1f of %.1f MB)", n.Name, pct, float64(done)/1e6, float64(total)/1e6))
}

// hookFailed counts a failed hook as an error in the summary, so that the
// summary agrees with the exit code; the error itself went to stderr.
func (p *printer) hookFailed(which string, err error) {
	p.mu.Lock()
	p.counts[run.Error]++
	p.mu.Unlock()
	if p.json {
		p.event(map[string]any{"event": "hook", "hook": which, "status": run.Error, "message": err.Error()})
	}
}

// summary ends a run: how many nodes passed, warned, failed (a test that
// found rows), errored (a node, or a test's query, that did not run
// through) and were skipped.
func (p *printer) summary(elapsed time.Duration, total int) {
	pass := p.counts[run.Success] + p.counts[run.Pass]
	if p.json {
		p.event(map[string]any{"event": "summary", "pass": pass, "warn": p.counts[run.Warn], "fail": p.counts[run.Fail], "error": p.counts[run.Error],
			"skip": p.counts[run.Skipped], "seconds": elapsed.Seconds()})
		return
	}
	p.line(fmt.Sprintf("Finished %d node%s in %.2fs.", total, plural(total), elapsed.Seconds()))
	p.line(fmt.Sprintf("PASS=%d WARN=%d FAIL=%d ERROR=%d SKIP=%d", pass, p.counts[run.Warn], p.counts[run.Fail], p.counts[run.Error], p.counts[run.Skipped]))
}

// logHeading names the command that ran, for its section of
// target/strata.log: strata build, or for a retry what it repeats
// (strata retry of strata build: 3 nodes).
func logHeading(f *flags, cmd string) string {
	if f.retryRecord == nil {
		return "strata " + cmd
	}
	h := "strata retry of strata " + cmd
	if n := len(f.retryIDs); n > 0 {
		h += fmt.Sprintf(": %d node%s", n, plural(n))
	}
	if f.retryHooks {
		h += pick(len(f.retryIDs) > 0, " and", ":") + " its hooks"
	}
	return h
}
