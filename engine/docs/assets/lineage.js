// The lineage page: every node of the project laid out left to right by
// layer, filtered with strata's selector syntax (a port of engine/graph's
// basic operators), coloured by materialization or by last run status.
// The data is window.STRATA_GRAPH, written by `strata docs generate`.
(function () {
  'use strict';
  var G = window.STRATA_GRAPH;
  // node fields
  var ID = 0, KIND = 1, NAME = 2, MAT = 3, STATUS = 4, PATH = 5, TAGS = 6, ATTACHED = 7, SCHEMA = 8;
  var N = G.nodes.length;
  var parents = G.parents;
  var children = [];
  for (var i = 0; i < N; i++) children.push([]);
  for (var c = 0; c < N; c++) for (var k = 0; k < parents[c].length; k++) children[parents[c][k]].push(c);

  var MAT_COLOURS = {seed: '#cfe8c4', source: '#c6e2f2', view: '#dbe7fb', table: '#a9c3f5', incremental: '#f6d7a7',
    ephemeral: '#ececec', materialized_view: '#d7c6f2', scd2: '#f4c2d7', test: '#f5f5f5', exposure: '#ffe08a'};
  var STATUS_COLOURS = {success: '#3aa17e', pass: '#3aa17e', warn: '#e0a030', error: '#d6483e', fail: '#d6483e', skipped: '#9aa3ad', '': '#ffffff'};
  var STATUS_LABELS = {success: 'success', pass: 'pass', warn: 'warn', error: 'error', fail: 'fail', skipped: 'skipped', '': 'not run'};

  // ---- selection (SPEC 7) ----
  var SEL_RE = /^(@)?((\d*)\+)?([^+@]+?)(\+(\d*))?$/;
  var METHODS = ['tag', 'path', 'config', 'resource_type', 'exposure', 'source', 'test_type', 'result', 'status'];

  function globRe(p) {
    var re = '^';
    for (var i = 0; i < p.length; i++) {
      var ch = p[i];
      if (ch === '*') re += '[^/]*';
      else if (ch === '?') re += '[^/]';
      else if (ch === '[') {
        var j = p.indexOf(']', i);
        if (j < 0) { re += '\\['; continue; }
        re += '[' + p.slice(i + 1, j).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = j;
      } else re += ch.replace(/[.*+?^${}()|[\]\\\/]/g, '\\$&');
    }
    return new RegExp(re + '$');
  }

  function walk(start, depth, next, out) {
    var frontier = [start], seen = {}, d = 0;
    seen[start] = true;
    while (frontier.length && (depth < 0 || d < depth)) {
      var nf = [];
      for (var i = 0; i < frontier.length; i++) {
        var nb = next[frontier[i]];
        for (var j = 0; j < nb.length; j++) if (!seen[nb[j]]) { seen[nb[j]] = true; out[nb[j]] = true; nf.push(nb[j]); }
      }
      frontier = nf; d++;
    }
  }

  function match(body) {
    var out = {}, i, n;
    var colon = body.indexOf(':');
    if (colon < 0) {
      var re = globRe(body);
      for (i = 0; i < N; i++) if (G.nodes[i][KIND] !== 'source' && re.test(G.nodes[i][NAME])) out[i] = true;
      return out;
    }
    var method = body.slice(0, colon), value = body.slice(colon + 1), key = '';
    if (value === '') throw new Error('"' + body + '" has no value after the colon');
    if (method.indexOf('config.') === 0) { key = method.slice(7); method = 'config'; }
    var vre = globRe(value);
    switch (method) {
      case 'tag':
        for (i = 0; i < N; i++) if (G.nodes[i][TAGS].some(function (t) { return vre.test(t); })) out[i] = true;
        break;
      case 'path':
        var p = value.replace(/\/+$/, '');
        for (i = 0; i < N; i++) { n = G.nodes[i][PATH]; if (n === p || n.indexOf(p + '/') === 0) out[i] = true; }
        break;
      case 'config':
        var field = {materialized: MAT, schema: SCHEMA, tags: TAGS}[key];
        if (field === undefined) throw new Error('config.' + key + ': the docs site filters on config.materialized, config.schema and config.tags');
        for (i = 0; i < N; i++) {
          n = G.nodes[i];
          if (n[KIND] === 'source' || n[KIND] === 'exposure') continue;
          var v = n[field];
          if (Array.isArray(v) ? v.indexOf(value) >= 0 : v === value) out[i] = true;
        }
        break;
      case 'resource_type':
        if (['model', 'seed', 'test', 'source', 'exposure'].indexOf(value) < 0) throw new Error('resource_type "' + value + '" is not known (expected model, seed, test, source or exposure)');
        for (i = 0; i < N; i++) if (G.nodes[i][KIND] === value) out[i] = true;
        break;
      case 'exposure':
        for (i = 0; i < N; i++) if (G.nodes[i][KIND] === 'exposure' && vre.test(G.nodes[i][NAME])) out[i] = true;
        break;
      case 'source':
        for (i = 0; i < N; i++) {
          n = G.nodes[i];
          if (n[KIND] === 'source' && (n[NAME] === value || n[NAME].split('.')[0] === value)) out[i] = true;
        }
        break;
      case 'test_type':
        for (i = 0; i < N; i++) {
          n = G.nodes[i];
          if (n[KIND] !== 'test') continue;
          var singular = n[ATTACHED] < 0 && n[PATH].indexOf('tests/') === 0;
          if ((value === 'singular') === singular && (value === 'singular' || value === 'generic')) out[i] = true;
        }
        break;
      case 'result':
      case 'status':
        for (i = 0; i < N; i++) if (G.nodes[i][STATUS] === value || (value === 'none' && G.nodes[i][STATUS] === '')) out[i] = true;
        break;
      default:
        throw new Error('selector method "' + method + '" is not known (expected one of ' + METHODS.join(', ') + ')');
    }
    return out;
  }

  function one(sel) {
    var m = SEL_RE.exec(sel);
    if (!m) throw new Error('"' + sel + '" is not a selector (expected name, +name, name+, 2+name, @name, or method:value)');
    var at = m[1] === '@', hasUp = !!m[2], up = m[3], body = m[4], hasDown = !!m[5], down = m[6];
    if (at && (hasUp || hasDown)) throw new Error('"' + sel + '": @ cannot be combined with +');
    var base = match(body), out = {};
    var depth = function (s) { return s ? parseInt(s, 10) : -1; };
    Object.keys(base).forEach(function (id) {
      id = +id; out[id] = true;
      if (hasUp) walk(id, depth(up), parents, out);
      if (hasDown || at) {
        var desc = {};
        walk(id, depth(down), children, desc);
        Object.keys(desc).forEach(function (d) {
          out[d] = true;
          if (at) walk(+d, -1, parents, out);
        });
      }
    });
    return out;
  }

  function intersection(expr) {
    var result = null;
    expr.split(',').forEach(function (part) {
      var set = one(part);
      if (result === null) { result = set; return; }
      Object.keys(result).forEach(function (id) { if (!set[id]) delete result[id]; });
    });
    return result;
  }

  function addTests(set) {
    for (var i = 0; i < N; i++) {
      var n = G.nodes[i];
      if (n[KIND] !== 'test' || set[i]) continue;
      if (n[ATTACHED] >= 0) { if (set[n[ATTACHED]]) set[i] = true; continue; }
      var ps = parents[i], all = ps.length > 0;
      for (var j = 0; j < ps.length; j++) all = all && !!set[ps[j]];
      if (all) set[i] = true;
    }
  }

  // select returns the set of node indexes chosen, as graph.Select does.
  function select(sel, exc) {
    var chosen = {}, i, fields = sel.trim().split(/\s+/).filter(Boolean);
    if (!fields.length) for (i = 0; i < N; i++) chosen[i] = true;
    else {
      fields.forEach(function (f) { var s = intersection(f); for (var id in s) chosen[id] = true; });
      addTests(chosen);
    }
    var excluded = {};
    exc.trim().split(/\s+/).filter(Boolean).forEach(function (f) { var s = intersection(f); for (var id in s) excluded[id] = true; });
    addTests(excluded);
    for (var id in excluded) delete chosen[id];
    return chosen;
  }

  // ---- layout: layers by longest path from the roots, order by parents' positions ----
  var W = 200, H = 24, TH = 18, COLW = 270, ROWH = 30, TROWH = 22, PAD = 20;

  function layout(set) {
    var ids = Object.keys(set).map(Number).sort(function (a, b) { return a - b; });
    var indeg = {}, layer = {}, queue = [], i, j;
    for (i = 0; i < ids.length; i++) {
      var d = 0, ps = parents[ids[i]];
      for (j = 0; j < ps.length; j++) if (set[ps[j]]) d++;
      indeg[ids[i]] = d;
      layer[ids[i]] = 0;
      if (d === 0) queue.push(ids[i]);
    }
    var order = [];
    for (var q = 0; q < queue.length; q++) {
      var v = queue[q];
      order.push(v);
      var ch = children[v];
      for (j = 0; j < ch.length; j++) {
        var w = ch[j];
        if (!set[w]) continue;
        if (layer[v] + 1 > layer[w]) layer[w] = layer[v] + 1;
        if (--indeg[w] === 0) queue.push(w);
      }
    }
    var cols = [];
    order.forEach(function (v) { (cols[layer[v]] = cols[layer[v]] || []).push(v); });
    var y = {}, x = {}, maxY = 0;
    cols.forEach(function (col, L) {
      // Barycentre of the parents already placed; roots by kind then name.
      var key = {};
      col.forEach(function (v) {
        var ps = parents[v], s = 0, n = 0;
        for (var k = 0; k < ps.length; k++) if (set[ps[k]] && y[ps[k]] !== undefined) { s += y[ps[k]]; n++; }
        key[v] = n ? s / n : -1;
      });
      // Models, seeds and dashboards first, their tests below them, so the column reads as a list of models.
      var isTest = function (v) { return G.nodes[v][KIND] === 'test' ? 1 : 0; };
      col.sort(function (a, b) {
        return isTest(a) - isTest(b) || key[a] - key[b] || (G.nodes[a][NAME] < G.nodes[b][NAME] ? -1 : G.nodes[a][NAME] > G.nodes[b][NAME] ? 1 : 0);
      });
      var next = PAD;
      col.forEach(function (v) {
        var want = key[v] >= 0 && !isTest(v) ? key[v] : next;
        var at = Math.max(next, want);
        y[v] = at; x[v] = PAD + L * COLW;
        next = at + (G.nodes[v][KIND] === 'test' ? TROWH : ROWH);
        if (next > maxY) maxY = next;
      });
    });
    return {ids: order, x: x, y: y, width: PAD * 2 + Math.max(cols.length, 1) * COLW - (COLW - W), height: maxY + PAD, layers: cols.length};
  }

  // ---- rendering ----
  var state = {select: '', exclude: '', tests: true, colour: 'mat', zoom: 1, picked: -1};
  var graphEl = document.getElementById('graph');
  var lastLayout = null;

  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  function fill(n) { return state.colour === 'status' ? (n[STATUS] ? STATUS_COLOURS[n[STATUS]] || '#fff' : '#ffffff') : MAT_COLOURS[n[MAT]] || '#eee'; }
  function h(v) { return G.nodes[v][KIND] === 'test' ? TH : H; }
  function label(n) { var s = n[NAME]; return s.length > 28 ? s.slice(0, 27) + '…' : s; }

  function edgePath(L, set, only) {
    var d = [];
    L.ids.forEach(function (v) {
      var ps = parents[v];
      for (var k = 0; k < ps.length; k++) {
        var p = ps[k];
        if (!set[p]) continue;
        if (only >= 0 && p !== only && v !== only) continue;
        var x1 = L.x[p] + W, y1 = L.y[p] + h(p) / 2, x2 = L.x[v], y2 = L.y[v] + h(v) / 2, mx = (x1 + x2) / 2;
        d.push('M' + x1 + ' ' + y1 + 'C' + mx + ' ' + y1 + ' ' + mx + ' ' + y2 + ' ' + x2 + ' ' + y2);
      }
    });
    return d.join('');
  }

  var current = {};
  function render() {
    var t0 = performance.now();
    var msg = document.getElementById('message');
    msg.textContent = '';
    var set;
    try {
      set = select(state.select, state.exclude);
    } catch (e) {
      msg.textContent = e.message;
      msg.className = 'message bad';
      return;
    }
    if (!state.tests) for (var id in set) if (G.nodes[id][KIND] === 'test') delete set[id];
    current = set;
    var L = layout(set);
    lastLayout = L;
    var out = [];
    out.push('<svg xmlns="http://www.w3.org/2000/svg" id="lineage-svg" viewBox="0 0 ' + L.width + ' ' + L.height + '" width="' + Math.round(L.width * state.zoom) + '" height="' + Math.round(L.height * state.zoom) + '">');
    out.push('<path class="edges" d="' + edgePath(L, set, -1) + '"/>');
    out.push('<path class="edges hot" id="hot-edges" d="' + (state.picked >= 0 && set[state.picked] ? edgePath(L, set, state.picked) : '') + '"/>');
    var edges = 0;
    L.ids.forEach(function (v) {
      var n = G.nodes[v], hh = h(v);
      for (var k = 0; k < parents[v].length; k++) if (set[parents[v][k]]) edges++;
      out.push('<g class="n k-' + n[KIND] + (v === state.picked ? ' picked' : '') + '" data-i="' + v + '" data-id="' + esc(n[ID]) + '" data-status="' + n[STATUS] + '" transform="translate(' + L.x[v] + ',' + L.y[v] + ')">' +
        '<rect class="box" width="' + W + '" height="' + hh + '" rx="4" fill="' + fill(n) + '"/>' +
        '<rect class="st" width="5" height="' + hh + '" rx="2" fill="' + (STATUS_COLOURS[n[STATUS]] || '#fff') + '"/>' +
        '<text x="10" y="' + (hh / 2 + 4) + '">' + esc(label(n)) + '</text></g>');
    });
    out.push('</svg>');
    graphEl.innerHTML = out.join('');
    graphEl.dataset.nodes = L.ids.length;
    graphEl.dataset.edges = edges;
    var ms = performance.now() - t0;
    graphEl.dataset.renderMs = ms.toFixed(1);
    document.getElementById('count').textContent = L.ids.length + ' of ' + N + ' nodes, ' + edges + ' edges, ' + L.layers + ' layers (' + ms.toFixed(0) + ' ms)';
    if (state.picked >= 0) details(state.picked);
    legend();
    writeHash();
  }

  function legend() {
    var el = document.getElementById('legend'), items = [];
    var seen = {};
    for (var id in current) seen[state.colour === 'status' ? G.nodes[id][STATUS] : G.nodes[id][MAT]] = true;
    var table = state.colour === 'status' ? STATUS_COLOURS : MAT_COLOURS;
    Object.keys(table).forEach(function (k) {
      if (!seen[k]) return;
      var name = state.colour === 'status' ? STATUS_LABELS[k] : k;
      items.push('<span class="sw"><i style="background:' + table[k] + '"></i>' + esc(name) + '</span>');
    });
    el.innerHTML = items.join('') + (state.colour === 'mat' ? '<span class="sw note">left edge: last run status</span>' : '');
  }

  function href(v) {
    var n = G.nodes[v];
    switch (n[KIND]) {
      case 'model': case 'seed': case 'source': return 'nodes/' + encodeURIComponent(n[ID]) + '.html';
      case 'exposure': return 'dashboards/' + encodeURIComponent(n[NAME]) + '.html';
      case 'test': return n[ATTACHED] >= 0 ? 'nodes/' + encodeURIComponent(G.nodes[n[ATTACHED]][ID]) + '.html#tests' : '';
    }
    return '';
  }

  function details(v) {
    var n = G.nodes[v], el = document.getElementById('details');
    var list = function (xs) {
      return xs.length ? '<ul>' + xs.slice(0, 50).map(function (i) { return '<li><a href="#" data-pick="' + i + '">' + esc(G.nodes[i][NAME]) + '</a> <span class="kind">' + G.nodes[i][KIND] + '</span></li>'; }).join('') + (xs.length > 50 ? '<li>… ' + (xs.length - 50) + ' more</li>' : '') + '</ul>' : '<p>none</p>';
    };
    var link = href(v);
    el.innerHTML = '<h3>' + esc(n[NAME]) + '</h3><p><span class="kind">' + n[KIND] + '</span> ' +
      (n[MAT] !== n[KIND] ? '<span class="mat">' + esc(n[MAT]) + '</span> ' : '') +
      '<span class="status ' + ({success: 'ok', pass: 'ok', warn: 'warn', error: 'bad', fail: 'bad', skipped: 'skip'}[n[STATUS]] || 'none') + '">' + STATUS_LABELS[n[STATUS]] + '</span></p>' +
      '<p class="meta">' + esc(n[PATH]) + '</p>' +
      (link ? '<p><a class="open" href="' + link + '">open page</a></p>' : '') +
      '<p><button type="button" id="focus">focus: +' + esc(n[NAME]) + '+</button></p>' +
      '<h4>parents</h4>' + list(parents[v]) + '<h4>children</h4>' + list(children[v]);
  }

  function pick(v) {
    state.picked = v;
    var old = graphEl.querySelector('g.picked');
    if (old) old.classList.remove('picked');
    var g = graphEl.querySelector('g[data-i="' + v + '"]');
    if (g) g.classList.add('picked');
    var hot = document.getElementById('hot-edges');
    if (hot && lastLayout) hot.setAttribute('d', current[v] ? edgePath(lastLayout, current, v) : '');
    details(v);
  }

  function focusOn(v) {
    var n = G.nodes[v];
    var name = n[KIND] === 'exposure' ? 'exposure:' + n[NAME] : n[KIND] === 'source' ? 'source:' + n[NAME] : n[NAME];
    state.select = '+' + name + (n[KIND] === 'exposure' ? '' : '+');
    state.exclude = '';
    document.getElementById('select').value = state.select;
    document.getElementById('exclude').value = '';
    state.picked = v;
    render();
    var g = graphEl.querySelector('g[data-i="' + v + '"]');
    if (g && g.scrollIntoView) g.scrollIntoView({block: 'center', inline: 'center'});
  }

  function writeHash() {
    var p = [];
    if (state.select) p.push('select=' + encodeURIComponent(state.select));
    if (state.exclude) p.push('exclude=' + encodeURIComponent(state.exclude));
    if (!state.tests) p.push('tests=0');
    if (state.colour !== 'mat') p.push('colour=' + state.colour);
    var h = p.length ? '#' + p.join('&') : '';
    if (h !== location.hash && !(h === '' && location.hash === '#')) history.replaceState(null, '', h || location.pathname + location.search);
  }

  function readHash() {
    var h = location.hash.replace(/^#/, '');
    state.select = ''; state.exclude = ''; state.tests = true; state.colour = 'mat';
    h.split('&').forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf('='), k = i < 0 ? kv : kv.slice(0, i), v = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, '%2B'));
      if (k === 'select') state.select = v;
      if (k === 'exclude') state.exclude = v;
      if (k === 'tests') state.tests = v !== '0';
      if (k === 'colour') state.colour = v === 'status' ? 'status' : 'mat';
    });
    document.getElementById('select').value = state.select;
    document.getElementById('exclude').value = state.exclude;
    document.getElementById('tests').checked = state.tests;
    document.getElementById('colour').value = state.colour;
  }

  function setZoom(z) {
    state.zoom = Math.max(0.05, Math.min(z, 3));
    var svg = document.getElementById('lineage-svg');
    if (svg && lastLayout) {
      svg.setAttribute('width', Math.round(lastLayout.width * state.zoom));
      svg.setAttribute('height', Math.round(lastLayout.height * state.zoom));
    }
  }

  function fit() {
    if (!lastLayout) return;
    setZoom(Math.min(1, (graphEl.clientWidth - 4) / lastLayout.width));
  }

  var timer = 0;
  function later() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      state.select = document.getElementById('select').value;
      state.exclude = document.getElementById('exclude').value;
      render();
    }, N > 1000 ? 300 : 120);
  }
  document.getElementById('select').addEventListener('input', later);
  document.getElementById('exclude').addEventListener('input', later);
  document.getElementById('select').addEventListener('keydown', function (e) { if (e.key === 'Enter') { clearTimeout(timer); state.select = this.value; render(); } });
  document.getElementById('exclude').addEventListener('keydown', function (e) { if (e.key === 'Enter') { clearTimeout(timer); state.exclude = this.value; render(); } });
  document.getElementById('tests').addEventListener('change', function () { state.tests = this.checked; render(); });
  document.getElementById('colour').addEventListener('change', function () { state.colour = this.value; render(); });
  document.getElementById('zoom-in').addEventListener('click', function () { setZoom(state.zoom * 1.25); });
  document.getElementById('zoom-out').addEventListener('click', function () { setZoom(state.zoom / 1.25); });
  document.getElementById('zoom-fit').addEventListener('click', fit);
  document.getElementById('reset').addEventListener('click', function () {
    state.select = ''; state.exclude = ''; state.picked = -1;
    document.getElementById('select').value = ''; document.getElementById('exclude').value = '';
    render();
  });
  graphEl.addEventListener('click', function (e) {
    var g = e.target.closest && e.target.closest('g.n');
    if (g) pick(+g.dataset.i);
  });
  graphEl.addEventListener('dblclick', function (e) {
    var g = e.target.closest && e.target.closest('g.n');
    if (g) focusOn(+g.dataset.i);
  });
  document.getElementById('details').addEventListener('click', function (e) {
    if (e.target.id === 'focus' && state.picked >= 0) { focusOn(state.picked); return; }
    var p = e.target.dataset && e.target.dataset.pick;
    if (p !== undefined) {
      e.preventDefault();
      var v = +p;
      if (!current[v]) focusOn(v); else pick(v);
    }
  });
  window.addEventListener('hashchange', function () { readHash(); render(); });

  // The page's API, for people in the console and for tests.
  window.strataLineage = {select: select, render: render, pick: pick, focus: focusOn,
    filter: function (sel, exc) { state.select = sel || ''; state.exclude = exc || ''; document.getElementById('select').value = state.select; document.getElementById('exclude').value = state.exclude; render(); return +graphEl.dataset.nodes; }};

  readHash();
  render();
  if (N > 200) fit();
  document.documentElement.setAttribute('data-lineage', 'ready');
})();
