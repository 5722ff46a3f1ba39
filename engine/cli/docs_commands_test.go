package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"strata/engine/internal/mdsnip"
)

// cliFlags is what a command's --help lists: its flags by long name with
// the values a flag takes when its help names them (text|json), and its
// short names.
type cliFlags struct {
	long  map[string][]string // "output" -> [text json]; nil: any value, or none
	value map[string]bool     // the flags that take a value
	short map[string]string   // "s" -> "select"
	own   []string            // the command's own flags, in help order
}

// helpFlagRe is one flag of a help: its short name, long name and value.
var helpFlagRe = regexp.MustCompile(`(?m)^  (?:-(\w), |    )--([a-z0-9-]+)(?: ([^ ]+))?`)

// commandFlags is every command's flags, as its --help lists them (the
// flags of its pflag.FlagSet), by command: "build", "docs serve", ...; the
// subcommands of env and db take the flags of env and db.
func commandFlags(t *testing.T) map[string]cliFlags {
	t.Helper()
	out := map[string]cliFlags{}
	names := []string{"docs generate", "docs serve"}
	for _, c := range commands() {
		if c.name != "help" {
			names = append(names, c.name)
		}
	}
	for _, name := range names {
		code, help, stderr := help(append(strings.Fields(name), "--help")...)
		if code != ExitOK {
			t.Fatalf("strata %s --help: exit %d: %s", name, code, stderr)
		}
		f := cliFlags{long: map[string][]string{}, value: map[string]bool{}, short: map[string]string{}}
		own, _, _ := strings.Cut(help, "\nGlobal flags:\n")
		ownFlags := listed(own + "\n\n")
		for _, m := range helpFlagRe.FindAllStringSubmatch(help, -1) {
			short, long, value := m[1], m[2], m[3]
			f.long[long] = nil
			if value != "" {
				f.value[long] = true
				if strings.Contains(value, "|") {
					f.long[long] = strings.Split(value, "|")
				}
			}
			if short != "" {
				f.short[short] = long
			}
		}
		f.short["h"], f.long["help"] = "help", nil
		f.own = ownFlags
		out[name] = f
	}
	return out
}

// subcommands are the subcommands of db, docs and env, as their helps list them.
func subcommands() map[string][]string {
	out := map[string][]string{}
	for _, c := range []string{"db", "docs", "env"} {
		for _, s := range helps[c].subs {
			out[c] = append(out[c], strings.Fields(s.line)[0])
		}
	}
	return out
}

// docCommand is one strata command line of the documentation.
type docCommand struct {
	pos  string // file:line
	line string // from strata on
}

// strataRe finds strata run as a command: at the start of a line or of a
// code span, or after a shell operator, $(, a quote or = (ExecStart=), by
// any path (bin/strata, /srv/shop/bin/strata).
var strataRe = regexp.MustCompile(`(?:^|[\s;|&("'=])(?:[\w./-]*/)?strata\s+\S`)

// docCommands are the strata command lines of the documentation: in the
// blocks of a language (sh, cron, ini, python, yaml ...), the $ lines of
// output blocks, and the code spans of the text.
func docCommands(t *testing.T) []docCommand {
	t.Helper()
	root := repoRoot(t)
	files, err := mdsnip.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []docCommand
	add := func(pos, text string) {
		for _, loc := range strataRe.FindAllStringIndex(text, -1) {
			s := text[loc[0]:]
			quote := s[0]
			s = s[strings.Index(s, "strata "):]
			if quote == '"' || quote == '\'' {
				// A command in a string (Airflow's bash_command="..."): up to its end.
				if end := strings.IndexByte(s, quote); end >= 0 {
					s = s[:end]
				}
			}
			out = append(out, docCommand{pos, strings.TrimSpace(s)})
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := mdsnip.Parse(f, string(data))
		if err != nil {
			t.Fatal(err)
		}
		inBlock := map[int]bool{}
		for _, b := range blocks {
			lines := strings.Split(strings.TrimSuffix(b.Text, "\n"), "\n")
			for i := 0; i <= len(lines)+1; i++ {
				inBlock[b.Line+i] = true
			}
			for i, l := range lines {
				pos := fmt.Sprintf("%s:%d", f, b.Line+1+i)
				switch {
				case b.Lang == "sh" || b.Lang == "bash" || b.Lang == "console" || b.Lang == "cron":
					add(pos, shellComment.ReplaceAllString(strings.TrimPrefix(l, "$ "), ""))
				case b.Lang != "":
					// ini (ExecStart=), python (bash_command=), yaml (run:)
					add(pos, shellComment.ReplaceAllString(l, ""))
				case strings.HasPrefix(l, "$ "):
					add(pos, l[2:])
				}
			}
		}
		for i, l := range strings.Split(string(data), "\n") {
			if inBlock[i+1] {
				continue
			}
			for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(l, -1) {
				add(fmt.Sprintf("%s:%d", f, i+1), m[1])
			}
		}
	}
	return out
}

// shellComment is a comment at the end of a shell line.
var shellComment = regexp.MustCompile(`(^|\s)#.*$`)

// shellWords splits a command line into words as a shell would, up to
// what ends the command: a comment, a pipe, a redirection, ; && || or ).
func shellWords(line string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case !inWord && (r == '#' || r == '|' || r == '>' || r == ';' || r == '&' || r == ')'):
			return words
		case inWord && (r == ')' || r == ';'):
			return append(words, w.String())
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// placeholderRe is a word the documentation writes for one the reader
// chooses: COMMAND, NAME, ...
var placeholderRe = regexp.MustCompile(`^[A-Z][A-Z_]*$`)

// commandRe is a word that may be a command.
var commandRe = regexp.MustCompile(`^[a-z][a-z-]*$`)

// checkDocCommand says what is wrong with the strata command line words
// (words[0] is strata), "" if nothing: a command, subcommand or flag that
// does not exist, a value a flag does not take.
//
// dbt, on the page for dbt users, allows the dbt commands and flags that
// the CLI answers with what to write instead (dbtCommands, dbtFlags).
func checkDocCommand(words []string, dbt bool, flags map[string]cliFlags, subs map[string][]string) string {
	global := flags["clean"] // every command takes the global flags
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	i := 1
	// The global flags before the command.
	for i < len(words) && strings.HasPrefix(strings.Trim(words[i], "[]"), "-") {
		w := strings.Trim(words[i], "[]")
		name, _, hasValue := strings.Cut(strings.TrimPrefix(w, "--"), "=")
		if w == "--help" || w == "-h" || w == "--version" {
			return ""
		}
		if _, ok := global.long[name]; !ok || !strings.HasPrefix(w, "--") {
			return fmt.Sprintf("%s is not a global flag (strata --help lists them)", w)
		}
		i++
		if global.value[name] && !hasValue {
			i++
		}
	}
	if i >= len(words) {
		return ""
	}
	cmd := words[i]
	if placeholderRe.MatchString(cmd) {
		return "" // strata COMMAND --help
	}
	if !slices.Contains(names, cmd) {
		if !commandRe.MatchString(cmd) {
			return "" // strata ..., a message (strata run: ...), a path (go build -o bin/strata ./cmd/strata)
		}
		if _, ok := dbtCommands[cmd]; ok && dbt {
			return "" // typed out of habit: the CLI answers it
		}
		return fmt.Sprintf("strata has no command %q", cmd)
	}
	i++
	if cmd == "help" {
		if i < len(words) && !slices.Contains(names, words[i]) && !placeholderRe.MatchString(words[i]) {
			return fmt.Sprintf("strata help %s: strata has no command %q", words[i], words[i])
		}
		return ""
	}
	fs := cmd
	if s, ok := subs[cmd]; ok && i < len(words) && !strings.HasPrefix(words[i], "-") {
		for _, sub := range strings.Split(words[i], "|") { // db start|stop|status
			if !slices.Contains(s, sub) && !placeholderRe.MatchString(sub) {
				return fmt.Sprintf("strata %s has no subcommand %q (it has %s)", cmd, sub, strings.Join(s, ", "))
			}
		}
		if cmd == "docs" {
			fs = "docs " + words[i]
		}
		i++
	}
	f := flags[fs]
	psql := cmd == "db" && i > 0 && words[i-1] == "psql"
	for ; i < len(words); i++ {
		w := strings.TrimLeft(words[i], "[")
		w = strings.TrimRight(w, "]")
		if !strings.HasPrefix(w, "-") || w == "-" || w == "--" {
			if psql {
				return "" // psql's arguments from here on
			}
			continue
		}
		var name, value string
		var hasValue bool
		if strings.HasPrefix(w, "--") {
			name, value, hasValue = strings.Cut(w[2:], "=")
		} else {
			name = f.short[w[1:]]
			if name == "" {
				if psql || dbt && dbtFlags[w] != "" {
					return ""
				}
				return fmt.Sprintf("strata %s has no flag %s (strata %s --help lists its flags)", fs, w, fs)
			}
		}
		choices, ok := f.long[name]
		if !ok {
			if psql || dbt && dbtFlags["--"+name] != "" {
				return ""
			}
			return fmt.Sprintf("strata %s has no flag --%s (strata %s --help lists its flags)", fs, name, fs)
		}
		if !f.value[name] {
			continue
		}
		if !hasValue {
			if i+1 >= len(words) {
				break
			}
			i++
			value = strings.TrimRight(words[i], "]")
		}
		if choices == nil || value == "..." || placeholderRe.MatchString(value) {
			continue
		}
		for _, v := range strings.Split(value, "|") {
			if !slices.Contains(choices, v) {
				return fmt.Sprintf("strata %s --%s takes %s, not %q", fs, name, strings.Join(choices, ", "), v)
			}
		}
	}
	return ""
}

// refusedOnPurpose are command lines the docs show as mistakes, which
// strata refuses with exit 2 and what to write instead.
var refusedOnPurpose = map[string]bool{
	"strata --threads 4 build": true,
}

// foreignFlags are flags the documentation names that are not strata's:
// the example's data generator's and psql's.
var foreignFlags = map[string]string{
	"--day": "cmd/gendata", "--scale": "cmd/gendata", "--seed": "cmd/gendata",
	"--help=variables": "psql", "--help=commands": "psql",
}

// TestDocsCommands: every strata command line of the user documentation
// (docs/*.md, README.md: shell blocks, $ lines, code spans) names a command,
// subcommand and flags that exist, with a value the flag takes; a flag
// written alone in a code span (`--no-defer`) is one of strata's (or a dbt
// flag the CLI answers, or the example generator's or psql's); and every
// flag of every command is in docs/commands.md.
func TestDocsCommands(t *testing.T) {
	flags := commandFlags(t)
	subs := subcommands()
	cmds := docCommands(t)
	if len(cmds) < 100 {
		t.Fatalf("found %d strata command lines in the documentation, want 100 or more", len(cmds))
	}
	for _, c := range cmds {
		dbt := strings.HasPrefix(c.pos, "docs/coming-from-dbt.md:")
		words := shellWords(c.line)
		msg := checkDocCommand(words, dbt, flags, subs)
		if msg != "" && refusedOnPurpose[c.line] {
			// The docs show it as a mistake: strata must refuse it.
			if code, _, stderr := help(append([]string{"--project-dir", t.TempDir()}, words[1:]...)...); code != ExitBadInput || !strings.HasPrefix(stderr, "strata") {
				t.Errorf("%s: %s: the docs show it refused, but strata exits %d: %s", c.pos, c.line, code, stderr)
			}
			continue
		}
		if msg != "" {
			t.Errorf("%s: %s: %s", c.pos, c.line, msg)
		}
	}

	// A flag alone in a code span; a dbt flag the CLI answers, on a line
	// that says it is dbt's.
	all := map[string]bool{"--help": true, "-h": true, "--version": true}
	for _, f := range flags {
		for l := range f.long {
			all["--"+l] = true
		}
		for s := range f.short {
			all["-"+s] = true
		}
	}
	root := repoRoot(t)
	files, err := mdsnip.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	spanFlag := regexp.MustCompile("`(--[a-z][a-z0-9-]*(?:=[a-z]+)?)[ `]")
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		for i, l := range lines {
			for _, m := range spanFlag.FindAllStringSubmatch(l, -1) {
				flag := m[1]
				dbt := f == "docs/coming-from-dbt.md" || strings.Contains(l, "dbt") || i > 0 && strings.Contains(lines[i-1], "dbt")
				if all[flag] || foreignFlags[flag] != "" || dbtFlags[flag] != "" && dbt {
					continue
				}
				t.Errorf("%s:%d: %s is no flag of strata's", f, i+1, flag)
			}
		}
	}

	// Every flag of every command, in docs/commands.md.
	doc := readDoc(t, "commands.md")
	var names []string
	for name := range flags {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, l := range flags[name].own {
			if !strings.Contains(doc, "`--"+l) && !strings.Contains(doc, "[--"+l) && !strings.Contains(doc, " --"+l) {
				t.Errorf("docs/commands.md does not mention --%s, a flag of strata %s", l, name)
			}
		}
		if !strings.Contains(doc, "\n## "+strings.Fields(name)[0]+"\n") {
			t.Errorf("docs/commands.md has no section ## %s", strings.Fields(name)[0])
		}
	}
	for cmd, ss := range subs {
		for _, sub := range ss {
			if !strings.Contains(doc, "`"+sub) && !strings.Contains(doc, "`"+cmd+" "+sub) {
				t.Errorf("docs/commands.md does not mention strata %s %s", cmd, sub)
			}
		}
	}
}

// TestDocsFlagTables: the tables of docs/commands.md that say which
// commands take a flag (| flag | meaning | taken by |) name exactly the
// commands whose --help lists it.
func TestDocsFlagTables(t *testing.T) {
	flags := commandFlags(t)
	doc := readDoc(t, "commands.md")
	rows := 0
	inTable := false
	var prev []string
	tick := regexp.MustCompile("`([^`]+)`")
	for i, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, "| flag | meaning | taken by |") {
			inTable = true
			continue
		}
		if !inTable || strings.HasPrefix(l, "|---") {
			continue
		}
		if !strings.HasPrefix(l, "|") {
			inTable = false
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), " | ")
		if len(cells) < 3 {
			t.Fatalf("docs/commands.md:%d: a row of a flag table without its three cells", i+1)
		}
		taken := cells[len(cells)-1]
		var said []string
		if strings.TrimSpace(taken) == "the same" {
			said = prev
		} else {
			for _, m := range tick.FindAllStringSubmatch(taken, -1) {
				said = append(said, m[1])
			}
			if strings.Contains(taken, "except `plan`") {
				said = slices.DeleteFunc(slices.Clone(prev), func(c string) bool { return c == "plan" })
			}
		}
		prev = said
		for _, m := range tick.FindAllStringSubmatch(cells[0], -1) {
			flag := strings.Fields(m[1])[0]
			name := strings.TrimPrefix(flag, "--")
			if !strings.HasPrefix(flag, "--") {
				continue // -s, written with --select
			}
			rows++
			var takers []string
			for cmd, f := range flags {
				if slices.Contains(f.own, name) && !strings.HasPrefix(cmd, "docs ") {
					takers = append(takers, cmd)
				}
			}
			sort.Strings(takers)
			got := slices.Clone(said)
			sort.Strings(got)
			if !slices.Equal(got, takers) {
				t.Errorf("docs/commands.md:%d: %s is taken by %v, says the table; the commands' --help lists it for %v", i+1, flag, got, takers)
			}
		}
	}
	if rows < 10 {
		t.Errorf("read %d rows of flag tables in docs/commands.md, want 10 or more", rows)
	}
}
