package artifacts

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// With fewer file descriptors than folders, the folders WriteFiles cannot
// keep open are written by path: every file is still written.
func TestWriteFilesManyFolders(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = 64
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	dir := t.TempDir()
	var files []File
	for i := range 200 {
		files = append(files, File{filepath.Join(dir, fmt.Sprintf("f%03d", i), "x.sql"), fmt.Sprintf("select %d", i)})
	}
	if n, err := WriteFiles(files, 2); err != nil || n != len(files) {
		t.Fatalf("WriteFiles: %d files, %v (want %d, nil)", n, err, len(files))
	}
	for _, f := range files {
		if b, err := os.ReadFile(f.Path); err != nil || string(b) != f.Text {
			t.Errorf("%s holds %q, %v (want %q)", f.Path, b, err, f.Text)
		}
	}
}
