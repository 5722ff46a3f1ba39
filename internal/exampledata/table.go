package exampledata

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
)

// table streams one CSV file under a temporary name; commit renames it into
// place, so an interrupted run never leaves a half-written seed behind.
type table struct {
	name     string
	path     string
	f        *os.File
	buf      *bufio.Writer
	w        *csv.Writer
	rows     int
	distinct int
	columns  []string
}

func createTable(dir, name string, columns []string) (*table, error) {
	path := filepath.Join(dir, name)
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	t := &table{name: name, path: path, f: f, buf: buf, w: csv.NewWriter(buf), columns: columns}
	if err := t.w.Write(columns); err != nil {
		f.Close()
		return nil, err
	}
	return t, nil
}

// write appends a record; twice writes it a second time, byte for byte.
func (t *table) write(rec []string, twice bool) error {
	if len(rec) != len(t.columns) {
		return fmt.Errorf("%s: record has %d fields, want %d", t.name, len(rec), len(t.columns))
	}
	t.distinct++
	t.rows++
	if err := t.w.Write(rec); err != nil {
		return err
	}
	if twice {
		t.rows++
		return t.w.Write(rec)
	}
	return nil
}

func (t *table) commit() error {
	t.w.Flush()
	if err := t.w.Error(); err != nil {
		t.f.Close()
		return err
	}
	if err := t.buf.Flush(); err != nil {
		t.f.Close()
		return err
	}
	if err := t.f.Close(); err != nil {
		return err
	}
	return os.Rename(t.path+".tmp", t.path)
}

// abort removes the temporary file after a failure.
func (t *table) abort() {
	t.f.Close()
	os.Remove(t.path + ".tmp")
}
