package cli

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"strata/engine/internal/benchdir"
	"strata/engine/internal/pgtest"
	"strata/internal/benchproject"
)

// checkTiming is what one strata check --output json took.
type checkTiming struct {
	wall, check, database, seeds time.Duration
}

func (t *checkTiming) add(o checkTiming) {
	t.wall += o.wall
	t.check += o.check
	t.database += o.database
	t.seeds += o.seeds
}

// timedCheck runs strata check on dir (args before the command, such as
// --target) and returns its timing; the check must pass.
func timedCheck(b *testing.B, dir string, global ...string) checkTiming {
	b.Helper()
	var out, errOut bytes.Buffer
	start := time.Now()
	code := Main(b.Context(), append(append([]string{"--project-dir", dir}, global...), "check", "--output", "json"), &out, &errOut)
	wall := time.Since(start)
	if code != 0 {
		b.Fatalf("check exited %d:\n%s%s", code, out.String()[:min(out.Len(), 3000)], errOut.String())
	}
	var rep struct {
		Timing map[string]float64 `json:"timing"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		b.Fatal(err)
	}
	sec := func(k string) time.Duration { return time.Duration(rep.Timing[k] * float64(time.Second)) }
	return checkTiming{wall: wall, check: sec("check_seconds"), database: sec("database_seconds"), seeds: sec("seed_files_seconds")}
}

func reportCheck(b *testing.B, name string, t checkTiming) {
	n := float64(b.N)
	b.ReportMetric(t.wall.Seconds()/n, "s/"+name)
	b.ReportMetric(100*t.database.Seconds()/t.wall.Seconds(), "%postgres/"+name)
	if t.seeds > 0 {
		b.ReportMetric(100*t.seeds.Seconds()/t.wall.Seconds(), "%seed_files/"+name)
	}
}

// BenchmarkCheckExample times strata check of the example project (data of
// cmd/gendata at scale 1): on a database where nothing was built, then on
// the built project, beside the full build it would precede. The shares
// are of check's wall time: waiting on PostgreSQL, reading seed files; the
// rest is strata (loading and rendering the project, planning, writing
// target/check.json and manifest.json). Data generation is not timed.
func BenchmarkCheckExample(b *testing.B) {
	var fresh, built checkTiming
	var build time.Duration
	for range b.N {
		b.StopTimer()
		url := pgtest.DB(b)
		dir := pipelineProject(b, 1, 1)
		b.Setenv("DATABASE_URL", url)
		b.StartTimer()
		fresh.add(timedCheck(b, dir, "--target", "prod"))
		build += timedBuild(b, dir)
		built.add(timedCheck(b, dir, "--target", "prod"))
	}
	reportCheck(b, "check_fresh", fresh)
	reportCheck(b, "check_built", built)
	b.ReportMetric(build.Seconds()/float64(b.N), "s/build")
	b.ReportMetric(100*built.wall.Seconds()/build.Seconds(), "%check_of_build")
}

// BenchmarkCheck2000 times strata check of 2,000 view models in four
// layers (each reading one to three models of the layer before) with two
// column tests each: on a database where nothing was built, then after a
// run built them.
func BenchmarkCheck2000(b *testing.B) {
	var fresh, built checkTiming
	for range b.N {
		b.StopTimer()
		url := pgtest.DB(b)
		dir := benchdir.New(b)
		if err := benchproject.Layers(dir, 2000, "{type: postgres, url: '"+url+"', threads: 4}"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		fresh.add(timedCheck(b, dir))
		b.StopTimer()
		if code, out := strataB(b, dir, "run"); code != 0 {
			b.Fatalf("run exited %d:\n%s", code, out[max(0, len(out)-2000):])
		}
		b.StartTimer()
		built.add(timedCheck(b, dir))
	}
	reportCheck(b, "check_fresh", fresh)
	reportCheck(b, "check_built", built)
}
