package cli

import (
	"context"
	"errors"
	"fmt"

	"strata/engine/pgname"
	"strata/engine/pipeline"
	"strata/engine/plan"
	"strata/engine/state"
)

func cmdPlan(ctx context.Context, a *app, args []string) int {
	f := a.newFlags("plan", true)
	f.fs.StringVarP(&f.output, "output", "o", "text", "text, markdown (a pull-request comment) or json")
	f.fs.StringVar(&f.env, "env", "", "the environment the build would go to (default: production)")
	_ = f.fs.MarkHidden("state") // refused below: plan compares with production's recorded state
	if code, done := a.parse(f, args); done {
		return code
	}
	if f.output != "text" && f.output != "markdown" && f.output != "json" {
		fmt.Fprintf(a.stderr, "strata plan: --output must be text, markdown or json, got %q\n", f.output)
		return ExitBadInput
	}
	if code, done := a.noArgs(f); done {
		return code
	}
	if f.state != "" {
		fmt.Fprintln(a.stderr, "strata plan: --state is not for plan: it compares with what production recorded in the target")
		return ExitBadInput
	}
	// The project is loaded as production places it: the diffs and the
	// columns compare with production's; --env names where the build goes.
	env := f.env
	f.env = ""
	l, diags, ok := a.load(ctx, f)
	a.printDiags(diags)
	if !ok {
		return ExitBadInput
	}
	if env != "" {
		if err := pgname.CheckEnv(env, l.EnvSchemas()); err != nil {
			fmt.Fprintf(a.stderr, "strata plan: --env: %v\n", err)
			return ExitBadInput
		}
	}
	db, err := l.Connect(ctx, 1)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(a.stderr, "strata plan: cancelled while connecting to target %s; nothing was changed\n", l.Target.Name)
			return ExitCancelled
		}
		fmt.Fprintf(a.stderr, "strata plan: target %s: %s\n", l.Target.Name, oneLine(err.Error()))
		return ExitFailed
	}
	defer db.Close()
	explicit := len(f.selects) > 0 || len(f.excludes) > 0
	p, err := l.Plan(ctx, db, pipeline.PlanOptions{Selection: pipeline.Selection{Select: f.selects, Exclude: f.excludes}, Explicit: explicit, Env: env})
	var newer *state.NewerError
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(a.stderr, "strata plan: cancelled; nothing was changed")
		return ExitCancelled
	case errors.As(err, &newer):
		fmt.Fprintf(a.stderr, "strata plan: target %s: %v\n", l.Target.Name, err)
		return ExitFailed
	case err != nil:
		fmt.Fprintf(a.stderr, "strata plan: %v\n", err)
		return ExitBadInput
	}
	if err := plan.Write(a.stdout, p, f.output); err != nil {
		fmt.Fprintf(a.stderr, "strata plan: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}
