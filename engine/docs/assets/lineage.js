// The lineage page: every node of the project laid out left to right by
// layer, filtered with strata's selector syntax (a port of engine/graph's
// basic operators), coloured by materialization or by last run status.
// The data is window.STRATA_GRAPH, written by `strata docs generate`.
(function () {
  'use strict';
  var G = window.STRATA_GRAPH;
  // node fields
  var ID = 0, KIND = 1, NAME = 2, MAT = 3, STATUS = 4, PATH = 5, TAGS = 6, ATTACHED = 7, SCHEMA = 8, TEST_TYPE = 9;
  var N = G.nodes.length;
  var parents = G.parents;
  var children = [];
  for (var i = 0; i < N; i++) children.push([]);
  for (var c = 0; c < N; c++) for (var k = 0; k < parents[c].length; k++) children[parents[c][k]].push(c);

  var MAT_COLOURS = {seed: '#cfe8c4', source: '#c6e2f2', view: '#dbe7fb', table: '#a9c3f5', incremental: '#f6d7a7',
    ephemeral: '#ececec', materialized_view: '#d7c6f2', scd2: '#f4c2d7', test: '#f5f5f5', exposure: '#ffe08a'};
  var STATUS_COLOURS = {success: '#3aa17e', pass: '#3aa17e', warn: '#e0a030', error: '#d6483e', fail: '#d6483e', skipped: '#9aa3ad', '': '#ffffff'};
  var STATUS_LABELS = {success: 'success', pass: 'pass', warn: 'warn', error: 'error', fail: 'fail', skipped: 'skipped', '': 'not run'};

  // ---- selection: the selectors of docs/selectors.md ----
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

  // walk marks what is up to depth steps from start along next. A step onto
  // an ephemeral model costs no level (as in strata's selection): it is
  // inlined into the models that ref it, which read its parents directly.
  function walk(start, depth, next, out) {
    var frontier = [start], seen = {}, d = 0;
    seen[start] = true;
    while (frontier.length && (depth < 0 || d < depth)) {
      var nf = [];
      for (var i = 0; i < frontier.length; i++) {
        var nb = next[frontier[i]];
        for (var j = 0; j < nb.length; j++) {
          if (seen[nb[j]]) continue;
          seen[nb[j]] = true; out[nb[j]] = true;
          if (G.nodes[nb[j]][MAT] === 'ephemeral') frontier.push(nb[j]); else nf.push(nb[j]);
        }
      }
      frontier = nf; d++;
    }
  }

  // didYouMean is engine/diag's: the known value fewest edits from s (case
  // ignored; at most half its length and one), as ' (did you mean "x"?)'.
  function distance(a, b) {
    a = Array.from(a); b = Array.from(b);
    var prev = [], cur = [], i, j;
    for (j = 0; j <= b.length; j++) prev[j] = j;
    for (i = 1; i <= a.length; i++) {
      cur = [i];
      for (j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
    return prev[b.length];
  }
  function didYouMean(s, known) {
    var best = '', bestD = Math.floor(new TextEncoder().encode(s).length / 2) + 2, bestExact = 0, ls = s.toLowerCase();
    known.forEach(function (c) {
      var d = distance(ls, c.toLowerCase());
      if (d > bestD) return;
      var exact = distance(s, c);
      if (d < bestD || exact < bestExact) { best = c; bestD = d; bestExact = exact; }
    });
    return best ? ' (did you mean ' + JSON.stringify(best) + '?)' : '';
  }
  function known(of) {
    var seen = {}, out = [];
    for (var i = 0; i < N; i++) of(G.nodes[i]).forEach(function (v) { if (!seen[v]) { seen[v] = true; out.push(v); } });
    return out.sort();
  }
  function isPattern(s) { return /[*?[]/.test(s); }

  // unknown is the error for a selector value that picks nothing, as
  // engine/graph words it: a typo says so instead of showing no node.
  function unknown(what, matching, value, values) {
    if (isPattern(value)) return new Error(matching + ' ' + JSON.stringify(value));
    return new Error(what + ' ' + JSON.stringify(value) + didYouMean(value, values));
  }

  // cleanPath is Go's path.Clean, which engine/graph applies to a path:
  // selector's value: path:. is the project's folder, path:./models and
  // path:models/./staging/ name models and models/staging.
  function cleanPath(p) {
    if (p === '') return '.';
    var rooted = p.charAt(0) === '/', out = [];
    p.split('/').forEach(function (seg) {
      if (seg === '' || seg === '.') return;
      if (seg !== '..') out.push(seg);
      else if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    });
    return (rooted ? '/' : '') + out.join('/') || (rooted ? '/' : '.');
  }

  function match(body) {
    var out = {}, i, n;
    var colon = body.indexOf(':');
    if (colon < 0) {
      var re = globRe(body);
      for (i = 0; i < N; i++) if (G.nodes[i][KIND] !== 'source' && re.test(G.nodes[i][NAME])) out[i] = true;
      if (!Object.keys(out).length && !isPattern(body) && body.indexOf('/') >= 0)
        throw new Error('no model, seed, test or exposure is called ' + JSON.stringify(body) + ' (a name holds no /: for the nodes defined in a file or under a folder, write path:' + body + ')');
      if (!Object.keys(out).length) throw unknown('no model, seed, test or exposure is called', 'no model, seed, test or exposure has a name matching', body,
        known(function (n) { return n[KIND] === 'source' ? [] : [n[NAME]]; }));
      return out;
    }
    var method = body.slice(0, colon), value = body.slice(colon + 1), key = '';
    if (value === '') throw new Error('"' + body + '" has no value after the colon');
    if (method.indexOf('config.') === 0) { key = method.slice(7); method = 'config'; }
    var vre = globRe(value);
    switch (method) {
      case 'tag':
        for (i = 0; i < N; i++) if (G.nodes[i][TAGS].some(function (t) { return vre.test(t); })) out[i] = true;
        if (!Object.keys(out).length) throw unknown('no node has the tag', 'no node has a tag matching', value, known(function (n) { return n[TAGS]; }));
        break;
      case 'path':
        var p = cleanPath(value).replace(/\/+$/, '');
        for (i = 0; i < N; i++) { n = G.nodes[i][PATH]; if (n === p || n.indexOf(p + '/') === 0 || p === '.') out[i] = true; }
        if (!Object.keys(out).length) throw new Error('no node is defined in ' + JSON.stringify(p) + ' or under it' + didYouMean(p, known(function (n) {
          var dirs = [];
          for (var f = n[PATH]; f && f !== '.' && f !== '/'; f = f.indexOf('/') < 0 ? '' : f.slice(0, f.lastIndexOf('/'))) dirs.push(f);
          return dirs;
        })));
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
        if (!Object.keys(out).length) throw new Error('no exposure is called ' + JSON.stringify(value) + didYouMean(value, known(function (n) { return n[KIND] === 'exposure' ? [n[NAME]] : []; })));
        break;
      case 'source':
        for (i = 0; i < N; i++) {
          n = G.nodes[i];
          if (n[KIND] === 'source' && (n[NAME] === value || n[NAME].split('.')[0] === value)) out[i] = true;
        }
        if (!Object.keys(out).length) throw new Error('no source or source table is called ' + JSON.stringify(value) + didYouMean(value, known(function (n) { return n[KIND] === 'source' ? [n[NAME].split('.')[0], n[NAME]] : []; })));
        break;
      case 'test_type':
        // unit; data (every data test, generic and singular); singular;
        // generic (schema is dbt's old name for it), as engine/graph.
        var kinds = {unit: ['unit'], data: ['singular', 'generic'], singular: ['singular'], generic: ['generic'], schema: ['generic']};
        var types = Object.prototype.hasOwnProperty.call(kinds, value) ? kinds[value] : null;
        if (!types) throw new Error('test_type "' + value + '" is not known (expected unit, data, singular or generic)');
        for (i = 0; i < N; i++) if (G.nodes[i][KIND] === 'test' && types.indexOf(G.nodes[i][TEST_TYPE]) >= 0) out[i] = true;
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
  // fields splits a box's text into selectors (a union) as engine/graph
  // does: names may hold spaces (a model file "with space.sql"), so text
  // that is exactly a node's name selects it, and a part in double or single
  // quotes is one selector ('"with space"+').
  function fields(s) {
    var name = s.trim();
    if (/\s/.test(name)) for (var i = 0; i < N; i++) if (G.nodes[i][NAME] === name && G.nodes[i][KIND] !== 'source') return [name];
    var out = [], cur = '', quote = '', inField = false;
    for (var k = 0; k < s.length; k++) {
      var c = s[k];
      if (quote && c === quote) quote = '';
      else if (quote) cur += c;
      else if (c === '"' || c === "'") { quote = c; inField = true; }
      else if (/\s/.test(c)) { if (inField) { out.push(cur); cur = ''; inField = false; } }
      else { cur += c; inField = true; }
    }
    if (quote) throw new Error('the quote ' + quote + ' is not closed (expected a closing ' + quote + ')');
    if (inField) out.push(cur);
    return out;
  }

  function select(sel, exc) {
    var chosen = {}, i, sels = fields(sel);
    if (!sels.length) for (i = 0; i < N; i++) chosen[i] = true;
    else {
      sels.forEach(function (f) { var s = intersection(f); for (var id in s) chosen[id] = true; });
      addTests(chosen);
    }
    var excluded = {};
    fields(exc).forEach(function (f) { var s = intersection(f); for (var id in s) excluded[id] = true; });
    addTests(excluded);
    for (var id in excluded) delete chosen[id];
    return chosen;
  }

  // ---- layout ----
  // Layers by longest path from the roots. Within a layer, nodes are ordered
  // by the mean position of their parents (then of their children, then of
  // their parents again) and placed as near that mean as their neighbours
  // allow. Left to right a layer is a column, top to bottom a row; unless the
  // reader chose, the direction that shows the graph larger wins, so a long
  // chain of few models reads top to bottom and a wide one left to right.
  var BOX_H = 22, TEST_H = 17, PAD = 12, LR_GAP = 56, TB_GAP = 26, ROW_GAP = 8, TEST_GAP = 4, SIB_GAP = 12, MAX_W = 300;
  var READABLE = 0.75; // the least zoom at which a name is still easy to read (12px drawn at 9px)
  var FAMILY = getComputedStyle(document.body).fontFamily || 'sans-serif';
  var measure = document.createElement('canvas').getContext('2d');
  var widths = new Array(N), labels = new Array(N), cut = new Array(N);
  // The width of a name is the sum of its characters' widths, each measured
  // once per font: measuring 15,000 names whole takes most of a second.
  var charWidths = {'12px ': {}, '10.5px ': {}};
  function textWidth(s, size) {
    var cw = charWidths[size], sum = 0;
    for (var i = 0; i < s.length; i++) {
      var ch = s[i], cwi = cw[ch];
      if (cwi === undefined) {
        measure.font = size + FAMILY;
        cwi = cw[ch] = measure.measureText(ch).width;
      }
      sum += cwi;
    }
    return sum;
  }

  function isTest(v) { return G.nodes[v][KIND] === 'test'; }
  function h(v) { return isTest(v) ? TEST_H : BOX_H; }
  // w is the width of node v's box: its name, the status bar and padding.
  function w(v) {
    if (widths[v] === undefined) {
      var name = G.nodes[v][NAME], size = isTest(v) ? '10.5px ' : '12px ';
      var tw = textWidth(name, size);
      if (tw + 20 > MAX_W) {
        while (name.length > 1 && textWidth(name + '…', size) + 20 > MAX_W) name = name.slice(0, -1);
        name += '…';
        tw = textWidth(name, size);
        cut[v] = true;
      }
      labels[v] = name;
      widths[v] = Math.max(40, Math.ceil(tw * 1.02) + 20);
    }
    return widths[v];
  }

  function layering(set) {
    var ids = Object.keys(set).map(Number).sort(function (a, b) { return a - b; });
    var indeg = {}, layer = {}, queue = [], i, j;
    for (i = 0; i < ids.length; i++) {
      var d = 0, ps = parents[ids[i]];
      for (j = 0; j < ps.length; j++) if (set[ps[j]]) d++;
      indeg[ids[i]] = d;
      layer[ids[i]] = 0;
      if (d === 0) queue.push(ids[i]);
    }
    for (var q = 0; q < queue.length; q++) {
      var v = queue[q], ch = children[v];
      for (j = 0; j < ch.length; j++) {
        var c = ch[j];
        if (!set[c]) continue;
        if (layer[v] + 1 > layer[c]) layer[c] = layer[v] + 1;
        if (--indeg[c] === 0) queue.push(c);
      }
    }
    var cols = [];
    queue.forEach(function (v) { (cols[layer[v]] = cols[layer[v]] || []).push(v); });
    return {order: queue, cols: cols};
  }

  // size estimates the width and height of the graph laid out in direction dir.
  function size(cols, dir) {
    var a = 0, b = 0;
    cols.forEach(function (col) {
      var along = 0, across = 0;
      col.forEach(function (v) {
        if (dir === 'lr') { along += h(v) + (isTest(v) ? TEST_GAP : ROW_GAP); across = Math.max(across, w(v)); } else { along += w(v) + SIB_GAP; }
      });
      if (dir === 'lr') { a += across + LR_GAP; b = Math.max(b, along); } else { a = Math.max(a, along); b += BOX_H + TB_GAP; }
    });
    return dir === 'lr' ? {width: a - LR_GAP + 2 * PAD, height: b + 2 * PAD} : {width: a + 2 * PAD, height: b - TB_GAP + 2 * PAD};
  }

  function scaleFor(sz) {
    return Math.min(1, (graphEl.clientWidth - 8) / sz.width, (graphEl.clientHeight - 8) / sz.height);
  }

  // place puts the nodes of one layer, in their order, as near their targets
  // as the room between neighbours allows (least squares: pool adjacent violators).
  function place(col, target, ext, gap, pos) {
    var off = [], blocks = [], i, k;
    for (i = 0; i < col.length; i++) {
      off.push(i === 0 ? 0 : off[i - 1] + (ext(col[i - 1]) + ext(col[i])) / 2 + gap(col[i]));
      var b = {sum: target[col[i]] - off[i], n: 1, first: i};
      b.mean = b.sum;
      blocks.push(b);
      while (blocks.length > 1 && blocks[blocks.length - 2].mean > blocks[blocks.length - 1].mean) {
        var top = blocks.pop(), prev = blocks[blocks.length - 1];
        prev.sum += top.sum; prev.n += top.n; prev.mean = prev.sum / prev.n;
      }
    }
    for (k = 0; k < blocks.length; k++) {
      var end = k + 1 < blocks.length ? blocks[k + 1].first : col.length;
      for (i = blocks[k].first; i < end; i++) pos[col[i]] = blocks[k].mean + off[i];
    }
  }

  function layout(set, dir) {
    var Lr = layering(set), cols = Lr.cols;
    var sizes = {lr: size(cols, 'lr'), tb: size(cols, 'tb')};
    if (dir !== 'lr' && dir !== 'tb') dir = scaleFor(sizes.tb) > scaleFor(sizes.lr) * 1.05 ? 'tb' : 'lr';
    var ext = dir === 'lr' ? h : w;
    var gap = dir === 'lr' ? function (v) { return isTest(v) ? TEST_GAP : ROW_GAP; } : function () { return SIB_GAP; };
    var pos = {}, key = {};
    var byName = function (a, b) { return G.nodes[a][NAME] < G.nodes[b][NAME] ? -1 : G.nodes[a][NAME] > G.nodes[b][NAME] ? 1 : 0; };
    // pack lays a sorted layer out side by side, centred on 0.
    function pack(col) {
      var total = 0;
      col.forEach(function (v) { total += ext(v) + gap(v); });
      var at = -total / 2;
      col.forEach(function (v) { pos[v] = at + ext(v) / 2; at += ext(v) + gap(v); });
    }
    function mean(list, v) {
      var s = 0, n = 0;
      for (var k = 0; k < list.length; k++) if (set[list[k]] && pos[list[k]] !== undefined) { s += pos[list[k]]; n++; }
      return n ? s / n : (pos[v] !== undefined ? pos[v] : null);
    }
    // Models, seeds and dashboards first, their tests after them, so a layer reads as a list of models.
    function order(col, next) {
      col.forEach(function (v) { key[v] = mean(next[v], v); });
      col.sort(function (a, b) {
        var ka = key[a], kb = key[b];
        return (isTest(a) - isTest(b)) || (ka === null) - (kb === null) || (ka !== null && kb !== null && ka - kb) || byName(a, b);
      });
      pack(col);
    }
    cols.forEach(function (col) { order(col, parents); });
    for (var L = cols.length - 2; L >= 0; L--) order(cols[L], children);
    cols.forEach(function (col, i) { if (i > 0) order(col, parents); });
    // Final places: each node as near the mean of its parents as the layer allows.
    cols.forEach(function (col, i) {
      var target = {};
      col.forEach(function (v) {
        var m = i > 0 && !isTest(v) ? mean(parents[v], v) : pos[v];
        target[v] = m === null ? pos[v] : m;
      });
      place(col, target, ext, gap, pos);
    });
    var x = {}, y = {}, ww = {}, hh = {}, lo = Infinity, hi = -Infinity, at = PAD, far = 0;
    cols.forEach(function (col) { col.forEach(function (v) { lo = Math.min(lo, pos[v] - ext(v) / 2); hi = Math.max(hi, pos[v] + ext(v) / 2); }); });
    cols.forEach(function (col, i) {
      var across = 0;
      col.forEach(function (v) {
        ww[v] = w(v); hh[v] = h(v);
        if (dir === 'lr') { x[v] = at; y[v] = PAD + pos[v] - lo - hh[v] / 2; across = Math.max(across, ww[v]); } else { x[v] = PAD + pos[v] - lo - ww[v] / 2; y[v] = PAD + i * (BOX_H + TB_GAP); }
      });
      at += across + LR_GAP;
      far = at - LR_GAP;
    });
    var width = dir === 'lr' ? far + PAD : hi - lo + 2 * PAD;
    var height = dir === 'lr' ? hi - lo + 2 * PAD : PAD * 2 + Math.max(cols.length, 1) * (BOX_H + TB_GAP) - TB_GAP;
    return {ids: Lr.order, x: x, y: y, w: ww, h: hh, dir: dir, width: Math.max(width, 2 * PAD), height: Math.max(height, 2 * PAD), layers: cols.length};
  }

  // ---- rendering ----
  var state = {select: '', exclude: '', tests: false, colour: 'mat', dir: 'auto', picked: -1};
  var graphEl = document.getElementById('graph');
  var lastLayout = null;
  var view = {tx: 0, ty: 0, s: 1, touched: false, centred: -1}; // touched: panned, zoomed or centred; centred: the node brought to the middle

  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  function fill(n) { return state.colour === 'status' ? (n[STATUS] ? STATUS_COLOURS[n[STATUS]] || '#fff' : '#ffffff') : MAT_COLOURS[n[MAT]] || '#eee'; }

  function edgePath(L, set, only) {
    var d = [];
    L.ids.forEach(function (v) {
      var ps = parents[v];
      for (var k = 0; k < ps.length; k++) {
        var p = ps[k];
        if (!set[p]) continue;
        if (only >= 0 && p !== only && v !== only) continue;
        var x1, y1, x2, y2, m;
        if (L.dir === 'lr') {
          x1 = L.x[p] + L.w[p]; y1 = L.y[p] + L.h[p] / 2; x2 = L.x[v]; y2 = L.y[v] + L.h[v] / 2; m = (x1 + x2) / 2;
          d.push('M' + x1 + ' ' + y1 + 'C' + m + ' ' + y1 + ' ' + m + ' ' + y2 + ' ' + x2 + ' ' + y2);
        } else {
          x1 = L.x[p] + L.w[p] / 2; y1 = L.y[p] + L.h[p]; x2 = L.x[v] + L.w[v] / 2; y2 = L.y[v]; m = (y1 + y2) / 2;
          d.push('M' + x1 + ' ' + y1 + 'C' + x1 + ' ' + m + ' ' + x2 + ' ' + m + ' ' + x2 + ' ' + y2);
        }
      }
    });
    return d.join('');
  }

  var current = {};
  function render() {
    var t0 = performance.now();
    var msg = document.getElementById('message');
    msg.textContent = '';
    msg.className = 'message';
    var set;
    try {
      set = select(state.select, state.exclude);
    } catch (e) {
      msg.textContent = e.message;
      msg.className = 'message bad';
      return;
    }
    var hidden = 0;
    if (!state.tests) for (var id in set) if (isTest(id)) { delete set[id]; hidden++; }
    current = set;
    var L = layout(set, state.dir);
    lastLayout = L;
    var out = [];
    out.push('<svg xmlns="http://www.w3.org/2000/svg" id="lineage-svg" width="100%" height="100%"><g id="view">');
    out.push('<path class="edges" d="' + edgePath(L, set, -1) + '"/>');
    out.push('<path class="edges hot" id="hot-edges" d="' + (state.picked >= 0 && set[state.picked] ? edgePath(L, set, state.picked) : '') + '"/>');
    var edges = 0;
    L.ids.forEach(function (v) {
      var n = G.nodes[v], hh = L.h[v];
      for (var k = 0; k < parents[v].length; k++) if (set[parents[v][k]]) edges++;
      out.push('<g class="n k-' + n[KIND] + (v === state.picked ? ' picked' : '') + '" data-i="' + v + '" data-id="' + esc(n[ID]) + '" data-status="' + n[STATUS] + '" transform="translate(' + L.x[v] + ',' + L.y[v] + ')">' +
        (cut[v] ? '<title>' + esc(n[NAME]) + '</title>' : '') +
        '<rect class="box" width="' + L.w[v] + '" height="' + hh + '" rx="4" fill="' + fill(n) + '"/>' +
        '<rect class="st" width="5" height="' + hh + '" rx="2" fill="' + (STATUS_COLOURS[n[STATUS]] || '#fff') + '"/>' +
        '<text x="11" y="' + (hh / 2 + 4) + '">' + esc(labels[v]) + '</text></g>');
    });
    out.push('</g></svg>');
    graphEl.innerHTML = out.join('');
    graphEl.dataset.nodes = L.ids.length;
    graphEl.dataset.edges = edges;
    var ms = performance.now() - t0;
    graphEl.dataset.renderMs = ms.toFixed(1);
    graphEl.dataset.dir = L.dir;
    document.getElementById('count').textContent = L.ids.length + ' of ' + N + ' nodes' + (hidden ? ' (' + hidden + ' tests hidden)' : '') + ', ' + edges + ' edges, ' + L.layers + ' layers, ' +
      (L.dir === 'lr' ? 'left to right' : 'top to bottom') + ' (' + ms.toFixed(0) + ' ms)';
    if (state.picked >= 0) details(state.picked);
    legend();
    fit();
    writeHash();
  }

  // ---- the view: pan and zoom by a transform, so that any point of the graph can be brought to the middle ----
  function applyView() {
    var g = document.getElementById('view');
    if (g) g.setAttribute('transform', 'translate(' + view.tx.toFixed(1) + ',' + view.ty.toFixed(1) + ') scale(' + view.s.toFixed(4) + ')');
    graphEl.dataset.scale = view.s.toFixed(3);
  }

  function fitScale() { return lastLayout ? scaleFor(lastLayout) : 1; }

  // fit shows the whole graph, centred, at most at its natural size.
  function fit() {
    if (!lastLayout) return;
    var s = Math.max(0.02, fitScale());
    view.s = s;
    view.tx = (graphEl.clientWidth - lastLayout.width * s) / 2;
    view.ty = Math.max(0, (graphEl.clientHeight - lastLayout.height * s) / 2);
    view.touched = false;
    view.centred = -1;
    applyView();
  }

  // centreOn brings node v to the middle, at a zoom where names read easily.
  function centreOn(v) {
    var L = lastLayout;
    if (!L || L.x[v] === undefined) return;
    var s = Math.max(READABLE, Math.min(1, fitScale()));
    view.s = s;
    view.tx = graphEl.clientWidth / 2 - (L.x[v] + L.w[v] / 2) * s;
    view.ty = graphEl.clientHeight / 2 - (L.y[v] + L.h[v] / 2) * s;
    view.touched = true;
    view.centred = v;
    applyView();
  }

  function zoomAt(factor, cx, cy) {
    var s = Math.max(0.02, Math.min(view.s * factor, 3));
    view.tx = cx - (cx - view.tx) * s / view.s;
    view.ty = cy - (cy - view.ty) * s / view.s;
    view.s = s;
    view.touched = true;
    view.centred = -1;
    applyView();
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
      // A source or an exposure is never run: it has no status to show.
      (n[STATUS] || (n[KIND] !== 'source' && n[KIND] !== 'exposure') ?
        '<span class="status ' + ({success: 'ok', pass: 'ok', warn: 'warn', error: 'bad', fail: 'bad', skipped: 'skip'}[n[STATUS]] || 'none') + '">' + STATUS_LABELS[n[STATUS]] + '</span>' : '') + '</p>' +
      '<p class="meta">' + esc(n[PATH]) + '</p>' +
      (link ? '<p><a class="open" href="' + link + '">open page</a></p>' : '') +
      '<p><button type="button" id="focus">focus: ' + esc(selector(v)) + '</button></p>' +
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
    writeHash();
  }

  function selector(v) {
    var n = G.nodes[v];
    var name = n[KIND] === 'exposure' ? 'exposure:' + n[NAME] : n[KIND] === 'source' ? 'source:' + n[NAME] : n[NAME];
    // A name with a space or a quote is quoted, as the select box (and -s)
    // read it: with the quote it does not hold.
    if (/[\s"']/.test(name)) name = name.indexOf('"') < 0 ? '"' + name + '"' : "'" + name + "'";
    return '+' + name + (n[KIND] === 'exposure' ? '' : '+');
  }

  function focusOn(v) {
    state.select = selector(v);
    state.exclude = '';
    if (isTest(v)) state.tests = true;
    document.getElementById('select').value = state.select;
    document.getElementById('exclude').value = '';
    document.getElementById('tests').checked = state.tests;
    state.picked = v;
    render();
    centreOn(v);
  }

  function writeHash() {
    var p = [];
    if (state.select) p.push('select=' + encodeURIComponent(state.select));
    if (state.exclude) p.push('exclude=' + encodeURIComponent(state.exclude));
    if (state.tests) p.push('tests=1');
    if (state.colour !== 'mat') p.push('colour=' + state.colour);
    if (state.dir !== 'auto') p.push('dir=' + state.dir);
    if (state.picked >= 0) p.push('node=' + encodeURIComponent(G.nodes[state.picked][ID]));
    var h = p.length ? '#' + p.join('&') : '';
    if (h !== location.hash && !(h === '' && location.hash === '#')) history.replaceState(null, '', h || location.pathname + location.search);
  }

  var byID = {};
  for (var bi = 0; bi < N; bi++) byID[G.nodes[bi][ID]] = bi;

  function readHash() {
    var h = location.hash.replace(/^#/, '');
    state.select = ''; state.exclude = ''; state.tests = false; state.colour = 'mat'; state.dir = 'auto'; state.picked = -1;
    h.split('&').forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf('='), k = i < 0 ? kv : kv.slice(0, i), v = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, '%2B'));
      if (k === 'select') state.select = v;
      if (k === 'exclude') state.exclude = v;
      if (k === 'tests') state.tests = v !== '0';
      if (k === 'colour') state.colour = v === 'status' ? 'status' : 'mat';
      if (k === 'dir') state.dir = v === 'lr' || v === 'tb' ? v : 'auto';
      if (k === 'node' && byID[v] !== undefined) state.picked = byID[v];
    });
    // A node asked for by the address is shown, a test too.
    if (state.picked >= 0 && isTest(state.picked)) state.tests = true;
    document.getElementById('select').value = state.select;
    document.getElementById('exclude').value = state.exclude;
    document.getElementById('tests').checked = state.tests;
    document.getElementById('colour').value = state.colour;
    document.getElementById('dir').value = state.dir;
  }

  // show draws what the address asks for: the node it names in the middle, or the whole graph fitted.
  function show() {
    readHash();
    render();
    if (state.picked >= 0 && current[state.picked]) centreOn(state.picked);
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
  document.getElementById('dir').addEventListener('change', function () { state.dir = this.value; render(); });
  function middle() { return [graphEl.clientWidth / 2, graphEl.clientHeight / 2]; }
  document.getElementById('zoom-in').addEventListener('click', function () { var m = middle(); zoomAt(1.25, m[0], m[1]); });
  document.getElementById('zoom-out').addEventListener('click', function () { var m = middle(); zoomAt(1 / 1.25, m[0], m[1]); });
  document.getElementById('zoom-fit').addEventListener('click', fit);
  document.getElementById('reset').addEventListener('click', function () {
    state.select = ''; state.exclude = ''; state.picked = -1;
    document.getElementById('select').value = ''; document.getElementById('exclude').value = '';
    render();
  });
  // Drag to pan, wheel to zoom around the pointer; a drag is not a click.
  var drag = null, dragged = false;
  graphEl.addEventListener('pointerdown', function (e) {
    if (e.button !== 0) return;
    drag = {x: e.clientX, y: e.clientY, tx: view.tx, ty: view.ty, moved: false};
    dragged = false;
  });
  window.addEventListener('pointermove', function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    drag.moved = true;
    graphEl.classList.add('panning');
    view.tx = drag.tx + dx; view.ty = drag.ty + dy; view.touched = true; view.centred = -1;
    applyView();
  });
  window.addEventListener('pointerup', function () {
    if (drag) dragged = drag.moved;
    drag = null;
    graphEl.classList.remove('panning');
  });
  graphEl.addEventListener('wheel', function (e) {
    e.preventDefault();
    var r = graphEl.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)), e.clientX - r.left, e.clientY - r.top);
  }, {passive: false});
  // When the graph's box changes size (the window, or the page settling as it
  // loads), a fitted graph is fitted again and a centred node centred again.
  function refit() { if (view.centred >= 0) centreOn(view.centred); else if (!view.touched) fit(); }
  if (window.ResizeObserver) new ResizeObserver(refit).observe(graphEl); else window.addEventListener('resize', refit);
  graphEl.addEventListener('click', function (e) {
    if (dragged) { dragged = false; return; }
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
      if (!current[v]) focusOn(v); else { pick(v); centreOn(v); }
    }
  });
  window.addEventListener('hashchange', show);

  // The page's API, for people in the console and for tests.
  window.strataLineage = {select: select, render: render, pick: pick, focus: focusOn, fit: fit, centre: centreOn,
    view: function () { return {tx: view.tx, ty: view.ty, scale: view.s, dir: lastLayout && lastLayout.dir}; },
    filter: function (sel, exc) { state.select = sel || ''; state.exclude = exc || ''; document.getElementById('select').value = state.select; document.getElementById('exclude').value = state.exclude; render(); return +graphEl.dataset.nodes; }};

  // Draw once the whole page is there: the footer, parsed after this script,
  // takes its share of the height that the graph is fitted to.
  function start() {
    show();
    document.documentElement.setAttribute('data-lineage', 'ready');
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
