package artifacts

import (
	"io/fs"
	"path/filepath"
	"syscall"
)

// folder is an open directory that WriteFiles creates files in by name
// (openat), sparing the kernel a walk of the whole path for each file.
type folder struct {
	path  string
	fd    int  // -1: not open (more folders than maxOpenFolders), files are written by path
	fresh bool // WriteFiles created it, so every file written into it is new
}

// maxOpenFolders is how many folders WriteFiles holds open at most: a
// quarter of the descriptors this process may have, so that the files
// themselves can always be opened, and no more than 256.
func maxOpenFolders() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return int(min(256, lim.Cur/4))
}

func openFolder(path string, fresh bool, open bool) (*folder, error) {
	if !open {
		return &folder{path: path, fd: -1}, nil
	}
	fd, err := retry(func() (int, error) {
		return syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	})
	if err == syscall.EMFILE || err == syscall.ENFILE {
		return &folder{path: path, fd: -1}, nil
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return &folder{path: path, fd: fd, fresh: fresh}, nil
}

func (f *folder) close() {
	if f.fd >= 0 {
		_ = syscall.Close(f.fd)
	}
}

// write writes text to the file name in f unless it already holds exactly
// text, and reports whether it wrote.
func (f *folder) write(name, text string, buf *[]byte) (bool, error) {
	full := filepath.Join(f.path, name)
	if f.fd < 0 {
		return writeIfChanged(full, text, buf)
	}
	if f.fresh {
		// A new file in a new folder: nothing to compare with.
		fd, err := retry(func() (int, error) {
			return syscall.Openat(f.fd, name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o600)
		})
		switch {
		case err == nil:
			werr := pwriteAll(fd, []byte(text))
			if cerr := syscall.Close(fd); werr == nil && cerr != nil && cerr != syscall.EINTR {
				werr = cerr
			}
			if werr != nil {
				return true, &fs.PathError{Op: "write", Path: full, Err: werr}
			}
			return len(text) > 0, nil // as for other files: an empty one has nothing written
		case err != syscall.EEXIST:
			return false, &fs.PathError{Op: "create", Path: full, Err: err}
		}
		// Created by someone else in the meantime: compare it like any other.
	}
	changed, err := writeOpened(func() (int, error) {
		return syscall.Openat(f.fd, name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC, 0o600)
	}, text, buf)
	return settle(full, text, changed, err)
}
