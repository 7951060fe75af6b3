// SPLADE search page: queries /v1/search with explain=true and shows, for
// each result, the matched terms with their contributions and the
// document's heaviest terms, expansion terms (not written in the text)
// in italics. All data is inserted as text, never as HTML.
"use strict";

const MAX_MATCHED = 20, MAX_QUERY_TERMS = 60;
const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function chip(t) {
  const c = el("span", "chip" + (t.expansion ? " expansion" : ""), t.term);
  c.title = t.expansion ? "expansion term (not in the text)" : "term of the text";
  c.appendChild(el("span", "w", t.weight.toFixed(2)));
  return c;
}

function status(msg, isError) {
  const s = $("status");
  s.textContent = msg;
  s.className = "status" + (isError ? " error" : "");
}

function renderHit(h) {
  const li = el("li", "hit");
  li.dataset.id = h.id;
  const head = el("div", "hit-head");
  head.append(el("span", "rank", "#" + h.rank), el("span", "doc-id", h.id), el("span", "score", "score " + h.score.toFixed(3)));
  li.appendChild(head);
  if (h.text) li.appendChild(el("p", "text", h.text));
  const ex = h.explanation;
  if (!ex) return li;
  li.appendChild(el("h3", null, "Matched terms"));
  const table = el("table", "matched");
  const hr = el("tr");
  for (const c of ["term", "query weight", "doc weight", "contribution", ""]) hr.appendChild(el("th", null, c));
  table.appendChild(hr);
  const top = ex.matched.length ? ex.matched[0].contribution : 1;
  for (const m of ex.matched.slice(0, MAX_MATCHED)) {
    const tr = el("tr", "match");
    const term = el("td", "term" + (m.doc_expansion || m.query_expansion ? " expansion" : ""), m.term);
    const parts = [];
    if (m.query_expansion) parts.push("query expansion");
    if (m.doc_expansion) parts.push("document expansion");
    if (parts.length) term.title = parts.join(", ");
    const barCell = el("td");
    const bar = el("div", "bar");
    bar.style.width = Math.max(1, 100 * m.contribution / top) + "%";
    barCell.appendChild(bar);
    tr.append(term, el("td", "num", m.query_weight.toFixed(3)), el("td", "num", m.doc_weight.toFixed(3)),
      el("td", "num", m.contribution.toFixed(3)), barCell);
    table.appendChild(tr);
  }
  li.appendChild(table);
  if (ex.matched.length > MAX_MATCHED) {
    const rest = ex.matched.slice(MAX_MATCHED);
    const sum = rest.reduce((a, m) => a + m.contribution, 0);
    li.appendChild(el("p", "more", "… and " + rest.length + " more matched terms contributing " + sum.toFixed(3)));
  }
  if (ex.doc_terms && ex.doc_terms.length) {
    li.appendChild(el("h3", null, "Document terms (heaviest)"));
    const chips = el("div", "chips doc-terms");
    for (const t of ex.doc_terms) chips.appendChild(chip(t));
    li.appendChild(chips);
  }
  return li;
}

async function run(q, k, mode) {
  const body = { k: k, mode: mode, explain: true };
  if (q.trim().startsWith("{")) {
    try { body.vector = JSON.parse(q); } catch (e) { status("invalid vector JSON: " + e.message, true); return; }
  } else {
    body.text = q;
  }
  status("searching…");
  let resp, data;
  try {
    resp = await fetch("v1/search", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    data = await resp.json();
  } catch (e) {
    status("request failed: " + e.message, true);
    return;
  }
  if (!resp.ok) { status(data.error || resp.statusText, true); return; }
  const qt = $("query-terms");
  qt.replaceChildren(...data.query.terms.slice(0, MAX_QUERY_TERMS).map(chip));
  if (data.query.terms.length > MAX_QUERY_TERMS) {
    qt.appendChild(el("span", "more", "… " + (data.query.terms.length - MAX_QUERY_TERMS) + " lighter terms"));
  }
  $("query-panel").hidden = false;
  $("results").replaceChildren(...data.hits.map(renderHit));
  status(data.hits.length + " results in " + data.took_ms.toFixed(1) + " ms (" + data.mode + ")" +
    (data.query.unknown_terms.length ? "; " + data.query.unknown_terms.length + " query terms not in the index" : ""));
}

$("search-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = $("q").value, k = parseInt($("k").value, 10) || 10, mode = $("mode").value;
  const u = new URL(location.href);
  u.searchParams.set("q", q); u.searchParams.set("k", k); u.searchParams.set("mode", mode);
  history.replaceState(null, "", u);
  run(q, k, mode);
});

(function init() {
  const p = new URLSearchParams(location.search);
  if (p.get("k")) $("k").value = p.get("k");
  if (p.get("mode")) $("mode").value = p.get("mode");
  const q = p.get("q");
  if (q) { $("q").value = q; run(q, parseInt($("k").value, 10) || 10, $("mode").value); }
  fetch("healthz").then((r) => r.json()).then((h) => {
    if (!h.text_search) $("q").placeholder = "Paste a query vector {\"term\": weight} (no model loaded: text search is off)";
    if (!q) status(h.docs + " documents indexed");
  }).catch(() => {});
})();
