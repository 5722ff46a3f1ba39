//go:build unix

package artifacts

import (
	"fmt"
	"path/filepath"
	"syscall"
)

// writeInPlace writes text to path with as few system calls as it takes:
// open, fstat and then either read (the file already holds text) or write.
// os.WriteFile would add five more per file (it registers every file with
// the poller), which counts when a compile writes tens of thousands.
func writeInPlace(path, text string, buf *[]byte) (bool, error) {
	return writeOpened(func() (int, error) {
		return syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC, 0o600)
	}, text, buf)
}

// writeOpened is writeInPlace of the file that open opens (read-write,
// created if missing).
func writeOpened(open func() (int, error), text string, buf *[]byte) (bool, error) {
	fd, err := retry(open)
	if err == syscall.EACCES || err == syscall.EPERM {
		return false, errFallback
	}
	if err != nil {
		return false, err
	}
	changed, err := writeFD(fd, text, buf)
	if cerr := syscall.Close(fd); err == nil && changed && cerr != nil && cerr != syscall.EINTR {
		err = cerr
	}
	return changed, err
}

func writeFD(fd int, text string, buf *[]byte) (bool, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return false, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return false, errFallback
	}
	if st.Size == int64(len(text)) {
		if len(text) == 0 {
			return false, nil
		}
		if cap(*buf) < len(text) {
			*buf = make([]byte, len(text))
		}
		b := (*buf)[:len(text)]
		n := 0
		for n < len(b) {
			m, err := syscall.Pread(fd, b[n:], int64(n))
			if err == syscall.EINTR {
				continue
			}
			if err != nil || m == 0 {
				break
			}
			n += m
		}
		if n == len(b) && string(b) == text {
			return false, nil
		}
	}
	if err := pwriteAll(fd, []byte(text)); err != nil {
		return true, err
	}
	if st.Size > int64(len(text)) {
		if _, err := retry(func() (int, error) { return 0, syscall.Ftruncate(fd, int64(len(text))) }); err != nil {
			return true, err
		}
	}
	return true, nil
}

// pwriteAll writes data at the start of the file fd.
func pwriteAll(fd int, data []byte) error {
	for off := 0; off < len(data); {
		m, err := syscall.Pwrite(fd, data[off:], int64(off))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		off += m
	}
	return nil
}

func retry(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// withRecordLock runs f holding an exclusive lock on target/'s run record
// (run_results.json, run_progress.jsonl, node_results.json), for the short
// read and write of two runs in one folder that start or end at once.
func withRecordLock(dir string, f func() error) error {
	if err := Folder(dir); err != nil {
		return err
	}
	fd, err := retry(func() (int, error) {
		return syscall.Open(filepath.Join(dir, ".record.lock"), syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC, 0o600)
	})
	if err != nil {
		return fmt.Errorf("locking the run record in %s: %w", dir, err)
	}
	defer syscall.Close(fd)
	for {
		err = syscall.Flock(fd, syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("locking the run record in %s: %w", dir, err)
	}
	return f() // closing the file releases the lock
}
