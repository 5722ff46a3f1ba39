package cli

import (
	"bytes"
	"context"
	"errors"
	"net"
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

// TestCancelWhileConnecting: Ctrl-C (or SIGTERM) while the server has not
// answered yet ends the command at once as cancelled, and says so rather
// than showing the connection's error. (A run used to wait for the
// connections being opened, up to their connect_timeout; docs generate
// went on without the database and exited 0, debug, plan and env ls
// printed "context canceled" as the connection's error.)
func TestCancelWhileConnecting(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "strata run: cancelled while connecting to target t; nothing was run"},
		{[]string{"docs", "generate"}, "strata docs: cancelled; the site was not written"},
		{[]string{"debug"}, "strata debug: cancelled while connecting to target t"},
		{[]string{"plan"}, "strata plan: cancelled while connecting to target t; nothing was changed"},
		{[]string{"env", "ls"}, "strata env ls: cancelled while connecting to target t; nothing was done"},
	} {
		// A server of its own for each command: one that takes its
		// connections and never answers.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		accepted := make(chan net.Conn, 64)
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- conn // held open, never answered
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			for len(accepted) > 0 {
				(<-accepted).Close()
			}
		})
		url := "postgres://nobody@" + ln.Addr().String() + "/db?sslmode=disable&connect_timeout=60"
		dir := writeProject(t, url, map[string]string{"project.yaml": "name: p\n", "models/m.sql": "select 1 as id\n"})
		ctx, cancel := context.WithCancel(context.Background())
		type res struct {
			code int
			out  string
		}
		done := make(chan res, 1)
		go func() {
			var b bytes.Buffer
			code := Main(ctx, append([]string{"--project-dir", dir}, c.args...), &b, &b)
			done <- res{code, b.String()}
		}()
		// The command is connecting: the server took its connection.
		select {
		case conn := <-accepted:
			accepted <- conn
		case <-time.After(30 * time.Second):
			t.Fatalf("%v never connected", c.args)
		}
		cancel()
		select {
		case r := <-done:
			if r.code != ExitCancelled || !strings.Contains(r.out, c.want) || strings.Contains(r.out, "context canceled") {
				t.Errorf("%v: exit %d, want %d and %q:\n%s", c.args, r.code, ExitCancelled, c.want, r.out)
			}
			if strings.Contains(r.out, "Wrote target/docs") {
				t.Errorf("%v wrote the site after Ctrl-C:\n%s", c.args, r.out)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the cancelled %v never ended", c.args)
		}
	}
}
