package postgres

import (
	"strings"
	"testing"
	"time"
)

// TestDescribeHolders: who held what a build waited for, as its waits
// and its give-up (ErrLockWait) say it, one way.
func TestDescribeHolders(t *testing.T) {
	run := &RunInfo{Project: "marts", Target: "prod", Command: "build", Started: time.Date(2026, 12, 7, 2, 30, 1, 0, time.UTC)}
	reader := LockHolder{PID: 4242, Application: "metabase", Role: "analyst", Client: "10.0.0.5", State: "idle in transaction", Since: "2026-12-07 02:31:07 UTC", OnRelation: true, Relation: "analytics.t"}
	for _, tc := range []struct {
		name string
		hs   []LockHolder
		want string
	}{
		{"none seen", nil, "sessions that hold analytics.t"},
		{"a reader", []LockHolder{reader},
			"session 4242 (metabase, role analyst, from 10.0.0.5, idle in transaction, in a transaction since 2026-12-07 02:31:07 UTC), which holds analytics.t"},
		{"another run's build, its run known", []LockHolder{{PID: 7, Strata: true, Building: "marts.report", Role: "strata", State: "active", OnRelation: true, Relation: "analytics.t", Run: run}},
			"another strata run's build of marts.report (session 7 of strata build of project marts on target prod, started 2026-12-07 02:30:01 UTC, role strata, active), which holds analytics.t"},
		{"another run's build", []LockHolder{{PID: 7, Strata: true, Building: "marts.report", OnRelation: true, Relation: "analytics.t"}},
			"another strata run's build of marts.report (session 7), which holds analytics.t"},
		{"another run's session", []LockHolder{{PID: 8, Strata: true, OnRelation: true}}, "another strata run's session 8, which holds analytics.t"},
		{"this run's build of the swap lock", []LockHolder{{PID: 9, Strata: true, ThisRun: true, Building: "analytics.v"}},
			"this run's build of analytics.v (session 9), which holds the lock of swaps that recreate dependent views"},
		{"four", []LockHolder{reader, reader, reader, reader},
			strings.Repeat("session 4242 (metabase, role analyst, from 10.0.0.5, idle in transaction, in a transaction since 2026-12-07 02:31:07 UTC), which holds analytics.t; ", 3) + "and 1 more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DescribeHolders(tc.hs, "analytics.t"); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	e := &ErrLockWait{Waited: 300 * time.Millisecond, Err: errTest("canceling statement due to lock timeout"), Holders: []LockHolder{reader}}
	if want := "gave up after waiting 300ms for session 4242 (metabase, role analyst, from 10.0.0.5, idle in transaction, in a transaction since 2026-12-07 02:31:07 UTC), which holds analytics.t (the target's swap_max_wait); the previous version was kept: canceling statement due to lock timeout"; e.Error() != want {
		t.Errorf("ErrLockWait: %s\nwant %s", e.Error(), want)
	}
	e.Holders = nil
	if want := "gave up after waiting 300ms for the sessions that hold locks on it (the target's swap_max_wait); the previous version was kept: canceling statement due to lock timeout"; e.Error() != want {
		t.Errorf("ErrLockWait, no holders: %s\nwant %s", e.Error(), want)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
