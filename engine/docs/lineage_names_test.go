package docs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/cli"
	"strata/engine/docs"
)

// A model's name may hold a space (its file is "sp ace.sql"). The lineage's
// select box reads it as -s does (docs/selectors.md): the name as it is, or
// quoted inside a selector ('"sp ace"+'); and focusing on the node (its
// double-click, the details' focus button) selects it with its family, where
// the box split "+sp ace+" into "+sp" and "ace+" and showed no node.
func TestLineageSelectsNamesWithSpaces(t *testing.T) {
	bin := chromium(t)
	nodes := map[string]*artifacts.Node{
		"model.p.sp ace": {ID: "model.p.sp ace", ResourceType: "model", Name: "sp ace", Path: "models/sp ace.sql", Config: []byte(`{"materialized":"view"}`)},
		"model.p.child":  {ID: "model.p.child", ResourceType: "model", Name: "child", Path: "models/child.sql", Config: []byte(`{"materialized":"view"}`)},
		"model.p.other":  {ID: "model.p.other", ResourceType: "model", Name: "other", Path: "models/other.sql", Config: []byte(`{"materialized":"view"}`)},
	}
	in := &docs.Input{
		Manifest: &artifacts.Manifest{Project: "p", Target: "dev", Nodes: nodes,
			Parents:  map[string][]string{"model.p.child": {"model.p.sp ace"}},
			Children: map[string][]string{"model.p.sp ace": {"model.p.child"}}},
		Offline: "test",
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	const probe = `window.addEventListener('load', function () {
  var L = window.strataLineage, out = {}, err = function () { return document.getElementById('message').textContent; };
  out.whole = [L.filter('sp ace', ''), err()];
  out.quoted = [L.filter('"sp ace"+', ''), err()];
  out.single = [L.filter("'sp ace'+ other", ''), err()];
  out.excluded = [L.filter('', '"sp ace"'), err()];
  L.filter('"sp ace+', '');
  out.unclosed = [err()];
  L.filter('models/child.sql', '');
  out.path = [err()];
  L.filter('', '');
  L.focus(+document.querySelector('#graph g[data-id="model.p.sp ace"]').dataset.i);
  out.focus = [+document.getElementById('graph').dataset.nodes, document.getElementById('select').value, err(), (document.getElementById('focus') || {}).textContent];
  document.documentElement.setAttribute('data-probe', JSON.stringify(out));
});`
	b := &browser{t: t, bin: bin}
	var got map[string][]any
	if err := json.Unmarshal([]byte(b.probe(filepath.Join(dir, "index.html"), "", probe, 1200, 800)), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string][]any{
		"whole":    {1.0, ""},
		"quoted":   {2.0, ""},
		"single":   {3.0, ""},
		"excluded": {2.0, ""},
		"unclosed": {"the quote \" is not closed (expected a closing \")"},
		// A path written as dbt writes it, without path:, as -s says it.
		"path":  {`no model, seed, test or exposure is called "models/child.sql" (a name holds no /: for the nodes defined in a file or under a folder, write path:models/child.sql)`},
		"focus": {2.0, `+"sp ace"+`, "", `focus: +"sp ace"+`},
	}
	for k, w := range want {
		if g, _ := json.Marshal(got[k]); string(g) != mustJSON(t, w) {
			t.Errorf("%s: got %s, want %s", k, g, mustJSON(t, w))
		}
	}
}

// A model's name may hold a quote (its file is "it's.sql"). Focusing on it
// (double-click, the focus button) quotes the name with the quote it does
// not hold, as -s reads it (+"it's"+), where the box got +it's+, read it as
// an unclosed quote and showed no node; a name holding a double quote is
// quoted with single quotes.
func TestLineageFocusesNamesWithQuotes(t *testing.T) {
	bin := chromium(t)
	model := func(name string) *artifacts.Node {
		return &artifacts.Node{ID: "model.p." + name, ResourceType: "model", Name: name, Path: "models/" + name + ".sql", Config: []byte(`{"materialized":"view"}`)}
	}
	nodes := map[string]*artifacts.Node{}
	for _, n := range []string{"it's", `say "hi"`, "child", "other"} {
		nodes["model.p."+n] = model(n)
	}
	in := &docs.Input{
		Manifest: &artifacts.Manifest{Project: "p", Target: "dev", Nodes: nodes,
			Parents:  map[string][]string{"model.p.child": {"model.p.it's", `model.p.say "hi"`}},
			Children: map[string][]string{"model.p.it's": {"model.p.child"}, `model.p.say "hi"`: {"model.p.child"}}},
		Offline: "test",
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	const probe = `window.addEventListener('load', function () {
  var L = window.strataLineage, out = {}, err = function () { return document.getElementById('message').textContent; };
  ["model.p.it's", 'model.p.say "hi"'].forEach(function (id) {
    L.filter('', '');
    var g = Array.prototype.find.call(document.querySelectorAll('#graph g[data-id]'), function (e) { return e.dataset.id === id; });
    L.focus(+g.dataset.i);
    out[id] = [+document.getElementById('graph').dataset.nodes, document.getElementById('select').value, err(), (document.getElementById('focus') || {}).textContent];
  });
  document.documentElement.setAttribute('data-probe', JSON.stringify(out));
});`
	b := &browser{t: t, bin: bin}
	var got map[string][]any
	if err := json.Unmarshal([]byte(b.probe(filepath.Join(dir, "index.html"), "", probe, 1200, 800)), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string][]any{
		"model.p.it's":     {2.0, `+"it's"+`, "", `focus: +"it's"+`},
		`model.p.say "hi"`: {2.0, `+'say "hi"'+`, "", `focus: +'say "hi"'+`},
	}
	for k, w := range want {
		if g, _ := json.Marshal(got[k]); string(g) != mustJSON(t, w) {
			t.Errorf("%s: got %s, want %s", k, g, mustJSON(t, w))
		}
	}
}

// A selector that names nothing (a typo) says so in the lineage page's
// message, in the words `strata ls -s` uses and with the same suggestion,
// where the page showed an empty graph and no word of why.
func TestLineageSaysWhatASelectorDoesNotName(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	for file, text := range map[string]string{
		"project.yaml":                  "name: p\nmodels:\n  staging: {tags: [staging]}\n",
		"models/staging/stg_orders.sql": `select 1 as id from {{ source "crm" "accounts" }}`,
		"models/fact_orders.sql":        `select id from {{ ref "stg_orders" }}`,
		"models/m.yml": "sources:\n  - name: crm\n    tables: [{name: accounts}]\n" +
			"exposures:\n  - name: executive_summary\n    type: notebook\n    depends_on: [fact_orders]\n",
	} {
		writeFile(t, filepath.Join(dir, file), text)
	}
	strata(t, "--project-dir", dir, "docs", "generate", "--offline")
	sels := []string{"stg_order", "+fact_order+", "stg_x*", "tag:stagin", "tag:x*", "exposure:executive", "source:crmm", "path:models/stagin", "path:models/staging/stg_orders.sq"}
	var want []string
	for _, sel := range sels {
		var stdout, stderr bytes.Buffer
		if code := cli.Main(context.Background(), []string{"--project-dir", dir, "ls", "-s", sel}, &stdout, &stderr); code == 0 {
			t.Fatalf("strata ls -s %s: exit 0, want an error", sel)
		}
		msg := strings.TrimSpace(stderr.String())
		msg, _, _ = strings.Cut(msg[strings.LastIndex(msg, sel+": ")+len(sel+": "):], "\n")
		want = append(want, msg)
	}
	js, _ := json.Marshal(sels)
	probe := `window.addEventListener('load', function () {
  var L = window.strataLineage, out = [], err = function () { return document.getElementById('message').textContent; };
  ` + string(js) + `.forEach(function (s) { L.filter('', ''); L.filter(s, ''); out.push(err()); });
  L.filter('', '');
  L.filter('', 'stg_order');
  out.push(err());
  document.documentElement.setAttribute('data-probe', JSON.stringify(out));
});`
	b := &browser{t: t, bin: bin}
	var got []string
	if err := json.Unmarshal([]byte(b.probe(filepath.Join(dir, "target", "docs", "index.html"), "", probe, 1200, 800)), &got); err != nil {
		t.Fatal(err)
	}
	want = append(want, want[0]) // the exclude box says the same
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d: %q", len(got), len(want), got)
	}
	for i, w := range want {
		sel := "exclude stg_order"
		if i < len(sels) {
			sel = sels[i]
		}
		if got[i] != w || w == "" {
			t.Errorf("select %s: the page says %q, strata ls says %q", sel, got[i], w)
		}
	}
}

// The lineage's path: selector cleans its path as strata ls -s does (Go's
// path.Clean): path:. is the whole project and path:models/./staging is
// models/staging, where the page said path:. names nothing and showed no
// node. Each selector picks in the page the nodes ls picks, and a cleaned
// path that names nothing gets ls's words.
func TestLineageCleansPaths(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	for file, text := range map[string]string{
		"project.yaml":                  "name: p\n",
		"models/staging/stg_orders.sql": `select 1 as id from {{ source "crm" "accounts" }}`,
		"models/fact_orders.sql":        `select id from {{ ref "stg_orders" }}`,
		"models/m.yml": "sources:\n  - name: crm\n    tables: [{name: accounts}]\n" +
			"exposures:\n  - name: executive_summary\n    type: notebook\n    depends_on: [fact_orders]\n",
	} {
		writeFile(t, filepath.Join(dir, file), text)
	}
	strata(t, "--project-dir", dir, "docs", "generate", "--offline")
	sels := []string{"path:.", "path:./", "path:./models", "path:models/./staging", "path:models//staging/", "path:models/staging/../staging",
		"path:models/staging/..", "path:./models/m.yml", "path:./models/stagin", "path:models/../x"}
	type pick struct {
		IDs []string `json:"ids"`
		Msg string   `json:"msg"`
	}
	var want []pick
	for _, sel := range sels {
		var stdout, stderr bytes.Buffer
		w := pick{IDs: []string{}}
		if code := cli.Main(context.Background(), []string{"--project-dir", dir, "ls", "-s", sel, "--output", "json"}, &stdout, &stderr); code != 0 {
			msg := strings.TrimSpace(stderr.String())
			w.Msg, _, _ = strings.Cut(msg[strings.LastIndex(msg, sel+": ")+len(sel+": "):], "\n")
		}
		for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
			var n struct {
				ID string `json:"unique_id"`
			}
			if line != "" {
				if err := json.Unmarshal([]byte(line), &n); err != nil {
					t.Fatalf("ls -s %s: %v", sel, err)
				}
				w.IDs = append(w.IDs, n.ID)
			}
		}
		slices.Sort(w.IDs)
		want = append(want, w)
	}
	if len(want[0].IDs) != 4 || want[0].Msg != "" || want[8].Msg == "" {
		t.Fatalf("strata ls: path:. picks %q, path:./models/stagin says %q", want[0].IDs, want[8].Msg)
	}
	js, _ := json.Marshal(sels)
	probe := `window.addEventListener('load', function () {
  var L = window.strataLineage, out = [];
  ` + string(js) + `.forEach(function (s) {
    L.filter('', ''); L.filter(s, '');
    var ids = [];
    document.querySelectorAll('#graph g[data-id]').forEach(function (g) { ids.push(g.dataset.id); });
    out.push({ids: ids.sort(), msg: document.getElementById('message').textContent});
  });
  document.documentElement.setAttribute('data-probe', JSON.stringify(out));
});`
	b := &browser{t: t, bin: bin}
	var got []pick
	if err := json.Unmarshal([]byte(b.probe(filepath.Join(dir, "target", "docs", "index.html"), "", probe, 1200, 800)), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d selections, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if w.Msg != "" {
			if got[i].Msg != w.Msg {
				t.Errorf("select %s: the page says %q, strata ls says %q", sels[i], got[i].Msg, w.Msg)
			}
			continue
		}
		if got[i].Msg != "" || !slices.Equal(got[i].IDs, w.IDs) {
			t.Errorf("select %s: the page shows %q (%q), strata ls picks %q", sels[i], got[i].IDs, got[i].Msg, w.IDs)
		}
	}
}

// The lineage's details of a source or an exposure, which no command runs,
// show no run status, where they said "not run" as of a model never built.
func TestLineageDetailsOfWhatNeverRuns(t *testing.T) {
	bin := chromium(t)
	in := &docs.Input{
		Manifest: &artifacts.Manifest{Project: "p", Target: "dev",
			Nodes:    map[string]*artifacts.Node{"model.p.m": {ID: "model.p.m", ResourceType: "model", Name: "m", Config: []byte(`{"materialized":"view"}`)}},
			Sources:  map[string]*artifacts.Node{"source.p.crm.accounts": {ID: "source.p.crm.accounts", ResourceType: "source", Name: "crm.accounts"}},
			Exposure: map[string]*artifacts.Node{"exposure.p.nb": {ID: "exposure.p.nb", ResourceType: "exposure", Name: "nb", Type: "notebook"}},
			Parents:  map[string][]string{"model.p.m": {"source.p.crm.accounts"}, "exposure.p.nb": {"model.p.m"}},
			Children: map[string][]string{"source.p.crm.accounts": {"model.p.m"}, "model.p.m": {"exposure.p.nb"}}},
		Offline: "test",
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	const probe = `window.addEventListener('load', function () {
  var L = window.strataLineage, out = {};
  document.querySelectorAll('#graph g[data-id]').forEach(function (g) {
    L.pick(+g.dataset.i);
    var st = document.querySelector('#details .status');
    out[g.dataset.id] = st ? st.textContent : '';
  });
  document.documentElement.setAttribute('data-probe', JSON.stringify(out));
});`
	b := &browser{t: t, bin: bin}
	var got map[string]string
	if err := json.Unmarshal([]byte(b.probe(filepath.Join(dir, "index.html"), "", probe, 1200, 800)), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"model.p.m": "not run", "source.p.crm.accounts": "", "exposure.p.nb": ""}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("the details' status: got %s, want %s", g, w)
	}
}
