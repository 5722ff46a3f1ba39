package diag

import (
	"errors"
	"testing"
)

func TestDiagnosticText(t *testing.T) {
	cases := []struct {
		d    Diagnostic
		want string
	}{
		{Diagnostic{Pos: Pos{File: "models/a.sql", Line: 3, Col: 7}, Msg: "bad"}, "models/a.sql:3:7: bad"},
		{Diagnostic{Pos: Pos{File: "models/a.sql", Line: 3}, Msg: "bad"}, "models/a.sql:3: bad"},
		{Diagnostic{Pos: Pos{File: "project.yaml"}, Msg: "bad"}, "project.yaml: bad"},
		{Diagnostic{Msg: "bad"}, "bad"},
		{Diagnostic{Pos: Pos{File: "x.yml", Line: 1, Col: 1}, Severity: Warning, Msg: "hm"}, "x.yml:1:1: warning: hm"},
	}
	for _, c := range cases {
		if got := c.d.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestListSortsDedupesAndKeepsErrors(t *testing.T) {
	var l List
	l.Errorf(Pos{File: "b", Line: 2}, "two")
	l.Warnf(Pos{File: "a", Line: 9}, "warn")
	l.Errorf(Pos{File: "b", Line: 1}, "one")
	l.Errorf(Pos{File: "b", Line: 1}, "one")
	l.Sort()
	if len(l) != 3 || l[0].Pos.File != "a" || l[1].Msg != "one" || l[2].Msg != "two" {
		t.Fatalf("sorted: %v", l)
	}
	if !l.HasErrors() || l.Err() == nil {
		t.Fatal("a list with errors must say so")
	}
	var only List
	only.Warnf(Pos{}, "w")
	if only.Err() != nil {
		t.Fatal("warnings alone are not an error")
	}
	var into List
	into.Add(Pos{File: "f"}, l)
	into.Add(Pos{File: "f", Line: 4}, errors.New("plain"))
	if len(into) != 4 || into[3].Error() != "f:4: plain" {
		t.Fatalf("Add: %v", into)
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"materialized", "schema", "unique_key", "tags"}
	cases := map[string]string{"materialised": "materialized", "shema": "schema", "uniqe_key": "unique_key", "tag": "tags", "zzzzzzzz": ""}
	for in, want := range cases {
		if got := Suggest(in, keys); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
	if got := DidYouMean("shema", keys); got != ` (did you mean "schema"?)` {
		t.Errorf("DidYouMean: %q", got)
	}
	if got := Suggest("ünïcode", []string{"unicode"}); got != "unicode" {
		t.Errorf("non-ASCII: %q", got)
	}
}

// TestSuggestIgnoresCase: names match exactly, so a name written in
// other case is the likeliest mistake: it is suggested however many
// letters differ in case, and before a name a letter away; between names
// equally close, the one closer in case wins.
func TestSuggestIgnoresCase(t *testing.T) {
	names := []string{"stg_orders", "stg_order_items", "Stg_Order", "dim_customers", "ÉTÉ"}
	cases := []struct{ in, want string }{
		{"STG_ORDERS", "stg_orders"},
		{"Stg_Orders", "stg_orders"},
		{"STG_ORDER", "Stg_Order"},
		{"stg_order", "Stg_Order"},
		{"DIM_CUSTOMER", "dim_customers"},
		{"été", "ÉTÉ"},
		{"FACT_SALES", ""},
	}
	for _, c := range cases {
		if got := Suggest(c.in, names); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := SuggestWithin("STAGING", []string{"staging", "stagin"}, 1); got != "staging" {
		t.Errorf("SuggestWithin: %q", got)
	}
	if got := SuggestWithin("STAGINGX", []string{"staging"}, 0); got != "" {
		t.Errorf("SuggestWithin beyond max: %q", got)
	}
}
