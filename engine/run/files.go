package run

import (
	"os"
	"path/filepath"
	"sync"
)

// files writes target/compiled/ and target/run/ in the background, one file
// at a time, so that building the next model does not wait for the file
// system (creating a file can cost more than a statement's round trip).
type files struct {
	once sync.Once
	jobs chan fileJob
	done sync.WaitGroup
	dirs map[string]bool // touched by the writer goroutine only
}

type fileJob struct{ path, text string }

func (f *files) write(path, text string) {
	f.once.Do(func() {
		f.jobs = make(chan fileJob, 8192)
		f.dirs = map[string]bool{}
		f.done.Add(1)
		go f.loop()
	})
	f.jobs <- fileJob{path, text}
}

func (f *files) loop() {
	defer f.done.Done()
	for j := range f.jobs {
		dir := filepath.Dir(j.path)
		if !f.dirs[dir] {
			if os.MkdirAll(dir, 0o755) != nil {
				continue
			}
			f.dirs[dir] = true
		}
		// Like target/compiled/ at compile time, these files are a record:
		// a file that cannot be written does not fail the model. A file that
		// already holds the text is left alone: reading a small file costs a
		// fraction of rewriting it, and reruns mostly write what is there.
		if unchanged(j.path, j.text) {
			continue
		}
		_ = os.WriteFile(j.path, []byte(j.text), 0o644)
	}
}

// flush waits until every file is written; the files are not written after it.
func (f *files) flush() {
	f.once.Do(func() {})
	if f.jobs != nil {
		close(f.jobs)
		f.done.Wait()
	}
}

// unchanged reports whether the file at path holds exactly text.
func unchanged(path, text string) bool {
	st, err := os.Stat(path)
	if err != nil || st.Size() != int64(len(text)) {
		return false
	}
	b, err := os.ReadFile(path)
	return err == nil && string(b) == text
}
