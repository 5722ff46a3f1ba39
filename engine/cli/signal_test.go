package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildStrata builds the strata command into a temporary folder.
func buildStrata(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "strata/cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cpuTime is the processor time process pid has used, from /proc.
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
}

// TestSignalWhileLoading (issue 21 item 1): SIGTERM and Ctrl-C (SIGINT)
// stop strata while it loads a project, which here never ends (a model's
// template loops 10^10 times): exit 130 at once, saying so.
func TestSignalWhileLoading(t *testing.T) {
	bin := buildStrata(t)
	dir := writeProject(t, "", map[string]string{
		"project.yaml": "name: slow\n",
		"models/m.sql": "select 1 as id {{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n",
	})
	for _, tc := range []struct {
		cmd string
		sig syscall.Signal
	}{{"build", syscall.SIGTERM}, {"validate", syscall.SIGINT}, {"compile", syscall.SIGTERM}} {
		cmd := exec.Command(bin, "--project-dir", dir, tc.cmd)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Loading, past the start (where the signal handlers are set):
		// it has rendered for a while.
		until(t, tc.cmd+" renders", func() bool { return cpuTime(t, cmd.Process.Pid) >= 200*time.Millisecond })
		if err := cmd.Process.Signal(tc.sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != ExitCancelled {
				t.Errorf("%s after %s: %v, want exit %d\n%s", tc.cmd, tc.sig, err, ExitCancelled, out.String())
			}
			if !strings.Contains(out.String(), "strata: cancelled while loading the project; nothing was run") {
				t.Errorf("%s after %s printed:\n%s", tc.cmd, tc.sig, out.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("%s still loading 30 s after %s:\n%s", tc.cmd, tc.sig, out.String())
		}
	}
}
