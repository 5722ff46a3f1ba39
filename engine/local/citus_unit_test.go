package local

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRegisterStatements(t *testing.T) {
	w1, w2, w3 := "/p/.strata/citus/worker1/run", "/p/.strata/citus/worker2/run", "/p/.strata/citus/worker3/run"
	coord := "/p/.strata/citus/coordinator/run"
	for _, c := range []struct {
		name    string
		have    []distNode
		workers []string
		want    []string
	}{
		{"new cluster", nil, []string{w1, w2}, []string{
			"select citus_add_node('/p/.strata/citus/worker1/run', 5432)",
			"select citus_add_node('/p/.strata/citus/worker2/run', 5432)",
			"select citus_set_coordinator_host('/p/.strata/citus/coordinator/run', 5432)",
		}},
		{"registered", []distNode{{1, 0, coord}, {2, 1, w1}, {3, 2, w2}}, []string{w1, w2}, nil},
		{"a worker more", []distNode{{1, 0, coord}, {2, 1, w1}, {3, 2, w2}}, []string{w1, w2, w3}, []string{
			"select citus_add_node('/p/.strata/citus/worker3/run', 5432)",
		}},
		{"moved project", []distNode{{1, 0, "/old/coordinator/run"}, {2, 1, "/old/worker1/run"}, {3, 2, "/old/worker2/run"}}, []string{w1, w2}, []string{
			"select citus_update_node(2, '/p/.strata/citus/worker1/run', 5432)",
			"select citus_update_node(3, '/p/.strata/citus/worker2/run', 5432)",
			"select start_metadata_sync_to_all_nodes()",
			"select citus_set_coordinator_host('/p/.strata/citus/coordinator/run', 5432)",
		}},
		{"quote in a path", nil, []string{"/it's/worker1/run"}, []string{
			"select citus_add_node('/it''s/worker1/run', 5432)",
			"select citus_set_coordinator_host('/p/.strata/citus/coordinator/run', 5432)",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := registerStatements(c.have, coord, c.workers); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestCitusNotInstalledSaysWhatToInstall(t *testing.T) {
	bin := fakeBinDir(t, filepath.Join(t.TempDir(), "15", "bin"), "initdb", "pg_ctl", "postgres")
	err := citusInstalled(bin)
	if !errors.Is(err, ErrNoCitus) {
		t.Fatalf("err = %v, want ErrNoCitus", err)
	}
	for _, want := range []string{"apt-get install postgresql-15-citus", filepath.Join(filepath.Dir(bin), "lib", "citus.so"), "remove citus: from the target"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}
