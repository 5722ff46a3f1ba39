package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"strata/engine/diag"
)

// commandHelp is what `strata COMMAND --help` says before the flags: what
// the command does, one or two examples, its subcommands, and the page of
// docs/ that describes it.
type commandHelp struct {
	about    string
	examples []example
	subs     []example // subcommands: the word and what it does
	usage    string    // the usage line after "strata "; default "COMMAND [flags]"
	doc      string    // the docs/ page (and anchor) that describes the command
}

type example struct{ line, does string }

// helps holds the help of every command, by name; "docs generate" and
// "docs serve" are the docs subcommands'. A command without an entry fails
// TestEveryCommandHasHelp.
var helps = map[string]commandHelp{
	"seed": {
		about: "Loads the selected seeds (seeds/**/*.csv and .csv.gz) into their tables with COPY, each in one transaction. " +
			"An unchanged file is skipped and a file that only grew gets its new rows appended, unless --full-refresh.",
		examples: []example{
			{"strata seed", "load every seed that changed"},
			{"strata seed -s raw_orders --full-refresh", "reload one seed from scratch"},
		},
		doc: "docs/commands.md#seed",
	},
	"run": {
		about: "Builds the selected models in dependency order, --threads at a time. Each model replaces its relation atomically, " +
			"and a failure skips only what depends on it. Tests are not run (use build, or test afterwards), " +
			"unless --audit: then each model's error-severity tests read its new version before it is published.",
		examples: []example{
			{"strata run", "build every model"},
			{"strata run -s +fact_orders", "fact_orders and everything it is built from"},
		},
		doc: "docs/commands.md#run",
	},
	"test": {
		about: "Runs the selected tests: data tests against what is built, each passing when its query returns no rows, " +
			"and unit tests, which need nothing built (-s test_type:unit or test_type:data for one kind). " +
			"An error-severity test that fails fails the command (exit 1), a warn-severity one only warns.",
		examples: []example{
			{"strata test", "run every test"},
			{"strata test -s daily_sales", "the tests of the model daily_sales"},
		},
		doc: "docs/commands.md#test",
	},
	"build": {
		about: "Loads the selected seeds, builds the selected models and runs the selected tests in one graph, --threads at a time. " +
			"A model's unit tests run before it is built; its error-severity tests read its new version before it is published, " +
			"and one that fails keeps the previous version live (write-audit-publish; --no-audit tests after publishing). " +
			"Anything whose parent failed is skipped.",
		examples: []example{
			{"strata build", "the whole project"},
			{"strata build -s state:modified+", "what changed since production's last build, and what depends on it"},
		},
		doc: "docs/commands.md#build",
	},
	"compile": {
		about: "Renders the selected models and tests to target/compiled/ and writes target/manifest.json, " +
			"without connecting to the database (is_incremental renders as false). With --env, the SQL a build in that " +
			"environment would run: what is not selected reads production's relations, recorded in the target " +
			"(with --no-defer, offline, the selection's ancestors are the environment's).",
		examples: []example{
			{"strata compile", "render everything"},
			{"strata compile -s daily_sales --vars 'start_date: 2024-06-01'", "one model, with a var set"},
			{"strata compile --env pr_42 -s state:modified+", "the SQL a pull request's build would run"},
		},
		doc: "docs/commands.md#compile",
	},
	"validate": {
		about: "Checks everything that needs no database and reports every problem at once, each at its file, line and column: " +
			"YAML and its keys, config values, refs and sources, cycles, every template, hooks, tests and their arguments, " +
			"seed headers and exposures. Exit 0 (warnings allowed) or 2. Made for CI.",
		examples: []example{
			{"strata validate", "check the whole project"},
			{"strata validate -s tag:nightly", "also check that a selector names something"},
		},
		doc: "docs/commands.md#validate",
	},
	"check": {
		about: "Proves the selected models against the target's PostgreSQL without building anything, in one transaction " +
			"that is always rolled back: each model becomes a view of the SQL a build would run, in graph order. " +
			"It reports every error at once at its file, line and column, what each model produces (columns and types, " +
			"against its YAML) and the upstream columns it reads, in target/check.json. " +
			"Exit 0 all proven, 1 a node failed, 2 the project or command line is wrong or the target cannot be reached.",
		examples: []example{
			{"strata check", "prove every model"},
			{"strata check -s state:modified+ --state prod-state -o json", "what changed and what depends on it, as JSON"},
		},
		doc: "docs/check.md",
	},
	"plan": {
		about: "Compares the project with what production recorded in the target and prints, changing nothing: " +
			"added, removed, directly and indirectly modified models (with a diff of the compiled SQL), config changes, " +
			"each changed model's added, removed and retyped columns and the models downstream that read them, " +
			"whether an incremental or scd2 model needs a full refresh, the parents the build reads but does not select that are " +
			"missing, stale or changed by hand, and what build would rebuild (default state:modified+) " +
			"with row estimates. Exit 0.",
		examples: []example{
			{"strata plan", "what a build of what changed would do in production"},
			{"strata plan --env pr_42 -o markdown", "as a pull-request comment, for environment pr_42"},
		},
		doc: "docs/environments.md#plan",
	},
	"env": {
		about: "Lists or drops the environments of the project on the target: the schemas <schema>__NAME that " +
			"build --env NAME builds in.",
		usage: "env ls | env drop NAME",
		subs: []example{
			{"ls", "each environment: name, models, size on disk, last build"},
			{"drop NAME", "drop what strata recorded for NAME, its schemas once empty, and its records, in one transaction; refuses prod"},
		},
		examples: []example{
			{"strata build --env pr_42 -s state:modified+", "build what changed in environment pr_42"},
			{"strata env drop pr_42", "and drop it once merged"},
		},
		doc: "docs/environments.md#env-ls-env-drop",
	},
	"ls": {
		about: "Prints the selected nodes, one per line, sorted by id. It lists models, seeds, sources and exposures; " +
			"a test is listed when a selector picks it by itself (its name, resource_type:test, test_type:...) " +
			"or --resource-type asks for tests, not because the model it tests is selected.",
		examples: []example{
			{"strata ls -s +fact_orders", "fact_orders and everything it is built from"},
			{"strata ls -s config.materialized:table --output path", "the files of the table models, each once"},
			{"strata ls -s fact_orders --output json --env pr_42", "fact_orders as environment pr_42 names it: its relation, its SQL"},
		},
		doc: "docs/commands.md#ls",
	},
	"retry": {
		about: "Reads target/run_results.json and runs again, with the same command, flags (--vars, --full-refresh, ...) and target, " +
			"every node that failed or was skipped in the last run, or that a killed run did not finish, and the on-run-end hooks when they failed. " +
			"A flag given to retry overrides the recorded one; --target (or STRATA_TARGET) and --env choose the run: the last one on that target and in that environment (target/runs/). " +
			"While a run there is going on (it holds the run lock), retry runs nothing and exits with 1, instead of waiting for it.",
		examples: []example{
			{"strata retry", "run again what failed, or finish a killed run, as it was run"},
			{"strata retry --threads 1", "the same, one node at a time"},
			{"strata retry --target prod", "finish the last run on target prod, whatever ran on other targets since"},
		},
		doc: "docs/commands.md#retry",
	},
	"docs": {
		about: "The documentation site of the project: lineage, models, columns, tests, the last results, " +
			"and the dashboards declared as exposures, as static files under target/docs/.",
		usage: "docs generate|serve [flags]",
		subs: []example{
			{"generate", "write the site to target/docs/"},
			{"serve", "serve target/docs/ on 127.0.0.1, regenerating it when the project or its results changed"},
		},
		examples: []example{
			{"strata docs generate", "write the site"},
			{"strata docs serve --port 8081", "browse it on http://127.0.0.1:8081/"},
		},
		doc: "docs/docs-site.md",
	},
	"docs generate": {
		about: "Writes the documentation site to target/docs/. It reads the database for column types and the dashboards' data; " +
			"when the database cannot be reached it says so and writes the site without them.",
		examples: []example{
			{"strata docs generate", "write the site"},
			{"strata docs generate --offline", "without reading the database"},
		},
		doc: "docs/docs-site.md",
	},
	"docs serve": {
		about: "Serves target/docs/ on http://127.0.0.1:PORT/ until Ctrl-C, generating the site first when it is missing, " +
			"and again when a page is asked for after the project or the last run's results changed.",
		examples: []example{
			{"strata docs serve", "on http://127.0.0.1:8080/"},
			{"strata docs serve --port 8081", "on another port"},
		},
		doc: "docs/docs-site.md",
	},
	"debug": {
		about: "Loads the project and connects to the target; prints the project, the target and the server's version. " +
			"Exit 0 when connected, 1 when the connection fails, 2 when the project has problems.",
		examples: []example{
			{"strata debug", "the default target"},
			{"strata debug --target prod", "another target"},
		},
		doc: "docs/commands.md#debug",
	},
	"db": {
		about: "Manages the private PostgreSQL of a target of type local, the one --target names " +
			"(strata also creates and starts it on first use); for a target with citus: {workers: N}, " +
			"the whole Citus cluster: coordinator and workers together.",
		usage: "db start|stop|status|url|psql [psql arguments]|destroy",
		subs: []example{
			{"start", "create the cluster if needed and start it"},
			{"stop", "stop it"},
			{"status", "say whether it runs; exit 0 running (every node), 3 stopped or not created yet"},
			{"url", "print its connection URL (Citus: the coordinator's), nothing else"},
			{"psql [ARGS]", "start it if needed and run psql on it, passing ARGS on"},
			{"destroy", "stop it and delete it with all its data, saying what it removed; asks nothing; refused for a target that is not local"},
		},
		examples: []example{
			{"strata db status", "is it running?"},
			{`psql "$(strata db url)" -c 'select 1'`, "connect with your own psql"},
		},
		doc: "docs/commands.md#db",
	},
	"help": {
		about: "Prints strata's help, or a command's: what it does, examples, and its flags.",
		usage: "help [COMMAND [SUBCOMMAND]]",
		examples: []example{
			{"strata help", "the commands"},
			{"strata help docs serve", "one command's help, as strata docs serve --help"},
		},
		doc: "docs/commands.md",
	},
	"clean": {
		about: "Removes the project's target/ folder; with --all, also the project's local PostgreSQL with its data (as db destroy). " +
			"It refuses (exit 2) when the folder holds no project.yaml, so a wrong --project-dir cannot remove another target/.",
		examples: []example{
			{"strata clean", "remove ./target/"},
			{"strata clean --all", "remove ./target/ and the local PostgreSQL"},
			{"strata --project-dir ../shop clean", "another project's"},
		},
		doc: "docs/commands.md#clean",
	},
}

// globalFlags are the flags every command accepts, before or after its name.
var globalFlags = []string{"project-dir", "target", "log-format", "no-color"}

// valueNames name the value a flag takes, in its help line; "COMMAND
// flag" is that command's own, where it differs.
var valueNames = map[string]string{
	"check output": "text|json", "plan output": "text|markdown|json", "env": "NAME",
	"select": "SELECTOR", "exclude": "SELECTOR", "state": "DIR", "threads": "N", "vars": "YAML",
	"project-dir": "DIR", "target": "NAME", "log-format": "text|json", "output": "name|path|json",
	"resource-type": "TYPE", "port": "N",
}

// usage prints strata's help: the commands, the global flags, where to read more.
func (a *app) usage(w io.Writer) {
	fmt.Fprintln(w, "strata builds SQL models, seeds and tests into PostgreSQL, in dependency order.")
	fmt.Fprintln(w, "\nUsage:")
	fmt.Fprintln(w, "  strata [global flags] COMMAND [flags]")
	fmt.Fprintln(w, "  strata help [COMMAND]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nGlobal flags (before or after the command):")
	fmt.Fprint(w, flagTable(a.newBareFlags("strata").fs, globalFlags, [][2]string{
		{"  -h, --help", "this help; strata COMMAND --help for a command's"},
		{"      --version", "print strata's version"},
	}))
	fmt.Fprintln(w, "\nRun 'strata help COMMAND' for what a command does, examples and its flags.")
	fmt.Fprintln(w, "Documentation: docs/README.md in the repository; every command: docs/commands.md.")
}

// cmdHelp is `strata help [COMMAND [SUBCOMMAND]]`: strata's help, or the
// command's, on stdout.
func cmdHelp(ctx context.Context, a *app, args []string) int {
	if len(args) == 0 {
		a.usage(a.stdout)
		return ExitOK
	}
	if args[0] == "-h" || args[0] == "--help" {
		a.commandHelp(a.stdout, "help", a.newBareFlags("help").fs)
		return ExitOK
	}
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
		if c.name == args[0] {
			return c.run(ctx, a, append(slices.Clone(args[1:]), "--help"))
		}
	}
	fmt.Fprintf(a.stderr, "strata help: unknown command %q%s\n", args[0], diag.DidYouMean(args[0], names))
	a.usage(a.stderr)
	return ExitBadInput
}

// commandHelp prints the help of command name (as helps has it) with the
// flags of fs: what it does, examples, usage, subcommands, its own flags,
// the global ones, and where to read more.
func (a *app) commandHelp(w io.Writer, name string, fs *pflag.FlagSet) {
	h := helps[name]
	if h.about != "" {
		fmt.Fprintln(w, wrap(h.about, 78, ""))
	}
	if len(h.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		fmt.Fprint(w, twoColumns(h.examples, "  "))
	}
	usage := h.usage
	if usage == "" {
		usage = name + " [flags]"
	}
	fmt.Fprintln(w, "\nUsage:\n  strata "+usage)
	if len(h.subs) > 0 {
		fmt.Fprintln(w, "\nSubcommands:")
		fmt.Fprint(w, twoColumns(h.subs, "  "))
	}
	var own []string
	fs.VisitAll(func(f *pflag.Flag) {
		if !slices.Contains(globalFlags, f.Name) && !f.Hidden {
			own = append(own, f.Name)
		}
	})
	if len(own) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		fmt.Fprint(w, flagTable(fs, own, nil))
	}
	fmt.Fprintln(w, "\nGlobal flags:")
	fmt.Fprint(w, flagTable(fs, globalFlags, [][2]string{{"  -h, --help", "this help"}}))
	if h.doc != "" {
		fmt.Fprintf(w, "\nMore: %s\n", h.doc)
	}
}

// flagTable renders the flags of fs named in names (those it has), in
// that order, then extra lines, as two aligned columns. A bool flag is
// written --flag, a flag with a value --flag VALUE.
func flagTable(fs *pflag.FlagSet, names []string, extra [][2]string) string {
	var rows [][2]string
	for _, name := range names {
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		left := "      --" + f.Name
		if f.Shorthand != "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		value, ok := valueNames[fs.Name()+" "+f.Name]
		if !ok {
			value = valueNames[f.Name]
		}
		usage := f.Usage
		if value == "" {
			value, usage = pflag.UnquoteUsage(f)
			value = strings.ToUpper(value)
		}
		if f.Value.Type() != "bool" {
			left += " " + value
		}
		if d := f.DefValue; f.Value.Type() != "bool" && d != "" && d != "0" && d != "[]" && !slices.Contains(globalFlags, f.Name) {
			usage += " (default " + d + ")"
		}
		rows = append(rows, [2]string{left, usage})
	}
	rows = append(rows, extra...)
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s  %s\n", width, r[0], wrap(r[1], 78-width-2, strings.Repeat(" ", width+2)))
	}
	return b.String()
}

// twoColumns renders examples or subcommands as aligned columns.
func twoColumns(rows []example, indent string) string {
	width := 0
	for _, r := range rows {
		width = max(width, len(r.line))
	}
	var b strings.Builder
	for _, r := range rows {
		if width > 40 {
			// A long command line gets its explanation on the next line.
			fmt.Fprintf(&b, "%s%s\n%s    %s\n", indent, r.line, indent, r.does)
			continue
		}
		fmt.Fprintf(&b, "%s%-*s  %s\n", indent, width, r.line, wrap(r.does, 78-len(indent)-width-2, strings.Repeat(" ", len(indent)+width+2)))
	}
	return b.String()
}

// wrap breaks s into lines of at most width characters (a longer word
// stays whole), indenting the lines after the first with indent.
func wrap(s string, width int, indent string) string {
	width = max(width, 20)
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		switch {
		case i == 0:
		case n+1+len(word) > width:
			b.WriteString("\n" + indent)
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
