package local_test

import (
	"context"
	"errors"
	"os"
	execpkg "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"strata/engine/internal/pgtest"
	"strata/engine/local"
)

// TestInitdbHelper is the strata that TestKillDuringInitdb kills: it
// creates and starts the cluster at $STRATA_INITDB_HELPER.
func TestInitdbHelper(t *testing.T) {
	root := os.Getenv("STRATA_INITDB_HELPER")
	if root == "" {
		t.Skip("the helper process of TestKillDuringInitdb")
	}
	c, err := local.NewAt(root)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Start(context.Background())
	time.Sleep(time.Minute) // killed long before
}

// initdbDirs are the temporary directories of initdbs under root.
func initdbDirs(t *testing.T, root string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(root, "data.initdb*"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, d := range m {
		if !strings.HasSuffix(d, ".lock") {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// TestKillDuringInitdb (issue 21 item 7): strata killed (kill -9) while
// its initdb creates the cluster leaves that initdb running; a strata
// started at once still creates and starts the cluster, in a directory
// of its own, and a later start removes the killed one's directory once
// its initdb has ended.
func TestKillDuringInitdb(t *testing.T) {
	needsServer(t)
	root := filepath.Join(pgtest.ReachableDir(t), "pg")
	helper := execpkg.Command(os.Args[0], "-test.run=^TestInitdbHelper$", "-test.count=1")
	helper.Env = append(os.Environ(), "STRATA_INITDB_HELPER="+root)
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	// initdb is under way: its directory holds what it wrote so far.
	deadline := time.Now().Add(2 * time.Minute)
	var orphan string
	for orphan == "" {
		for _, d := range initdbDirs(t, root) {
			if _, err := os.Stat(filepath.Join(d, "global")); err == nil {
				orphan = d
			}
		}
		if time.Now().After(deadline) {
			_ = helper.Process.Kill()
			t.Fatal("the helper's initdb never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()

	c, err := local.NewAt(root)
	if err != nil {
		t.Fatal(err)
	}
	startCluster(t, c) // at once, while the orphaned initdb may still run
	selectOne(t, c.URL())

	// Once the orphaned initdb has ended (its lock is free), the next
	// start removes its directory.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if lockFree(t, orphan+".lock") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the orphaned initdb never ended")
		}
	}
	ctx := context.Background()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if left := initdbDirs(t, root); len(left) > 0 {
		t.Errorf("initdb directories left: %v", left)
	}
}

// lockFree says whether nobody holds the lock file at path (or it is gone).
func lockFree(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}
