package artifacts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// File is one file of a set written by WriteFiles.
type File struct {
	Path string // absolute, or relative to the working directory
	Text string
}

// WriteFiles writes many small files, such as target/compiled/: each is
// written in place (a compiled file is a record that is rewritten whole, so it
// needs no temporary name), and a file that already holds its text is left
// alone. It returns how many files it wrote and the first error.
//
// Creating thousands of files costs far more in the kernel than in Go, so the
// work is arranged for the file system: every folder is created once up front
// and opened, and files are created by name in the open folder (openat), so
// the kernel does not walk the whole path again for each. In a folder this
// call created, every file is new: it is created and written without first
// being read. Files are written round-robin across folders rather than one
// folder after another (on ext4, creating a folder's files in a row costs
// several times more system time than the same creations interleaved).
func WriteFiles(files []File, workers int) (int, error) {
	byDir := map[string][]int{}
	for i, f := range files {
		d := filepath.Dir(f.Path)
		byDir[d] = append(byDir[d], i)
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	folders := map[string]*folder{}
	defer func() {
		for _, f := range folders {
			f.close()
		}
	}()
	maxOpen := maxOpenFolders()
	for i, d := range dirs {
		_, err := os.Lstat(d)
		fresh := errors.Is(err, fs.ErrNotExist)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return 0, err
		}
		f, err := openFolder(d, fresh, i < maxOpen)
		if err != nil {
			return 0, err
		}
		folders[d] = f
	}
	order := make([]int, 0, len(files))
	for k := 0; len(order) < len(files); k++ {
		for _, d := range dirs {
			if idx := byDir[d]; k < len(idx) {
				order = append(order, idx[k])
			}
		}
	}
	workers = max(1, min(workers, len(files)))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		first   error
		written int
		next    = make(chan int, 256)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			n := 0
			for i := range next {
				p := files[i].Path
				changed, err := folders[filepath.Dir(p)].write(filepath.Base(p), files[i].Text, &buf)
				if changed {
					n++
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			written += n
			mu.Unlock()
		}()
	}
	for _, i := range order {
		next <- i
	}
	close(next)
	wg.Wait()
	return written, first
}

// WriteIfChanged writes text to path unless the file already holds exactly
// text; it reports whether it wrote. The folder must exist.
func WriteIfChanged(path, text string) (bool, error) {
	var buf []byte
	return writeIfChanged(path, text, &buf)
}

func writeIfChanged(path, text string, buf *[]byte) (bool, error) {
	changed, err := writeInPlace(path, text, buf)
	return settle(path, text, changed, err)
}

// settle finishes a write in place of path: a file that cannot be written in
// place (errFallback) is replaced the ordinary way, and an error names the file.
func settle(path, text string, changed bool, err error) (bool, error) {
	if errors.Is(err, errFallback) {
		// A file writeInPlace cannot handle (say, not readable): replace it the ordinary way.
		return true, os.WriteFile(path, []byte(text), 0o600)
	}
	if err != nil {
		return changed, &fs.PathError{Op: "write", Path: path, Err: err}
	}
	return changed, nil
}

var errFallback = fmt.Errorf("not a readable regular file")

// Folder creates dir, the project's target/, for the owner alone (0700),
// and makes an existing one so: the compiled SQL in it holds the rendered
// values of env_var, which may be secrets. Files are created 0600 in it.
func Folder(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}
