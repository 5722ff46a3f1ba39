package cli

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestConnectionErrorsNameTheTarget: every command that connects says
// which target it could not reach, once: build, run, seed, test and
// retry said only "strata build: cannot connect to ...", while plan,
// check and env said "target prod:". And the target's password is never
// printed nor written, whether the connection fails (its url's settings
// wrong, nothing listening) or succeeds (target/: manifest.json,
// run_results.json, strata.log).
func TestConnectionErrorsNameTheTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens there
	const password = "s3cretPW-d0-not-print"
	t.Setenv("PROD_URL", "postgres://etl:"+password+"@"+closed+"/shop")
	dir := writeProject(t, "", map[string]string{
		"project.yaml": "name: p\ntarget: prod\ntargets:\n  prod:\n    type: postgres\n    url: '{{ env_var \"PROD_URL\" }}'\n",
		"models/a.sql": "select 1 as id",
		"models/a.yml": "models:\n  - name: a\n    columns:\n      - name: id\n        tests: [not_null]\n",
		"seeds/s.csv":  "id\n1\n",
	})
	for _, args := range [][]string{{"build"}, {"run"}, {"seed"}, {"test"}, {"plan"}, {"check"}, {"env", "ls"}, {"debug"}} {
		code, out := strata(t, dir, args...)
		if code == 0 {
			t.Fatalf("strata %s connected to a port nothing listens on:\n%s", args[0], out)
		}
		if strings.Contains(out, password) {
			t.Errorf("strata %s printed the password:\n%s", args[0], out)
		}
		if args[0] == "debug" {
			continue // it says the target on a line of its own
		}
		want := "target prod: cannot connect to database \"shop\" as \"etl\" on " + closed + ": nothing listens on " + closed
		if strings.Count(out, "target prod: ") != 1 || !strings.Contains(out, want) {
			t.Errorf("strata %s said:\n%s\nwant it to say once: %s", strings.Join(args, " "), out, want)
		}
	}
	t.Setenv("PROD_URL", "postgres://etl:"+password+"@"+closed+"/shop?sslmode=bogus")
	if code, out := strata(t, dir, "build"); code == 0 || strings.Contains(out, password) || !strings.Contains(out, "target prod: bad connection settings") {
		t.Errorf("a url pgx cannot read: exit %d\n%s", code, out)
	}

	// A run that connects (the test's server trusts the socket, so the
	// password is sent to no one, but it is in the url).
	url := strings.Replace(pgtest.DB(t), "postgres://postgres@", "postgres://postgres:"+password+"@", 1)
	t.Setenv("PROD_URL", url)
	must(t, 0, dir, "build")
	must(t, 0, dir, "debug")
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), password) {
			t.Errorf("%s holds the password", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
