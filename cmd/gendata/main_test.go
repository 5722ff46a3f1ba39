package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/internal/exampledata"
)

func TestCLI(t *testing.T) {
	var out, errb bytes.Buffer
	dir := t.TempDir()
	if code := run(context.Background(), []string{"--out", dir, "--scale", "0.02", "--day", "2", "--seed", "9"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var m exampledata.Manifest
	b, err := os.ReadFile(filepath.Join(dir, exampledata.FileManifest))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Seed != 9 || m.Scale != 0.02 || m.Day != 2 || m.AsOf != "2025-01-01" || len(m.Files) != 7 {
		t.Errorf("manifest %+v", m)
	}
	for _, args := range [][]string{{"--scale", "0"}, {"--day", "0"}, {"--bogus"}, {"extra"}} {
		errb.Reset()
		if code := run(context.Background(), append(args, "--out", t.TempDir()), &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

func TestCLIBadFlagsSayWhy(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "gendata: unknown flag: --bogus\n"},
		{[]string{"--seed", "-1"}, `gendata: invalid argument "-1" for "--seed" flag: must be a non-negative integer` + "\n"},
		{[]string{"--scale", "abc"}, `gendata: invalid argument "abc" for "--scale" flag: must be a number` + "\n"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(context.Background(), append(tt.args, "--out", t.TempDir()), &out, &errb)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", tt.args, code)
		}
		got := errb.String()
		if !strings.HasPrefix(got, tt.want) || !strings.Contains(got, "usage: gendata [--out DIR]") {
			t.Errorf("%v: stderr\n%s\nwant it to start with %q and show the usage", tt.args, got, tt.want)
		}
	}
}
