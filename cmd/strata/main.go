// Command strata builds a SQL transformation project in PostgreSQL.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"strata/engine/cli"
)

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C or SIGTERM cancels what runs (statements are
	// cancelled on the server and rolled back); a second one, once the
	// default handling is back, ends strata at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// tuneGC lets the heap grow to four times what is live before collecting
// (GOGC=300) instead of twice: strata runs for seconds and most of what it
// allocates while loading a project stays live until it exits, so the default
// spends a fifth of `strata compile` of 10,000 models collecting (1.25 s ->
// 1.0-1.07 s, 280 -> 290-325 MB peak). A soft limit of 1 GiB makes the
// collector work harder instead on projects large enough to need it. GOGC
// and GOMEMLIMIT, when set, win.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(300)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(1 << 30)
	}
}
