package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestExplainPositions: the server's error position becomes a line of the
// body when the body's place in the statement is known, and nothing when
// it is not (bodyOffset -1) or lies outside it; never a panic.
func TestExplainPositions(t *testing.T) {
	stmt := "create table t as\nselect 1\nfrom nowhere"
	for _, tc := range []struct {
		pos        int32
		bodyOffset int
		line       int
	}{
		{pos: 28, bodyOffset: 18, line: 2},
		{pos: 1, bodyOffset: -1, line: 0},
		{pos: 12, bodyOffset: -1, line: 0},
		{pos: 5, bodyOffset: 18, line: 0},
		{pos: 500, bodyOffset: 0, line: 0},
	} {
		err := Explain(&pgconn.PgError{Code: "42P01", Message: "relation does not exist", Position: tc.pos}, stmt, tc.bodyOffset)
		e, ok := err.(*Error)
		if !ok {
			t.Fatalf("%+v: %T", tc, err)
		}
		if e.Line != tc.line || !strings.Contains(e.Error(), "relation does not exist [SQLSTATE 42P01]") {
			t.Errorf("%+v: line %d (%s), want %d", tc, e.Line, e.Error(), tc.line)
		}
		if _, known := e.Offset(); known != (tc.line > 0) {
			t.Errorf("%+v: offset known %v", tc, known)
		}
	}
}
