package pipeline

import (
	"context"
	"fmt"

	"strata/engine/adapter/postgres"
	"strata/engine/manifest"
	"strata/engine/pgname"
	"strata/engine/run"
	"strata/engine/state"
)

// TakenError is a model or seed refused because another project on the
// database builds its relation: the two would replace each other's rows
// at every build, each project's record saying nothing was wrong.
type TakenError struct{ state.Taken }

func (e *TakenError) Error() string {
	return fmt.Sprintf("refusing to replace %s: %s; nothing was changed. %s", e.Relation, e.Why(), e.Fix())
}

// Why is whose the relation is.
func (e *TakenError) Why() string {
	where := "target " + e.Target
	if e.Env != "" {
		where += ", environment " + e.Env
	}
	return fmt.Sprintf("%s %s of project %s (%s) built it, last at %s, and builds it still: two projects that build one relation replace each other's rows",
		e.Kind, e.Name, e.Project, where, e.BuiltAt.UTC().Format("2006-01-02 15:04:05Z"))
}

// Fix is what to do.
func (e *TakenError) Fix() string {
	return fmt.Sprintf("Give this %s (or project %s's) another schema or alias; if it moved here from project %s, run a build of %s without it first (that run records that %s builds it no more), then build this one",
		kindWord(e.Kind), e.Project, e.Project, e.Project, e.Project)
}

func kindWord(kind string) string {
	if kind == "seed" {
		return "seed"
	}
	return "model"
}

// takenElsewhere are the models and seeds of order whose relation
// another project on the database built last and builds still
// (state.TakenElsewhere), by id. One query, before the first node.
func (l *Project) takenElsewhere(ctx context.Context, db *postgres.Adapter, order []string) (map[string]error, error) {
	byRel := map[pgname.Rel][]string{}
	var rels []pgname.Rel
	for _, id := range order {
		n := l.Manifest.Nodes[id]
		if n == nil || n.Kind != manifest.Model && n.Kind != manifest.Seed || n.Ephemeral() || n.Relation.Name == "" {
			continue
		}
		if byRel[n.Relation] == nil {
			rels = append(rels, n.Relation)
		}
		byRel[n.Relation] = append(byRel[n.Relation], id)
	}
	if len(rels) == 0 {
		return nil, nil
	}
	taken, err := state.TakenElsewhere(ctx, db.Shared(), l.Scope(), rels)
	if err != nil {
		return nil, err
	}
	out := map[string]error{}
	for _, t := range taken {
		for _, id := range byRel[t.Relation] {
			if out[id] == nil {
				out[id] = &TakenError{t}
			}
		}
	}
	return out, nil
}

// refuseTaken fails the nodes of taken before they run, each with its
// error; the walker skips what depends on them.
func refuseTaken(taken map[string]error, exec func(ctx context.Context, id string) run.Result) func(ctx context.Context, id string) run.Result {
	if len(taken) == 0 {
		return exec
	}
	return func(ctx context.Context, id string) run.Result {
		if err := taken[id]; err != nil {
			return run.Result{ID: id, Status: run.Error, Message: err.Error(), Err: err}
		}
		return exec(ctx, id)
	}
}
