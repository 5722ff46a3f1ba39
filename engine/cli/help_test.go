package cli

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// help runs strata with args and returns its exit code, stdout and stderr.
func help(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// flagRe finds the flags a help lists, from its lines that start with one.
var flagRe = regexp.MustCompile(`(?m)^  (?:-\w, |    )--([a-z0-9-]+)`)

// listed returns the flags listed under "Flags:" (not the global ones).
func listed(out string) []string {
	_, own, ok := strings.Cut(out, "\nFlags:\n")
	if !ok {
		return nil
	}
	own, _, _ = strings.Cut(own, "\n\n")
	var names []string
	for _, m := range flagRe.FindAllStringSubmatch(own, -1) {
		names = append(names, m[1])
	}
	return names
}

// TestEveryCommandHasHelp: each command's --help (and strata help COMMAND,
// the same text) starts with what the command does, shows examples, lists
// exactly the flags the command uses, writes a bool flag as --flag, and
// sends the reader to docs/, never elsewhere.
func TestEveryCommandHasHelp(t *testing.T) {
	selection := []string{"select", "exclude", "state", "vars"}
	walk := []string{"threads", "fail-fast", "no-wait", "env", "no-defer"}
	run := slices.Concat(walk, []string{"full-refresh", "full-refresh-scd2", "empty"})
	want := map[string][]string{
		"build":         slices.Concat(selection, run, []string{"no-audit", "check"}),
		"run":           slices.Concat(selection, run, []string{"audit"}),
		"seed":          slices.Concat(selection, walk, []string{"full-refresh", "empty"}),
		"test":          slices.Concat(selection, walk, []string{"empty"}),
		"retry":         slices.Concat([]string{"vars"}, run, []string{"audit", "no-audit"}),
		"compile":       slices.Concat(selection, []string{"env", "no-defer"}),
		"validate":      selection,
		"check":         slices.Concat(selection, []string{"full-refresh", "full-refresh-scd2", "output"}),
		"plan":          {"select", "exclude", "vars", "output", "env"},
		"env":           {"vars"},
		"ls":            slices.Concat(selection, []string{"output", "resource-type", "env"}),
		"docs":          nil,
		"docs generate": {"vars", "offline"},
		"docs serve":    {"vars", "offline", "port"},
		"debug":         {"vars"},
		"db":            nil,
		"clean":         {"all"},
	}
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	names = append(names, "docs generate", "docs serve")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			h, ok := helps[name]
			if !ok || h.about == "" || len(h.examples) == 0 || !strings.HasPrefix(h.doc, "docs/") {
				t.Fatalf("helps[%q] = %+v: want what it does, examples and its docs/ page", name, h)
			}
			args := append(strings.Fields(name), "--help")
			code, out, errOut := help(args...)
			if code != ExitOK || errOut != "" {
				t.Fatalf("strata %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
			}
			if first := strings.Fields(h.about)[0:3]; !strings.HasPrefix(out, strings.Join(first, " ")) {
				t.Errorf("strata %s --help starts %q, want what it does first", name, out[:min(len(out), 60)])
			}
			if !strings.Contains(out, "\nExamples:\n  ") || !strings.Contains(out, "\nMore: "+h.doc+"\n") {
				t.Errorf("strata %s --help has no examples or no docs/ page:\n%s", name, out)
			}
			for _, bad := range []string{"[=true|false]", "SPEC", "architecture", "stringArray"} {
				if strings.Contains(out, bad) {
					t.Errorf("strata %s --help holds %q:\n%s", name, bad, out)
				}
			}
			if name != "help" {
				if got := listed(out); !slices.Equal(got, want[name]) {
					t.Errorf("strata %s --help lists the flags %v, want %v", name, got, want[name])
				}
			}
			_, viaHelp, _ := help(append([]string{"help"}, strings.Fields(name)...)...)
			if viaHelp != out {
				t.Errorf("strata help %s differs from strata %s --help", name, name)
			}
		})
	}
}

// TestMainHelp: strata --help and strata help list every command, the
// global flags and --version; a bool flag is --flag; no command is an exit
// 2 with the help on stderr; an unknown one suggests the nearest, or, for a
// dbt command strata does not have, what to run instead.
func TestMainHelp(t *testing.T) {
	code, out, _ := help("--help")
	if code != ExitOK {
		t.Fatalf("--help: exit %d", code)
	}
	_, viaHelp, _ := help("help")
	if viaHelp != out {
		t.Errorf("strata help differs from strata --help")
	}
	for _, c := range commands() {
		if !strings.Contains(out, "\n  "+c.name+" ") {
			t.Errorf("strata --help does not list %s", c.name)
		}
	}
	for _, want := range []string{"--version", "--project-dir DIR", "--target NAME", "--log-format text|json", "      --no-color  ", "-h, --help", "docs/commands.md"} {
		if !strings.Contains(out, want) {
			t.Errorf("strata --help lacks %q:\n%s", want, out)
		}
	}
	if code, stdout, stderr := help(); code != ExitBadInput || stdout != "" || stderr != out {
		t.Errorf("strata without a command: exit %d, stdout %q; want 2 and the help on stderr", code, stdout)
	}
	if code, _, stderr := help("help", "biuld"); code != ExitBadInput || !strings.HasPrefix(stderr, `strata help: unknown command "biuld" (did you mean "build"?)`) {
		t.Errorf("strata help biuld: exit %d, %q", code, stderr)
	}
	// A dbt command strata does not have says what to run instead, in one line.
	if code, _, stderr := help("source", "freshness"); code != ExitBadInput || stderr != "strata: unknown command \"source\": a source table's freshness is a test: run strata test -s source:NAME, or build (docs/seeds-and-sources.md#freshness)\n" {
		t.Errorf("strata source freshness: exit %d, %q; want one line saying what to run", code, stderr)
	}
	// Not "did you mean docs?" for dbt deps.
	if code, _, stderr := help("deps"); code != ExitBadInput || !strings.HasPrefix(stderr, "strata: unknown command \"deps\": strata has no packages") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("strata deps: exit %d, %q; want one line saying there are no packages", code, stderr)
	}
	if code, _, stderr := help("run", "--bogus"); code != ExitBadInput || stderr != "strata run: unknown flag: --bogus (strata run --help lists its flags)\n" {
		t.Errorf("strata run --bogus: exit %d, %q; want one line", code, stderr)
	}
}

// TestSubcommandsHelp: db --help and docs --help list their subcommands;
// without one, or with an unknown one, they exit 2.
func TestSubcommandsHelp(t *testing.T) {
	for cmd, subs := range map[string][]string{"db": {"start", "stop", "status", "url", "psql"}, "docs": {"generate", "serve"}} {
		_, out, _ := help(cmd, "--help")
		_, section, _ := strings.Cut(out, "\nSubcommands:\n")
		for _, s := range subs {
			if !strings.Contains(section, "\n  "+s+" ") && !strings.HasPrefix(section, "  "+s+" ") {
				t.Errorf("strata %s --help does not list %s:\n%s", cmd, s, out)
			}
		}
		if code, _, stderr := help(cmd); code != ExitBadInput || !strings.Contains(stderr, "expected a subcommand") {
			t.Errorf("strata %s: exit %d, %q", cmd, code, stderr)
		}
		if code, _, stderr := help(cmd, "strat"); code != ExitBadInput || !strings.Contains(stderr, "unknown subcommand") {
			t.Errorf("strata %s strat: exit %d, %q", cmd, code, stderr)
		}
	}
}

// TestCommandsRefuseStrayArguments: a command that takes no arguments
// besides its flags refuses one, exit 2, before it reads the project;
// ls -s a b listed a alone, and compile, validate, retry, debug and clean
// ignored what they were given.
func TestCommandsRefuseStrayArguments(t *testing.T) {
	dir := t.TempDir()
	for _, c := range commands() {
		switch c.name {
		case "docs", "env", "db", "help": // their arguments are subcommands
			continue
		}
		code, stdout, stderr := help("--project-dir", dir, c.name, "b")
		want := "strata " + c.name + ` : unexpected argument "b"`
		want = strings.Replace(want, " :", ":", 1)
		if code != ExitBadInput || stdout != "" || !strings.HasPrefix(stderr, want) {
			t.Errorf("strata %s b: exit %d, stdout %q, stderr %q; want 2 and %q", c.name, code, stdout, stderr, want)
		}
	}
	code, _, stderr := help("--project-dir", dir, "ls", "-s", "a", "b")
	if want := `strata ls: unexpected argument "b" (selectors go after --select; quote several: -s 'a b')` + "\n"; code != ExitBadInput || stderr != want {
		t.Errorf("strata ls -s a b: exit %d, stderr %q; want 2 and %q", code, stderr, want)
	}
}

// TestCommandFlagBeforeTheCommand: a command's own flag typed before the
// command (strata --threads 4 build) is refused with the same command line
// put right, global flags left where they were and quoted words kept whole,
// not with the whole help (which said only "unknown flag --threads before
// the command").
func TestCommandFlagBeforeTheCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--threads", "4", "build"}, "strata build --threads 4\n"},
		{[]string{"--target", "dev", "-s", "a b", "run", "--full-refresh"}, "strata --target dev run -s 'a b' --full-refresh\n"},
		{[]string{"--vars=k: it's", "compile"}, `strata compile '--vars=k: it'\''s'` + "\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := help(tt.args...)
		if code != ExitBadInput || stdout != "" || strings.Count(stderr, "\n") != 1 ||
			!strings.Contains(stderr, "before the command: only --project-dir, --target, --log-format and --no-color go before it") ||
			!strings.HasSuffix(stderr, ": "+tt.want) {
			t.Errorf("strata %q: exit %d, stdout %q, stderr %q; want exit 2 and one line ending %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
	// With no command after it, nothing to put right: the help follows.
	if code, _, stderr := help("--threads", "4"); code != ExitBadInput || !strings.Contains(stderr, "unknown flag --threads before the command\n") || !strings.Contains(stderr, "Usage:") {
		t.Errorf("strata --threads 4: exit %d, stderr %q; want the flag named and the help", code, stderr)
	}
}

// TestRetryNoWaitSaysItChangesNothing: retry never waits for the run lock
// (it fails while a run holds it), so its help must not offer --no-wait as
// "fail instead of waiting", as every other run command's does.
func TestRetryNoWaitSaysItChangesNothing(t *testing.T) {
	_, out, _ := help("retry", "--help")
	_, after, _ := strings.Cut(out, "--no-wait")
	if line := strings.Join(strings.Fields(after), " "); !strings.HasPrefix(line, "taken and changes nothing: retry never waits") {
		t.Errorf("strata retry --help, --no-wait: %q; want it said to change nothing", line)
	}
	_, out, _ = help("build", "--help")
	if !strings.Contains(out, "fail instead of waiting when another run holds the") {
		t.Errorf("strata build --help lost --no-wait's meaning:\n%s", out)
	}
}
