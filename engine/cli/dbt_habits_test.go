package cli

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDbtHabits: each dbt flag and command typed out of habit is refused
// (exit 2, nothing run) with a line that names strata's counterpart or says
// there is none and what to do instead, wherever it is typed; the flags
// strata shares with dbt still work.
func TestDbtHabits(t *testing.T) {
	dir := t.TempDir() // no project.yaml: a command that parses its flags stops at loading
	tests := []struct {
		args []string
		want string // the line strata prints on stderr, in part
	}{
		{[]string{"run", "--models", "orders"}, "strata run: unknown flag --models: strata's is --select (-s)"},
		{[]string{"run", "--models=orders"}, "strata run: unknown flag --models: strata's is --select (-s)"},
		{[]string{"test", "-m", "orders"}, "strata test: unknown flag -m: strata's is -s (--select)"},
		{[]string{"build", "--profiles-dir", "."}, "strata build: unknown flag --profiles-dir: strata has no profiles.yml: the targets are under targets: in project.yaml"},
		{[]string{"--profiles-dir", ".", "build"}, "strata: unknown flag --profiles-dir: strata has no profiles.yml"},
		{[]string{"--profiles-dir=.", "build"}, "strata: unknown flag --profiles-dir: strata has no profiles.yml"},
		{[]string{"run", "--profile", "shop"}, "strata run: unknown flag --profile: strata has no profiles: the targets are under targets: in project.yaml, and --target NAME picks one"},
		{[]string{"build", "-x"}, "strata build: unknown flag -x: strata's is --fail-fast"},
		{[]string{"build", "-xs", "orders"}, "strata build: unknown flag -x: strata's is --fail-fast"},
		{[]string{"compile", "--fail-fast"}, "strata compile: unknown flag --fail-fast: only seed, run, test, build and retry take --fail-fast"},
		{[]string{"--fail-fast", "build"}, "strata: unknown flag --fail-fast: only seed, run, test, build and retry take --fail-fast, after the command: strata build --fail-fast"},
		{[]string{"test", "--full-refresh"}, "strata test: unknown flag --full-refresh: only seed, run, build, retry and check take --full-refresh, after the command: strata build --full-refresh (test builds nothing: strata build --full-refresh -s ... rebuilds and then tests)"},
		// Before the command, a flag strata has is said to go after it.
		{[]string{"--full-refresh", "build"}, "strata: unknown flag --full-refresh: only seed, run, build, retry and check take --full-refresh, after the command: strata build --full-refresh"},
		{[]string{"--resource-type", "model", "ls"}, "strata: unknown flag --resource-type: only ls takes --resource-type, after the command: strata ls --resource-type model"},
		{[]string{"test", "--store-failures"}, "strata test: unknown flag --store-failures: strata has no such flag: a test keeps its failing rows (in the schema audit) with store_failures: true in its YAML config"},
		{[]string{"build", "--defer", "--state", "prod-artifacts"}, "strata build: unknown flag --defer: strata defers with environments: --env NAME"},
		{[]string{"build", "--favor-state"}, "strata build: unknown flag --favor-state: strata defers with environments: --env NAME"},
		{[]string{"build", "--target-path", "out"}, "strata build: unknown flag --target-path: strata writes its artifacts to target/ in the project's folder"},
		{[]string{"run", "--log-level", "debug"}, "strata run: unknown flag --log-level: strata has no log levels"},
		{[]string{"--log-level=debug", "run"}, "strata: unknown flag --log-level: strata has no log levels"},
		{[]string{"build", "--warn-error"}, "strata build: unknown flag --warn-error: strata has no such flag: a test with severity: warn never fails a run"},
		{[]string{"build", "--warn-error-options", "{error: all}"}, "strata build: unknown flag --warn-error-options: strata has no such flag"},
		{[]string{"build", "--resource-type", "model"}, "strata build: unknown flag --resource-type: only ls takes --resource-type, after the command: strata ls --resource-type model; other commands select kinds with -s resource_type:KIND"},
		{[]string{"build", "--exclude-resource-type", "test"}, "strata build: unknown flag --exclude-resource-type: strata's is --exclude resource_type:KIND"},
		{[]string{"build", "--indirect-selection", "cautious"}, "strata build: unknown flag --indirect-selection: strata selects as dbt's cautious mode"},
		{[]string{"build", "--selector", "nightly"}, "strata build: unknown flag --selector: strata has no selectors.yml"},
		{[]string{"run-operation", "grant_select"}, `strata: unknown command "run-operation": strata runs no macros on their own: run SQL with strata db psql, or in a hook`},
		{[]string{"source", "freshness"}, `strata: unknown command "source": a source table's freshness is a test: run strata test -s source:NAME, or build`},
		{[]string{"list"}, `strata: unknown command "list": strata's is strata ls`},
		{[]string{"snapshot"}, `strata: unknown command "snapshot": scd2 models are built by run and build`},
		{[]string{"parse"}, `strata: unknown command "parse": strata validate checks the project`},
		{[]string{"deps"}, `strata: unknown command "deps": strata has no packages`},
	}
	for _, tt := range tests {
		args := append([]string{"--project-dir", dir}, tt.args...)
		code, stdout, stderr := help(args...)
		if code != ExitBadInput || stdout != "" || !strings.HasPrefix(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("strata %s: exit %d, stdout %q, stderr %q; want exit 2 and one line starting %q", strings.Join(tt.args, " "), code, stdout, stderr, tt.want)
		}
	}

	// What strata shares with dbt is taken, not hinted at: these stop at
	// loading the (missing) project, after their flags were parsed.
	for _, args := range [][]string{
		{"run", "--project-dir", dir},
		{"build", "--fail-fast", "--project-dir", dir},
		{"seed", "--full-refresh", "--project-dir", dir},
		{"ls", "--resource-type", "model", "--project-dir", dir},
		{"build", "--state", dir, "--project-dir", dir},
	} {
		code, _, stderr := help(args...)
		if code != ExitBadInput || strings.Contains(stderr, "unknown flag") || !strings.Contains(stderr, "project.yaml") {
			t.Errorf("strata %s: exit %d, stderr %q; want the missing project.yaml, not an unknown flag", strings.Join(args, " "), code, stderr)
		}
	}
}

// TestDbtHabitsDocumented: docs/coming-from-dbt.md lists every dbt flag
// and command that strata answers with a hint.
func TestDbtHabitsDocumented(t *testing.T) {
	page := readDoc(t, "coming-from-dbt.md")
	var keys []string
	for k := range dbtFlags {
		keys = append(keys, k)
	}
	for k := range dbtCommands {
		keys = append(keys, "dbt "+k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !strings.Contains(page, "`"+k) {
			t.Errorf("docs/coming-from-dbt.md does not mention `%s`", k)
		}
	}
}

// TestDbtFlagHintsOfferWhatTheCommandTakes: the hint for a dbt flag given to
// a command offers only flags that command takes (strata ls -x was told to
// use --fail-fast, which ls does not take). Every flag a hint names is
// either the command's, a global one, one it says the command has no
// ("no --exclude"), or one it says which commands take ("only seed, run
// ... take --fail-fast"), and those are exactly the commands that do.
func TestDbtFlagHintsOfferWhatTheCommandTakes(t *testing.T) {
	dir := t.TempDir()
	var cmds [][]string
	for _, c := range commands() {
		switch c.name {
		case "help":
		case "env":
			cmds = append(cmds, []string{"env", "ls"}, []string{"env", "drop"})
		case "docs":
			cmds = append(cmds, []string{"docs", "generate"}, []string{"docs", "serve"})
		case "db": // db psql hands its arguments to psql
			for _, sub := range []string{"start", "stop", "status", "url", "destroy"} {
				cmds = append(cmds, []string{"db", sub})
			}
		default:
			cmds = append(cmds, []string{c.name})
		}
	}
	// The flags each command takes, from its help; globals from any help.
	takes := map[string]map[string]bool{}
	global := map[string]bool{"--help": true}
	for _, c := range cmds {
		_, out, _ := help(append(slices.Clone(c), "--help")...)
		own := listed(out)
		if len(own) == 0 && !strings.Contains(out, "Global flags:") {
			t.Fatalf("strata %s --help lists no flags:\n%s", strings.Join(c, " "), out)
		}
		takes[strings.Join(c, " ")] = map[string]bool{}
		for _, f := range own {
			takes[strings.Join(c, " ")]["--"+f] = true
		}
		_, globals, _ := strings.Cut(out, "\nGlobal flags:\n")
		for _, m := range flagRe.FindAllStringSubmatch(globals, -1) {
			global["--"+m[1]] = true
		}
	}
	// Which top-level commands take a flag: "seed, run, test, build and retry".
	takers := func(flag string) []string {
		var out []string
		for _, c := range cmds {
			if len(c) == 1 && takes[c[0]][flag] {
				out = append(out, c[0])
			}
		}
		slices.Sort(out)
		return out
	}
	mention := regexp.MustCompile(`(?:^|[\s(])(--[a-z][a-z-]*|-s)\b`)
	only := regexp.MustCompile(`only ([a-z, ]+?) takes? (--[a-z][a-z-]*)`)
	// "strata build --full-refresh -s ...": flags of that command.
	example := regexp.MustCompile(`strata ([a-z]+)[^;(),]*`)
	var dbt []string
	for k := range dbtFlags {
		dbt = append(dbt, k)
	}
	slices.Sort(dbt)
	for _, c := range cmds {
		name := strings.Join(c, " ")
		for _, flag := range dbt {
			if takes[name][flag] {
				continue // strata's flag of the same name
			}
			args := append(slices.Clone(c), flag, "--project-dir", dir)
			code, _, stderr := help(args...)
			_, hint, ok := strings.Cut(stderr, ": unknown flag "+flag+": ")
			if code != ExitBadInput || !ok || !strings.HasPrefix(stderr, "strata "+c[0]) {
				t.Errorf("strata %s %s: exit %d, %q; want exit 2 and a hint", name, flag, code, stderr)
				continue
			}
			hint = strings.TrimSuffix(hint, "\n")
			check := func(text string, has map[string]bool, in string) {
				for _, m := range mention.FindAllStringSubmatch(text, -1) {
					f := m[1]
					if f == "-s" {
						f = "--select"
					}
					if has[f] || global[f] || strings.Contains(text, "no "+m[1]) {
						continue
					}
					t.Errorf("strata %s %s offers %s, which strata %s does not take: %q", name, flag, m[1], in, hint)
				}
			}
			rest := hint
			for _, m := range example.FindAllStringSubmatch(hint, -1) {
				if other := takes[m[1]]; other != nil && m[1] != c[0] {
					check(m[0], other, m[1])
					rest = strings.Replace(rest, m[0], "", 1)
				}
			}
			said := map[string]bool{}
			for _, m := range only.FindAllStringSubmatch(hint, -1) {
				list := strings.Split(strings.ReplaceAll(m[1], " and ", ", "), ", ")
				slices.Sort(list)
				if want := takers(m[2]); !slices.Equal(list, want) {
					t.Errorf("strata %s %s: %q says only %v take %s; %v do", name, flag, hint, list, m[2], want)
				}
				said[m[2]] = true
			}
			own := maps.Clone(takes[name])
			for f := range said {
				own[f] = true
			}
			check(rest, own, name)
		}
	}
}
