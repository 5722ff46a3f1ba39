package cli

import (
	"testing"
)

// TestLsExposureNamedLikeModel: an exposure prints as exposure:<name>, the
// selector that picks it alone, so one named like a model is told apart.
func TestLsExposureNamedLikeModel(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"project.yaml":  "name: p\n",
		"models/m1.sql": "select 1 as id",
		"models/m.yml":  "exposures:\n  - name: m1\n    type: dashboard\n    depends_on: [m1]\n",
	})
	for sel, want := range map[string]string{"m1": "exposure:m1\nm1\n", "exposure:m1": "exposure:m1\n", "resource_type:model": "m1\n"} {
		if out, _ := runCLI(t, "--project-dir", dir, "ls", "-s", sel); out != want {
			t.Errorf("ls -s %s = %q, want %q", sel, out, want)
		}
	}
}
