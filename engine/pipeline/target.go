package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/project"
	"strata/engine/template"
)

// errReported is an error already reported with a position by an earlier phase.
var errReported = errors.New("already reported")

// targetError names target t in err, a problem in one of its settings,
// keeping the positions err has.
func targetError(t *project.Target, err error) error {
	if err == nil {
		return nil
	}
	var found diag.List
	found.Add(t.Pos, err)
	for i := range found {
		found[i].Msg = fmt.Sprintf("target %s: %s", t.Name, found[i].Msg)
	}
	return found
}

// ResolveTarget picks the target of project p and renders its settings
// with vars. The target is name when given (the command line's --target),
// else STRATA_TARGET (read with lookupEnv), else project.yaml's target:,
// else the only target defined, else the built-in local one. It is the one
// place a target is chosen: what the renderer and the runner know of it
// comes from here.
func ResolveTarget(p *project.Project, name string, vars map[string]any, lookupEnv func(string) (string, bool)) (*project.Target, error) {
	t, err := chooseTarget(p, name, lookupEnv)
	if err != nil || len(p.Targets) == 0 {
		return t, err
	}
	out := *t
	set, _ := template.ParseMacros(nil)
	var problems diag.List // of every setting, so validate reports them all
	for _, f := range []struct {
		key string
		s   *string
	}{{"url", &out.URL}, {"host", &out.Host}, {"port", &out.Port}, {"user", &out.User}, {"password", &out.Password}, {"dbname", &out.DBName}, {"schema", &out.Schema}, {"schema_prefix", &out.SchemaPrefix}} {
		if !strings.Contains(*f.s, "{{") {
			continue
		}
		// Errors point into project.yaml, at the setting's own text.
		tp, d := set.ParseAt("project.yaml", t.Origins[f.key], *f.s)
		var err error
		if err = d.Err(); err == nil {
			var reads template.Reads
			*f.s, reads, err = tp.Render(template.Env{Vars: vars, LookupEnv: lookupEnv, NoThis: "this is the relation of the model being built, and a target's settings belong to no model: take it out of the setting"}, nil)
			if err == nil && f.key == "url" && *f.s == "" {
				out.EmptyURL = emptyURL(t, reads)
			}
		}
		problems.Add(t.Pos, targetError(t, err))
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	if out.Schema == "" {
		out.Schema = "public"
	}
	if out.Threads == 0 {
		out.Threads = 4
	}
	return &out, nil
}

// emptyURL says why target t's url: rendered to "": where it is, its
// text, the environment variables it read that were unset or empty, and
// what to do.
func emptyURL(t *project.Target, reads template.Reads) string {
	at := "project.yaml"
	if o, ok := t.Origins["url"]; ok && o.Line > 0 {
		at = fmt.Sprintf("project.yaml:%d:%d", o.Line, o.Col)
	}
	var why, vars []string
	names := make([]string, 0, len(reads.EnvVars))
	for name := range reads.EnvVars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if v := reads.EnvVars[name]; strings.HasPrefix(v, "default:") {
			why = append(why, name+" is not set")
			vars = append(vars, name)
		} else if v == "" {
			why = append(why, name+" is set but empty")
			vars = append(vars, name)
		}
	}
	msg := fmt.Sprintf("%s: the url of target %s is empty: '%s' rendered to \"\"", at, t.Name, t.URL)
	if len(why) > 0 {
		msg += " (" + strings.Join(why, ", ") + ")"
	}
	fix := "give the target a url"
	if len(vars) > 0 {
		fix = "set " + strings.Join(vars, " and ")
	}
	return msg + ", so PostgreSQL's defaults were tried (" + fix + ", or choose another target with --target)"
}

// TargetName is the name of the target that a command given --target
// name (or "") uses in the project in dir: name, STRATA_TARGET,
// project.yaml's target:, the only one defined, or the built-in local one.
func TargetName(dir, name string, lookupEnv func(string) (string, bool)) (string, error) {
	if d, missing := project.Missing(dir); missing {
		return "", d
	}
	p, diags := project.ReadFile(os.DirFS(dir))
	if p == nil {
		return "", diags.Err()
	}
	t, err := chooseTarget(p, name, lookupEnv)
	if err == errReported {
		if err = diags.Err(); err == nil {
			err = fmt.Errorf("project.yaml: target %q is not defined under targets:", p.DefaultTarget)
		}
	}
	if err != nil {
		return "", err
	}
	return t.Name, nil
}

// chooseTarget is the target ResolveTarget picks, as project.yaml has it
// (its settings not rendered); without targets, the built-in local one.
func chooseTarget(p *project.Project, name string, lookupEnv func(string) (string, bool)) (*project.Target, error) {
	from := "--target"
	if name == "" {
		name, _ = lookupEnv("STRATA_TARGET")
		from = "STRATA_TARGET"
	}
	if name == "" {
		name, from = p.DefaultTarget, ""
	}
	// A target chosen in project.yaml is reported at its target: key.
	at := diag.Pos{File: "project.yaml"}
	if from == "" && p.DefaultTargetPos.File != "" {
		at = p.DefaultTargetPos
	}
	if len(p.Targets) == 0 {
		if name != "" && name != "dev" {
			return nil, diag.Diagnostic{Pos: at, Msg: fmt.Sprintf("target %q is not defined (project.yaml has no targets:)", name)}
		}
		return &project.Target{Name: "dev", Type: "local", Schema: "public", Threads: 4}, nil
	}
	if name == "" {
		if len(p.Targets) == 1 {
			for n := range p.Targets {
				name = n
			}
		} else {
			return nil, diag.Diagnostic{Pos: at, Msg: fmt.Sprintf("no target chosen: set target: in project.yaml or pass --target (one of %s)", strings.Join(targetNames(p), ", "))}
		}
	}
	t, ok := p.Targets[name]
	if !ok {
		if from == "" {
			return nil, errReported // the loader points at project.yaml's target:
		}
		names := targetNames(p)
		return nil, diag.Diagnostic{Msg: fmt.Sprintf("%s %s: target %q is not defined in project.yaml (expected one of %s)%s", from, name, name, strings.Join(names, ", "), diag.DidYouMean(name, names))}
	}
	return t, nil
}

// targetNames are the targets project.yaml defines, sorted.
func targetNames(p *project.Project) []string {
	names := make([]string, 0, len(p.Targets))
	for n := range p.Targets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// manifestTarget is what the manifest and the templates know of target t:
// its name and type, and the schemas relations are placed in. A target
// that could not be resolved is a placeholder, so that the rest of the
// project still loads and its problems are reported too.
func manifestTarget(t *project.Target) manifest.Target {
	if t == nil {
		return manifest.Target{Name: "dev", Type: "local"}
	}
	return manifest.Target{Name: t.Name, Type: t.Type, Schema: t.Schema, SchemaPrefix: t.SchemaPrefix}
}

// Connect opens a pool of at most conns connections to the target: the
// local cluster (created and started on demand) or a PostgreSQL server.
func (l *Project) Connect(ctx context.Context, conns int) (*postgres.Adapter, error) {
	url, err := l.url(ctx)
	if err != nil {
		return nil, err
	}
	db, err := postgres.Connect(ctx, url, conns)
	if err != nil && l.Target.Type != "local" && l.Target.EmptyURL != "" && url == "" {
		// An empty url leaves libpq's defaults (PG* variables, the local
		// socket, the user's name): say where the empty url came from
		// rather than only that database "" could not be reached.
		return nil, fmt.Errorf("%s: %w", l.Target.EmptyURL, err)
	}
	return db, err
}

// ConnectExisting is Connect for a reader (docs) that must not create a
// local cluster for a project that was never built, and that gives up
// after 20 seconds.
func (l *Project) ConnectExisting(ctx context.Context, conns int) (*postgres.Adapter, error) {
	if l.Target.Type == "local" {
		c, err := localOf(l.Dir, l.Target)
		if err != nil {
			return nil, err
		}
		st, err := c.Status(ctx)
		if err != nil {
			return nil, err
		}
		for _, n := range st {
			if !n.Initialized {
				return nil, errors.New("the local PostgreSQL has not been created yet; run strata build first")
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return l.Connect(ctx, conns)
}

// url is the target's connection string; for a local target it starts the
// cluster.
func (l *Project) url(ctx context.Context) (string, error) {
	t := l.Target
	if t.Type == "local" {
		c, err := localOf(l.Dir, t)
		if err != nil {
			return "", err
		}
		if err := c.Start(ctx); err != nil {
			return "", err
		}
		return c.URL(), nil
	}
	return settingsURL(t), nil
}

// settingsURL is how to reach a postgres target: its url, or its settings
// as libpq key='value' pairs (PG* environment variables fill in the rest).
func settingsURL(t *project.Target) string {
	if t.URL != "" {
		return t.URL
	}
	var parts []string
	for _, kv := range [][2]string{{"host", t.Host}, {"port", t.Port}, {"user", t.User}, {"password", t.Password}, {"dbname", t.DBName}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"='"+strings.ReplaceAll(strings.ReplaceAll(kv[1], `\`, `\\`), "'", `\'`)+"'")
		}
	}
	return strings.Join(parts, " ")
}
