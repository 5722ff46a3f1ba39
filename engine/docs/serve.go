package docs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"strata/engine/artifacts"
)

// stampFile, in the site's folder, holds the stamp of what the site was generated from.
const stampFile = ".stamp"

// Stamp fingerprints what a project's site is made of: the path, size and
// modification time of every file of the project that strata may read
// (project.yaml and the .sql, .yml, .yaml, .csv and .csv.gz files: models,
// macros, tests, seeds, their YAML and unit tests' fixtures; the folders
// strata skips when it loads a project are skipped here too: hidden ones,
// target, node_modules, testdata) and of the results in target/. Reading it
// costs a stat per file, no file is read; a changed stamp means the site
// may be out of date. Other files do not count: docs serve's own output
// redirected to a file in the project (nohup.out) would otherwise change
// the stamp at every regeneration, and every page asked for would
// regenerate the site again.
func Stamp(projectDir string) (string, error) {
	h := sha256.New()
	note := func(rel string, info fs.FileInfo) {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", rel, info.Size(), info.ModTime().UnixNano())
	}
	// walk notes the files under dir, the folder of the project at rel
	// ("" for the project's own). Symbolic links are followed, as the
	// loader follows them: a link to a file is the file (its size and
	// time, not the link's), a link to a folder the files in it, unless it
	// leads to a folder it is in.
	var walk func(dir, rel string) error
	walk = func(dir, rel string) error {
		return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == dir {
					return err
				}
				return nil // a file that vanished while walking: the next stamp sees it gone
			}
			r, _ := filepath.Rel(dir, p)
			r = path.Join(rel, filepath.ToSlash(r))
			if r == "." {
				r = ""
			}
			base := d.Name()
			if p != dir && (d.IsDir() || d.Type()&fs.ModeSymlink != 0) && (strings.HasPrefix(base, ".") || base == "target" || base == "node_modules" || base == "testdata") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			info, err := d.Info()
			if d.Type()&fs.ModeSymlink != 0 {
				if info, err = os.Stat(p); err == nil && info.IsDir() {
					if !linkedAbove(projectDir, p, info) {
						_ = walk(p+string(filepath.Separator), r)
					}
					return nil
				}
			}
			if err == nil && read(r) {
				note(r, info)
			}
			return nil
		})
	}
	if err := walk(projectDir, ""); err != nil {
		return "", err
	}
	for _, name := range []string{"run_results.json", artifacts.NodeResultsFile} {
		if info, err := os.Stat(filepath.Join(projectDir, "target", name)); err == nil {
			note("target/"+name, info)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// linkedAbove says whether p, a symbolic link in the project in
// projectDir to the folder info, leads to a folder p is in (following it
// would never end).
func linkedAbove(projectDir, p string, info fs.FileInfo) bool {
	for up := filepath.Dir(p); ; up = filepath.Dir(up) {
		if above, err := os.Stat(up); err == nil && os.SameFile(info, above) {
			return true
		}
		if up == filepath.Clean(projectDir) || up == filepath.Dir(up) {
			return false
		}
	}
}

// read says whether rel, a file of the project, is one strata may read when
// it loads the project (see Stamp).
func read(rel string) bool {
	if rel == "project.yaml" {
		return true
	}
	switch filepath.Ext(rel) {
	case ".sql", ".yml", ".yaml", ".csv":
		return true
	case ".gz":
		return strings.HasSuffix(rel, ".csv.gz")
	}
	return false
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
// for the site's assets are served as they are. It serves the site's files
// and nothing else: a folder is its index.html (the site's root) or not
// found, never a listing of its files, and hidden files (the stamp) are not
// found either, nor is a file reached through a symbolic link that leads
// out of the site's folder (or is absolute); what is not found is a 404
// page that says so.
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
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; strings.HasSuffix(p, "/") || strings.HasSuffix(p, ".html") {
		// The regeneration is for every page asked for after it, not only
		// this one: it goes on when this request's client goes away (a
		// reload, a browser tab closed), which would otherwise cancel it and
		// have it taken for a failure of the project, and the site served
		// out of date until the project changed again.
		if err := s.Refresh(context.WithoutCancel(r.Context())); err != nil && s.Failed != nil {
			s.Failed(err)
		}
	}
	// The site's folder is opened as a root for each request (a
	// regeneration may have made it anew): what is read through it cannot
	// leave it, whatever symbolic link a user put in it.
	root, err := os.OpenRoot(s.Site)
	if err != nil {
		notFound(w, r)
		return
	}
	defer root.Close()
	if !servable(root, r.URL.Path) {
		notFound(w, r)
		return
	}
	http.FileServerFS(root.FS()).ServeHTTP(w, r)
}

// servable reports whether the site in root has a page or asset at
// urlPath: a file, not hidden, or a folder with an index.html (served for
// it), inside root.
func servable(root *os.Root, urlPath string) bool {
	p := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, ".") {
			return false
		}
	}
	if p == "" {
		p = "."
	}
	fi, err := root.Stat(p)
	if err == nil && fi.IsDir() {
		fi, err = root.Stat(path.Join(p, "index.html"))
	}
	return err == nil && fi.Mode().IsRegular()
}

// notFound answers a request for what the site does not have.
func notFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusNotFound)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
<body><h1>Not found</h1><p>The docs site has no page at <code>%s</code>.</p>
<p>Go to the <a href="/index.html">lineage</a>, the <a href="/catalog.html">catalog</a> or the <a href="/dashboards.html">dashboards</a>.</p></body></html>
`, html.EscapeString(r.URL.Path))
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
