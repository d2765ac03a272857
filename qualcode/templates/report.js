/* qualcode evidence report: draws a document only when it is opened (its text and codings
   sit in an inert script block as deflated JSON in base64, inflated by the browser's own
   DecompressionStream when first needed), links passages to their place and back. No network. */
(function () {
  "use strict";
  var INDEX = JSON.parse(document.getElementById("qc-index").textContent);
  var PAGE = 50, SHOW = 25;
  var cache = {}, pending = {}, routed = 0;
  var view = document.getElementById("doc-view");
  var info = document.getElementById("passage-info");
  var cameFrom = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function docData(i) {  /* a document loaded by need() */
    return cache[i] === undefined ? null : cache[i];
  }
  function unpack(text) {  /* base64 of deflated UTF-8 JSON -> the value */
    var bin = atob(text.trim()), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var inflated = new Response(bytes).body.pipeThrough(new DecompressionStream("deflate"));
    return new Response(inflated).text().then(JSON.parse);
  }
  function need(ids) {  /* a promise of the documents ids loaded (each inflated once) */
    return Promise.all(ids.map(function (i) {
      if (i in cache) return cache[i];
      if (!(i in pending)) {
        var node = document.getElementById("qc-doc-" + i);
        pending[i] = (node ? unpack(node.textContent) : Promise.resolve(null)).then(function (d) {
          cache[i] = d;
          delete pending[i];
          return d;
        });
      }
      return pending[i];
    }));
  }
  function lineOf(d, pos) {
    var n = 1, t = d.text, i = -1;
    while ((i = t.indexOf("\n", i + 1)) !== -1 && i < pos) n++;
    return n;
  }
  function link(docIx, start, end, from) {
    var a = el("a", "passage-link", INDEX.docs[docIx] + ":" + lineOf(docData(docIx), start));
    a.href = "#doc/" + docIx + "/" + start + "/" + end;
    if (from) a.dataset.from = from;
    return a;
  }

  /* -- the document view ------------------------------------------------------------------ */
  function segmentAt(d, pos) {
    for (var k = 0; k < d.segs.length; k++) {
      if (d.segs[k][0] <= pos && pos < d.segs[k][1]) return k;
    }
    return -1;
  }
  function render(docIx, start, end) {
    var d = docData(docIx);
    if (!d) return;
    /* cut the text at every boundary; a running count says whether a piece is in a match */
    var cuts = {}, inM = {};
    function cut(x) { cuts[x] = 1; }
    [0, d.body, d.text.length].forEach(cut);
    var coded = d.segs.filter(function (s) { return s[4].length; });
    coded.forEach(function (s) { cut(s[0]); cut(s[1]); });
    d.m.forEach(function (m) {
      cut(m[0]); cut(m[1]);
      inM[m[0]] = (inM[m[0]] || 0) + 1;
      inM[m[1]] = (inM[m[1]] || 0) - 1;
    });
    d.p.forEach(function (p) { cut(p[1]); });
    var hasTarget = start !== undefined && start >= 0 && start < end && end <= d.text.length;
    if (hasTarget) { cut(start); cut(end); }
    var points = Object.keys(cuts).map(Number).sort(function (a, b) { return a - b; });
    var segStarts = coded.map(function (s) { return s[0]; });

    view.textContent = "";
    var bar = el("div", "doc-bar");  /* stays in sight while the text scrolls */
    bar.appendChild(el("h3", null, d.title));
    view.appendChild(bar);
    /* a front-matter value as text: lists joined, mappings as "key: value; ..." */
    function fieldText(v) {
      if (v === null || v === undefined) return "";
      if (Array.isArray(v)) return v.map(fieldText).join(", ");
      if (typeof v === "object") return Object.keys(v).sort().map(function (k) { return k + ": " + fieldText(v[k]); }).join("; ");
      return String(v);
    }
    var head = el("div", "doc-head");
    var meta = el("p", "meta", d.id + (d.kind ? " · " + d.kind : ""));
    head.appendChild(meta);
    var keys = Object.keys(d.meta).filter(function (k) { return k !== "title" && k !== "kind"; }).sort();
    if (keys.length) {
      var dl = el("dl", "doc-fields");
      keys.forEach(function (k) {
        dl.appendChild(el("dt", null, k));
        var v = d.meta[k];
        dl.appendChild(el("dd", null, fieldText(v)));
      });
      head.appendChild(dl);
    }
    if (cameFrom) {
      var from = /^claim-(.+)-(anchor|supports|contradicts|qualifies|related)-(\d+)$/.exec(cameFrom);
      var back = el("a", "back", "← back to " + (from ? "claim " + from[1] + " (" + from[2] + " " + from[3] + ")"
        : cameFrom.indexOf("code-") === 0 ? "the codebook"
        : cameFrom.indexOf("doc/") === 0 ? INDEX.docs[Number(cameFrom.split("/")[1])] : cameFrom));
      back.href = "#" + cameFrom;
      bar.appendChild(back);
    }
    var legend = el("p", "legend");
    legend.appendChild(el("mark", "coded", "coded passage"));
    legend.appendChild(document.createTextNode(" "));
    legend.appendChild(el("span", "m", "matched words"));
    legend.appendChild(document.createTextNode(" "));
    if (hasTarget) legend.appendChild(el("span", "target", "the passage you followed"));
    head.appendChild(legend);
    view.appendChild(head);

    var body = el("div", "doc-text");
    var front = null;
    if (d.body > 0) {  /* the front matter, folded unless the passage followed is in it */
      front = el("details", "fm");
      front.appendChild(el("summary", null, "front matter"));
      front.open = hasTarget && start < d.body;
      body.appendChild(front);
    }
    var first = null;
    var depth = 0;
    for (var i = 0; i + 1 < points.length; i++) {
      var a = points[i], b = points[i + 1];
      depth += inM[a] || 0;
      var text = d.text.slice(a, b);
      var si = upTo(segStarts, a);
      var inSeg = si >= 0 && coded[si][1] > a;
      var inMatch = depth > 0;
      var node;
      if (inSeg) {
        node = el("mark", "coded", text);
        node.dataset.seg = d.segs.indexOf(coded[si]);
        node.style.setProperty("--c", INDEX.codes[coded[si][4][coded[si][4].length - 1]].color);
        if (inMatch) node.classList.add("m");
      } else {
        node = el("span", null, text);
      }
      if (hasTarget && a >= start && b <= end) {
        node.classList.add("target");
        if (!first) first = node;
      }
      (a < d.body && front ? front : body).appendChild(node);
      d.p.forEach(function (p) {  /* a source pointer ends here: link to the passage it names */
        if (p[1] !== b) return;
        var ptr = el("a", "pointer-link", "→ " + INDEX.docs[p[2]] + ":" + p[5]);
        ptr.href = "#doc/" + p[2] + "/" + p[3] + "/" + p[4];
        ptr.dataset.from = "doc/" + docIx + "/" + p[0] + "/" + p[1];
        ptr.title = "the passage this source pointer names";
        body.appendChild(ptr);
      });
    }
    view.appendChild(body);
    body.addEventListener("click", function (ev) {
      var t = ev.target.closest("mark.coded");
      if (t) showInfo(docIx, Number(t.dataset.seg), t);
    });
    if (first) {
      first.id = "qc-target";
      first.scrollIntoView({block: "center"});
    } else {
      view.scrollIntoView({block: "start"});
    }
    document.querySelectorAll("#doc-items a").forEach(function (x) {
      x.classList.toggle("current", Number(x.dataset.doc) === docIx);
    });
  }
  function upTo(sorted, x) {  /* index of the last value <= x, -1 if none */
    var lo = 0, hi = sorted.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (sorted[mid] <= x) lo = mid + 1; else hi = mid; }
    return lo - 1;
  }

  /* -- a passage's codes, provenance and the claims citing it ------------------------------ */
  function showInfo(docIx, k, anchor) {
    var d = docData(docIx), s = d.segs[k];
    info.textContent = "";
    var close = el("button", "close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "close");
    close.onclick = function () { info.hidden = true; };
    info.appendChild(close);
    info.appendChild(el("h4", null, d.id + ":" + s[2] + " (segment " + s[3] + ")"));
    var ul = el("ul", "codings");
    d.m.forEach(function (m) {
      if (m[0] < s[0] || m[1] > s[1]) return;
      var r = INDEX.rules[m[3]], code = INDEX.codes[m[2]];
      var li = el("li");
      var c = el("a", "chip theme", code.label);
      c.href = "#code-" + code.id;
      li.appendChild(c);
      li.appendChild(document.createTextNode(" “" + d.text.slice(m[0], m[1]) + "” — " +
        (r[2] === "rule" ? r[0] + " at " + r[1] : r[2] + " coding by " + r[3] + " (" + r[1] + ")")));
      ul.appendChild(li);
    });
    var inherited = s[4].filter(function (c) {
      return !d.m.some(function (m) { return m[2] === c && m[0] >= s[0] && m[1] <= s[1]; });
    });
    if (inherited.length) {
      ul.appendChild(el("li", null, "also: " + inherited.map(function (c) { return INDEX.codes[c].label; }).join(", ") +
        " (parent themes)"));
    }
    info.appendChild(ul);
    if (s[5].length || s[6].length) {
      info.appendChild(el("p", null, "Cases: " + s[5].map(function (c) { return INDEX.cases[c]; })
        .concat(s[6].map(function (c) { return INDEX.cases[c] + " (context)"; })).join(", ")));
    }
    var cites = (INDEX.cited[docIx] || []).filter(function (c) { return c[0] < s[1] && c[1] > s[0]; });
    if (cites.length) {
      var p = el("p", "cited", "Cited by: ");
      cites.forEach(function (c, i) {
        var a = el("a", null, c[3]);
        a.href = "#" + c[2];
        if (i) p.appendChild(document.createTextNode(", "));
        p.appendChild(a);
      });
      info.appendChild(p);
    }
    info.hidden = false;
  }

  /* -- passages of a code, in pages ---------------------------------------------------------- */
  function showPassages(box, more) {
    var refs = INDEX.refs[box.dataset.code] || [];
    var shown = box.querySelectorAll("blockquote").length;
    var list = refs.slice(shown, shown + SHOW);
    var old = box.querySelector(".more");
    if (old) old.remove();
    box.hidden = false;
    need(list.map(function (r) { return r[0]; })).then(function () { drawPassages(box, refs, shown, list); });
  }
  function drawPassages(box, refs, shown, list) {
    list.forEach(function (r) {
      var q = el("blockquote", "passage");
      q.appendChild(link(r[0], r[1], r[2], box.parentNode.id));
      q.appendChild(el("span", "passage-text", docData(r[0]).text.slice(r[1], r[2])));
      box.appendChild(q);
    });
    if (shown + list.length < refs.length) {
      var b = el("button", "more", "show " + Math.min(SHOW, refs.length - shown - list.length) + " more of " +
        (refs.length - shown - list.length));
      b.type = "button";
      b.onclick = function () { showPassages(box, true); };
      box.appendChild(b);
    }
    box.dataset.drawn = shown + list.length;
  }
  document.querySelectorAll("button.show-passages").forEach(function (b) {
    b.addEventListener("click", function () {
      var box = b.closest("article").querySelector(".passages");
      if (!box.hidden) { box.hidden = true; b.textContent = "show its passages"; return; }
      if (!box.children.length) showPassages(box);
      box.hidden = false;
      b.textContent = "hide its passages";
    });
  });

  /* -- the document list: filter and pages ----------------------------------------------------- */
  var items = Array.prototype.slice.call(document.querySelectorAll("#doc-items li"));
  var pages = document.getElementById("doc-pages");
  var filter = document.getElementById("doc-filter");
  var page = 0;
  function listDocs() {
    var q = filter.value.toLowerCase();
    var hits = items.filter(function (li) { return !q || li.textContent.toLowerCase().indexOf(q) !== -1; });
    var n = Math.max(1, Math.ceil(hits.length / PAGE));
    page = Math.min(page, n - 1);
    items.forEach(function (li) { li.hidden = true; });
    hits.slice(page * PAGE, (page + 1) * PAGE).forEach(function (li) { li.hidden = false; });
    pages.textContent = "";
    if (n > 1) {
      var prev = el("button", null, "‹"), next = el("button", null, "›");
      prev.type = next.type = "button";
      prev.disabled = page === 0;
      next.disabled = page === n - 1;
      prev.onclick = function () { page--; listDocs(); };
      next.onclick = function () { page++; listDocs(); };
      pages.appendChild(prev);
      pages.appendChild(el("span", null, " page " + (page + 1) + " of " + n + " (" + hits.length + " documents) "));
      pages.appendChild(next);
    }
  }
  filter.addEventListener("input", function () { page = 0; listDocs(); });
  listDocs();

  /* -- routing: #doc/N and #doc/N/START/END -------------------------------------------------- */
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest("a.passage-link, a.pointer-link");
    if (a && a.dataset.from) cameFrom = a.dataset.from;
    else if (a === null && ev.target.closest("#doc-items a")) cameFrom = null;
  });
  function route() {
    var m = /^#doc\/(\d+)(?:\/(\d+)\/(\d+))?$/.exec(location.hash);
    if (!m) return;
    info.hidden = true;
    var me = ++routed, hash = location.hash;
    view.setAttribute("aria-busy", "true");
    need([Number(m[1])]).then(function () {
      if (me !== routed) return;  /* another link was followed meanwhile */
      render(Number(m[1]), m[2] === undefined ? undefined : Number(m[2]), m[3] === undefined ? undefined : Number(m[3]));
      view.removeAttribute("aria-busy");
      view.dataset.shown = hash.slice(1);  /* drawn: tests and benchmarks wait for this */
    }, function (err) {
      view.removeAttribute("aria-busy");
      view.textContent = "This browser cannot open the document (" + err + "): it needs DecompressionStream " +
        "(Chromium 80, Firefox 113, Safari 16.4 or later).";
    });
  }
  window.addEventListener("hashchange", route);
  route();
})();
