package run

import (
	"hash/fnv"
	"os"
	"path/filepath"
	"sync"

	"strata/engine/artifacts"
)

// fileWriters is how many goroutines write target/compiled/ and target/run/.
// Creating a file is mostly kernel time, which on a busy file system can cost
// more than the statement's round trip (ext4 scans past recently deleted
// inodes on every creation); two writers keep up with a single-threaded run
// on two cores without taking the CPU the run itself needs.
const fileWriters = 2

// files writes target/compiled/ and target/run/ in the background, so that
// building the next model does not wait for the file system. A path always
// goes to the same writer, so a file written twice (a retried model) ends up
// with the text written last.
type files struct {
	once sync.Once
	jobs [fileWriters]chan fileJob
	done sync.WaitGroup
	// The files that could not be written, and the first error: flush
	// returns them, for the run to say once.
	mu     sync.Mutex
	failed int
	first  error
}

type fileJob struct{ path, text string }

func (f *files) write(path, text string) {
	f.once.Do(func() {
		for i := range f.jobs {
			f.jobs[i] = make(chan fileJob, 4096)
			f.done.Add(1)
			go f.loop(f.jobs[i])
		}
	})
	h := fnv.New32a()
	_, _ = h.Write([]byte(path))
	f.jobs[h.Sum32()%fileWriters] <- fileJob{path, text}
}

func (f *files) loop(jobs <-chan fileJob) {
	defer f.done.Done()
	dirs := map[string]bool{}
	for j := range jobs {
		dir := filepath.Dir(j.path)
		if !dirs[dir] {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				f.fail(err)
				continue
			}
			dirs[dir] = true
		}
		// Like target/compiled/ at compile time, these files are a record:
		// a file that cannot be written does not fail the model, but it is
		// counted (a file left by an earlier run shows that run's SQL). A
		// file that already holds the text is left alone (reruns mostly
		// write what is there); the write takes open, fstat and a read or a
		// write.
		if _, err := artifacts.WriteIfChanged(j.path, j.text); err != nil {
			f.fail(err)
		}
	}
}

func (f *files) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed++
	if f.first == nil {
		f.first = err
	}
}

// flush waits until every file is written, and returns how many could not
// be and the first error; the files are not written after it.
func (f *files) flush() (int, error) {
	f.once.Do(func() {})
	if f.jobs[0] != nil {
		for _, c := range f.jobs {
			close(c)
		}
		f.done.Wait()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed, f.first
}
