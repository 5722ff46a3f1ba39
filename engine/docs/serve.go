package docs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"strata/engine/artifacts"
)

// stampFile, in the site's folder, holds the stamp of what the site was generated from.
const stampFile = ".stamp"

// Stamp fingerprints what a project's site is made of: the path, size and
// modification time of every file of the project (the folders strata skips
// when it loads a project are skipped here too: hidden ones, target,
// node_modules, testdata) and of the results in target/. Reading it costs a
// stat per file, no file is read; a changed stamp means the site may be out
// of date.
func Stamp(projectDir string) (string, error) {
	h := sha256.New()
	note := func(rel string, info fs.FileInfo) {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", rel, info.Size(), info.ModTime().UnixNano())
	}
	err := filepath.WalkDir(projectDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == projectDir {
				return err
			}
			return nil // a file that vanished while walking: the next stamp sees it gone
		}
		rel, _ := filepath.Rel(projectDir, p)
		if d.IsDir() {
			base := d.Name()
			if rel != "." && (strings.HasPrefix(base, ".") || base == "target" || base == "node_modules" || base == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if info, err := d.Info(); err == nil {
			note(filepath.ToSlash(rel), info)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	for _, name := range []string{"run_results.json", artifacts.NodeResultsFile} {
		if info, err := os.Stat(filepath.Join(projectDir, "target", name)); err == nil {
			note("target/"+name, info)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SiteStamp returns the stamp the site in dir was generated from, or "" when there is none.
func SiteStamp(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, stampFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Server serves a generated site and keeps it current: before it answers a
// request for a page, it compares the project's stamp with the one the site
// was generated from and regenerates the site when they differ. Requests
// for the site's assets are served as they are.
type Server struct {
	Site    string // the site's folder (target/docs)
	Project string // the project's folder
	// Generate regenerates the site, its stamp included. It is called with
	// one request waiting at a time; its error is reported through Failed.
	Generate func(ctx context.Context) error
	// Failed is told when a regeneration failed; the site is served as it
	// was, and not regenerated again until the project changes again.
	Failed func(error)

	mu     sync.Mutex
	failed string // the stamp whose regeneration failed
	files  http.Handler
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.files == nil {
		s.files = http.FileServer(http.Dir(s.Site))
	}
	if p := r.URL.Path; strings.HasSuffix(p, "/") || strings.HasSuffix(p, ".html") {
		if err := s.Refresh(r.Context()); err != nil && s.Failed != nil {
			s.Failed(err)
		}
	}
	s.files.ServeHTTP(w, r)
}

// Refresh regenerates the site when the project or its results changed since
// it was generated. It returns the regeneration's error, if it ran and failed.
func (s *Server) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, err := Stamp(s.Project)
	if err != nil {
		return err
	}
	if now == SiteStamp(s.Site) || now == s.failed {
		return nil
	}
	if err := s.Generate(ctx); err != nil {
		s.failed = now
		return err
	}
	s.failed = ""
	return nil
}
