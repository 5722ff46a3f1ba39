package pgname

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

func TestQuoting(t *testing.T) {
	tests := []struct{ in, ident, literal string }{
		{`orders`, `"orders"`, `'orders'`},
		{`Order Items`, `"Order Items"`, `'Order Items'`},
		{`a"b`, `"a""b"`, `'a"b'`},
		{`it's`, `"it's"`, `'it''s'`},
		{`''`, `"''"`, `''''''`},
		// A backslash means itself in a literal only under
		// standard_conforming_strings; in an E'' literal, doubled, it means
		// itself under either setting. Quoted identifiers have no escapes.
		{`C:\dir`, `"C:\dir"`, `E'C:\\dir'`},
		{`\'`, `"\'"`, `E'\\'''`},
		{`\\`, `"\\"`, `E'\\\\'`},
		{`café ☕ 日本`, `"café ☕ 日本"`, `'café ☕ 日本'`},
		{"nul\x00byte", `"nulbyte"`, `'nulbyte'`},
		{"\x00\\", `"\"`, `E'\\'`},
		{"line\nbreak", "\"line\nbreak\"", "'line\nbreak'"},
		{``, `""`, `''`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := Ident(tc.in); got != tc.ident {
				t.Errorf("Ident(%q) = %s, want %s", tc.in, got, tc.ident)
			}
			// strata quoted names with pgx before: they must not change.
			if got, was := Ident(tc.in), (pgx.Identifier{tc.in}).Sanitize(); got != was {
				t.Errorf("Ident(%q) = %s, pgx quotes it %s", tc.in, got, was)
			}
			if got := Literal(tc.in); got != tc.literal {
				t.Errorf("Literal(%q) = %s, want %s", tc.in, got, tc.literal)
			}
		})
	}
}

func TestRel(t *testing.T) {
	r := Rel{Schema: "my schema", Name: `a"b`}
	if got, want := r.Quoted(), `"my schema"."a""b"`; got != want {
		t.Errorf("Quoted = %s, want %s", got, want)
	}
	if got, want := r.String(), `my schema.a"b`; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
	for _, c := range []struct {
		r    Rel
		want string
	}{
		{r, `"my schema"."a""b"`},
		{Rel{Schema: "audit", Name: "not_null_orders_id2"}, "audit.not_null_orders_id2"},
		{Rel{Schema: "dev_audit", Name: "unique_orders_Id"}, `dev_audit."unique_orders_Id"`},
		{Rel{Schema: "audit", Name: "2x"}, `audit."2x"`},
		{Rel{Schema: "audit", Name: "é"}, `audit."é"`},
	} {
		if got := c.r.Typed(); got != c.want {
			t.Errorf("Typed(%v) = %s, want %s", c.r, got, c.want)
		}
	}
	if got, want := r.In("c"), (Rel{Schema: "my schema", Name: "c"}); got != want {
		t.Errorf("In = %v, want %v", got, want)
	}
	long := Rel{Schema: strings.Repeat("s", 70), Name: strings.Repeat("é", 40)}
	k := long.Kept()
	if k.Schema != strings.Repeat("s", 63) || k.Name != strings.Repeat("é", 31) {
		t.Errorf("Kept = %q", k)
	}
}

// The helpers that derive a name must cut it on a character boundary: a cut
// inside a UTF-8 character is refused by the server.
func TestNamesCutOnCharacterBoundary(t *testing.T) {
	e30 := strings.Repeat("é", 30) // 60 bytes
	e40 := strings.Repeat("é", 40) // 80 bytes
	cases := []struct {
		what, got string
	}{
		{"Temp", Temp(e30)},
		{"Stage", Stage(e30)},
		{"Source", Source(e30)},
		{"Index", Index(e30, []string{"id"}, false)},
		{"Index unique", Index(e30, []string{"id"}, true)},
		{"Partition", Partition(e30, "20240101")},
		{"Suffixed", Suffixed(e30, "__scd2_key_uidx")},
		{"Suffixed history", Suffixed(e30, "__scd2_history_uidx")},
		{"Fit", Fit(e40)},
		// An odd prefix moves every cut to the other byte of a character.
		{"Index odd", Index("x"+e30, []string{"id"}, false)},
		{"Partition odd", Partition("x"+e30, "20240101")},
		{"Fit odd", Fit("x" + e40)},
		{"Suffixed odd", Suffixed("x"+e30, "_key")},
		{"Temp odd", Temp("x" + e30)},
	}
	for _, c := range cases {
		if !utf8.ValidString(c.got) {
			t.Errorf("%s: %q is not valid UTF-8", c.what, c.got)
		}
		if len(c.got) > MaxIdent {
			t.Errorf("%s: %q is %d bytes (over %d)", c.what, c.got, len(c.got), MaxIdent)
		}
	}
}

// ASCII names keep the names they had before (existing indexes, partitions
// and temporary relations are found by name).
func TestNamesUnchanged(t *testing.T) {
	a60 := strings.Repeat("a", 60)
	cases := []struct{ what, got, want string }{
		{"Temp short", Temp("orders"), "orders__strata_new"},
		// A scratch name too long to hold the suffix is hashed (it was cut
		// bare, and two models sharing their first 51 bytes shared it): it
		// lives only inside a build's or check's transaction.
		{"Temp long", Temp(a60), strings.Repeat("a", 42) + "_97ffaf5b__strata_new"},
		{"Temp long, non-ASCII", Temp(strings.Repeat("é", 31) + "x"), strings.Repeat("é", 21) + "_e8176d11__strata_new"},
		{"Temp 51", Temp(strings.Repeat("a", 51)), strings.Repeat("a", 51) + "__strata_new"},
		{"Stage", Stage("orders"), "orders__strata_stage"},
		{"Stage long", Stage(a60), strings.Repeat("a", 40) + "_78240787__strata_stage"},
		{"Source", Source("dim"), "dim__strata_src"},
		{"Source long", Source(a60), strings.Repeat("a", 42) + "_a157ea77__strata_src"},
		{"Ephemeral", Ephemeral("m"), "__strata_ephemeral_m"},
		{"Fit short", Fit("orders"), "orders"},
		{"Fit 63", Fit(strings.Repeat("a", 63)), strings.Repeat("a", 63)},
		{"Fit 64", Fit(strings.Repeat("a", 64)), strings.Repeat("a", 54) + "_d96f0f85"},
		{"Index", Index("orders", []string{"id", "day"}, false), "orders__id_day_idx"},
		{"Index unique", Index("orders", []string{"id"}, true), "orders__id_uidx"},
		{"Partition", Partition("orders", "202401"), "orders_p202401"},
		{"Partition default", Partition("orders", "default"), "orders_pdefault"},
		{"Partition long", Partition(a60, "202401"), strings.Repeat("a", 46) + "_92b9e111_p202401"},
		{"Suffixed", Suffixed("dim", "__scd2_key_uidx"), "dim__scd2_key_uidx"},
		{"Cut", Cut("aé", 2), "a"},
		{"Cut whole", Cut("aé", 3), "aé"},
		{"Cut none", Cut("é", 0), ""},
		{"Cut negative", Cut("abc", -1), ""},
		{"Cut 4-byte", Cut("a😀", 4), "a"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	ix := Index(a60, []string{"id"}, false)
	if len(ix) != 63 || !strings.HasPrefix(ix, strings.Repeat("a", 54)+"_") {
		t.Errorf("Index long: %q", ix)
	}
}

// Two long names that share their first 63 bytes must not fit to one name.
func TestLongNamesStayApart(t *testing.T) {
	a := strings.Repeat("x", 63) + "_one"
	b := strings.Repeat("x", 63) + "_two"
	if Fit(a) == Fit(b) {
		t.Errorf("Fit(%q) == Fit(%q) == %q", a, b, Fit(a))
	}
	if Suffixed(a, "_key") == Suffixed(b, "_key") {
		t.Errorf("Suffixed(%q) == Suffixed(%q)", a, b)
	}
	if Partition(a, "2024") == Partition(b, "2024") {
		t.Errorf("Partition(%q) == Partition(%q)", a, b)
	}
	// Two names that fit but share the bytes a scratch name keeps of them
	// (models fct_..._monthly and fct_..._weekly) get scratch names of
	// their own: check holds them in one transaction.
	c := strings.Repeat("x", 55) + "_monthly"
	d := strings.Repeat("x", 55) + "_weekly"
	for what, f := range map[string]func(string) string{"Temp": Temp, "Stage": Stage, "Source": Source,
		"Check": Check, "CheckedAside": CheckedAside, "CheckedStandIn": CheckedStandIn} {
		if f(c) == f(d) {
			t.Errorf("%s(%q) == %s(%q) == %q", what, c, what, d, f(c))
		}
		if len(f(c)) > MaxIdent || !strings.Contains(f(c), Reserved) {
			t.Errorf("%s(%q) = %q", what, c, f(c))
		}
	}
}

// The lock keys are the ones strata has always used: two versions of strata
// on one database must take the same locks.
func TestLockKeys(t *testing.T) {
	r := Rel{Schema: "raw", Name: "orders"}
	cases := []struct{ got, want string }{
		{SwapLock, "strata:swap"},
		{RunLock("shop"), "strata:shop"},
		{SeedLock(r), "strata seed raw.orders"},
		{SCD2Lock(r), "strata:scd2:raw.orders"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// unquoteLiteral reads a literal as PostgreSQL does, under either
// standard_conforming_strings (for Literal's output both read the same).
func unquoteLiteral(t *testing.T, q string, conforming bool) string {
	escapes := false
	if strings.HasPrefix(q, "E'") {
		escapes, q = true, q[1:]
	} else if !conforming {
		escapes = true
	}
	if len(q) < 2 || q[0] != '\'' || q[len(q)-1] != '\'' {
		t.Fatalf("%s is not a literal", q)
	}
	body := q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		switch {
		case escapes && body[i] == '\\':
			i++
			if i == len(body) {
				t.Fatalf("%s ends inside an escape", q)
			}
			b.WriteByte(body[i])
		case body[i] == '\'':
			if i+1 == len(body) || body[i+1] != '\'' {
				t.Fatalf("%s has a lone quote inside", q)
			}
			i++
			b.WriteByte('\'')
		default:
			b.WriteByte(body[i])
		}
	}
	return b.String()
}

func unquoteIdent(t *testing.T, q string) string {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		t.Fatalf("%s is not a quoted identifier", q)
	}
	body := q[1 : len(q)-1]
	if strings.Count(body, `"`)%2 != 0 || strings.Contains(strings.ReplaceAll(body, `""`, ""), `"`) {
		t.Fatalf("%s has a lone quote inside", q)
	}
	return strings.ReplaceAll(body, `""`, `"`)
}

// A quoted literal or identifier reads back as the text it quoted (less NUL
// bytes), whatever standard_conforming_strings is.
func FuzzQuoteRoundTrip(f *testing.F) {
	for _, s := range []string{"", "x", "it's", `a\b`, `\'`, `"`, "a\x00b", "é😀", `'\''`, `""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ReplaceAll(s, "\x00", "")
		lit := Literal(s)
		for _, conforming := range []bool{true, false} {
			if got := unquoteLiteral(t, lit, conforming); got != want {
				t.Errorf("Literal(%q) = %s reads back as %q (standard_conforming_strings %v)", s, lit, got, conforming)
			}
		}
		if got := unquoteIdent(t, Ident(s)); got != want {
			t.Errorf("Ident(%q) = %s reads back as %q", s, Ident(s), got)
		}
		if c := Cut(s, MaxIdent); utf8.ValidString(s) && (!utf8.ValidString(c) || len(c) > MaxIdent || !strings.HasPrefix(s, c)) {
			t.Errorf("Cut(%q, %d) = %q", s, MaxIdent, c)
		}
	})
}

func TestCheckEnv(t *testing.T) {
	schemas := []string{"staging", "warehouse", strings.Repeat("s", 50)}
	for _, tc := range []struct{ name, want string }{
		{"pr_42", ""},
		{"_x1", ""},
		{"dev", ""},
		{strings.Repeat("a", 11), ""},
		{"", "an environment needs a name"},
		{"1pr", `environment name "1pr": '1' is not allowed (expected lower-case letters, digits and _, starting with a letter or _)`},
		{"PR1", `environment name "PR1": 'P' is not allowed (expected lower-case letters, digits and _, starting with a letter or _)`},
		{"pr-1", `environment name "pr-1": '-' is not allowed (expected lower-case letters, digits and _, starting with a letter or _)`},
		{"prè", `environment name "prè": 'è' is not allowed (expected lower-case letters, digits and _, starting with a letter or _)`},
		{"prod", `environment name "prod" is production's: leave out --env to build production`},
		{"pr__1", `environment name "pr__1" holds __, which separates a schema from its environment`},
		{strings.Repeat("a", 12), `environment name "aaaaaaaaaaaa" is too long: schema ` + strings.Repeat("s", 50) + `__aaaaaaaaaaaa would be 64 bytes, over PostgreSQL's 63 (at most 11 bytes of name here)`},
	} {
		err := CheckEnv(tc.name, schemas)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckEnv(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := EnvSchema("staging", "pr_1"); got != "staging__pr_1" {
		t.Errorf("EnvSchema = %q", got)
	}
	if got := EnvSchema("staging", ""); got != "staging" {
		t.Errorf("EnvSchema production = %q", got)
	}
}

func FuzzCheckEnv(f *testing.F) {
	for _, s := range []string{"pr_1", "prod", "a__b", "", "x\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckEnv(name, []string{"staging"}) != nil {
			return
		}
		s := EnvSchema("staging", name)
		if len(s) > MaxIdent || Ident(s) != `"`+s+`"` {
			t.Fatalf("accepted %q makes schema %q", name, s)
		}
	})
}
