// Command strata builds a SQL transformation project in PostgreSQL.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"strata/engine/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
