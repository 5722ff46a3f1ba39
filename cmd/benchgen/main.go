// Command benchgen writes the generated project of a benchmark into a
// folder, for timing the strata binary on it by hand (see BENCHMARKS.md):
//
//	go run ./cmd/benchgen compile [--models 10000] DIR   # BenchmarkCompile10k, BenchmarkValidate10k
//	go run ./cmd/benchgen docs [--models 5000] DIR       # BenchmarkDocsGenerate5000
//	go run ./cmd/benchgen check [--models 2000] DIR      # BenchmarkCheck2000, on the local target
//	/usr/bin/time -v bin/strata --project-dir DIR compile
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"strata/internal/benchproject"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `usage: benchgen compile [--models N] DIR   the project of BenchmarkCompile10k and BenchmarkValidate10k
       benchgen docs [--models N] DIR      the project of BenchmarkDocsGenerate5000
       benchgen check [--models N] DIR     the project of BenchmarkCheck2000, on a local target`

// offlineTarget is the docs project's target: docs generate --offline never
// connects to it.
const offlineTarget = "{type: postgres, url: 'postgres://nobody@127.0.0.1:1/none'}"

// localTarget is the check project's target: a cluster strata runs in the
// project's folder (the benchmark uses the test harness's instead).
const localTarget = "{type: local, threads: 4}"

// run is the whole command; it returns the exit code: 0 written, 1 the
// files could not be written, 2 the command line is wrong.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	cmd := args[0]
	defaults := map[string]int{"compile": 10000, "docs": 5000, "check": 2000}
	if _, ok := defaults[cmd]; !ok {
		if cmd == "-h" || cmd == "--help" {
			fmt.Fprintln(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "benchgen: %q is not a project (expected compile, docs or check)\n%s\n", cmd, usage)
		return 2
	}
	fs := pflag.NewFlagSet("benchgen "+cmd, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	models := fs.Int("models", defaults[cmd], "number of models")
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "benchgen: %v\n", err)
		return 2
	}
	if fs.NArg() != 1 || *models < 1 {
		fmt.Fprintf(stderr, "benchgen %s: want one folder and --models of at least 1\n%s\n", cmd, usage)
		return 2
	}
	dir := fs.Arg(0)
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		fmt.Fprintf(stderr, "benchgen: %s is not empty (give a new or empty folder)\n", dir)
		return 2
	}
	var err error
	switch cmd {
	case "compile":
		err = benchproject.TwoRefs(dir, *models)
	case "docs":
		err = benchproject.Layers(dir, *models, offlineTarget)
	case "check":
		err = benchproject.Layers(dir, *models, localTarget)
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchgen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote the %s benchmark's project of %d models to %s\n", cmd, *models, dir)
	return 0
}
