//go:build !linux

package artifacts

import "path/filepath"

// folder is a directory that WriteFiles writes files into by path.
type folder struct{ path string }

func maxOpenFolders() int { return 0 }

func openFolder(path string, _, _ bool) (*folder, error) { return &folder{path: path}, nil }

func (f *folder) close() {}

func (f *folder) write(name, text string, buf *[]byte) (bool, error) {
	return writeIfChanged(filepath.Join(f.path, name), text, buf)
}
