"""The page's inline CSS and JavaScript (no network: the page must open from file://).

Why so little script: everything is readable with JavaScript off; the script only filters
and sorts the matrix and opens a collapsed record when a link points into it.
"""

from __future__ import annotations

__all__ = ["CSS", "SCRIPT"]

CSS = """
:root{--pass:#d7f0dc;--pass-fg:#125227;--fail:#fbd5d3;--fail-fg:#8a1414;--known:#fdecb8;--known-fg:#6a4a00;
--error:#e6d8fb;--error-fg:#4a1a8c;--skip:#e9e9e9;--skip-fg:#4a4a4a;--conflict:#ffd1ee;--conflict-fg:#7a0a55;
--precision:#cdeef3;--precision-fg:#0a4a55;--inconclusive:#ffe2c6;--inconclusive-fg:#733000}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;margin:0;background:#fafafa}
header,main{max-width:1280px;margin:0 auto;padding:0 20px}
header{padding-top:16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;margin:28px 0 8px;border-bottom:2px solid #ddd}
h3{font-size:15px;margin:0}h4{font-size:14px;margin:12px 0 4px}
nav a{margin-right:14px}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f1f1f1;border:1px solid #ddd;padding:8px;overflow-x:auto;white-space:pre-wrap;margin:4px 0}
pre.repro{background:#1e1e1e;color:#f5f5f5;border-color:#1e1e1e}
.muted{color:#666}
.v{display:inline-block;padding:0 6px;border-radius:3px;font-weight:600;white-space:nowrap}
.v-pass{background:var(--pass);color:var(--pass-fg)}.v-fail{background:var(--fail);color:var(--fail-fg)}
.v-known-divergence{background:var(--known);color:var(--known-fg)}
.v-error{background:var(--error);color:var(--error-fg)}.v-skip{background:var(--skip);color:var(--skip-fg)}
.v-precision{background:var(--precision);color:var(--precision-fg)}
.v-inconclusive{background:var(--inconclusive);color:var(--inconclusive-fg)}
.v-conflict{background:repeating-linear-gradient(45deg,var(--conflict),var(--conflict) 6px,#fff 6px,#fff 9px);
color:var(--conflict-fg)}
ul.counts{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:10px 22px;font-size:16px;margin:8px 0}
.count{font-size:20px;margin-left:4px}
.headline{font-size:16px;font-weight:600;margin:8px 0}.headline.ok{color:var(--pass-fg)}
.headline.bad{color:var(--fail-fg)}
ul.declared{padding-left:18px;font-size:13px}ul.declared li{margin:3px 0}
ul.attention{margin:0 0 8px;padding-left:18px}ul.attention li{margin:2px 0}
.summary-grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:24px;align-items:start}
@media (max-width:900px){.summary-grid{grid-template-columns:1fr}}
summary h3{display:inline}
ul.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px;margin:4px 0;font-size:13px}
table{border-collapse:collapse;background:#fff}
th,td{border:1px solid #d8d8d8;padding:2px 6px;text-align:left;vertical-align:top}
thead th{background:#f0f0f0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.bad th,tr.bad td{background:#fff0ef}
table.env td{max-width:520px;overflow-wrap:anywhere}tr.differ th{color:var(--conflict-fg)}
.differs{font-weight:400;font-size:12px}
.scroll{overflow-x:auto}
table.matrix{font-size:12.5px}
table.matrix thead th{text-align:center;white-space:nowrap;position:sticky;top:0}
table.matrix th[scope=row]{white-space:nowrap;font-weight:500}
td.c{text-align:center;white-space:nowrap;padding:0}
td.c a{display:block;padding:2px 6px;color:inherit;text-decoration:none;font-weight:600}
td.c a:hover,td.c a:focus{outline:2px solid #333}
.c-none{color:#aaa;background:#fff}
form.filters{margin:8px 0;display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center}
form.filters fieldset{border:1px solid #ccc;padding:2px 8px;margin:0}
form.filters fieldset label{margin-right:8px}
section.pair{background:#fff;border:1px solid #e1e1e1;border-radius:4px;padding:4px 14px 10px;margin:14px 0}
section.pair h2{border:0;margin:8px 0 2px}
a.up{font-size:12px;font-weight:400;margin-left:10px}
details.record{border-top:1px solid #eee;padding:4px 0}
summary{cursor:pointer}
details.record[open]>summary{margin-bottom:4px}
dl.facts{display:flex;flex-wrap:wrap;gap:2px 18px;margin:4px 0}dl.facts dt{color:#666;display:inline}
dl.facts dt::after{content:": "}dl.facts dd{display:inline;margin:0}
p.reason{background:#fff8e1;border-left:4px solid #e0b000;padding:4px 8px;margin:4px 0}
caption{text-align:left;font-weight:600;padding:4px 0}
table.metrics,table.stages{font-size:12.5px;margin:6px 0}
table.metrics td{white-space:nowrap}
ul.params{list-style:none;padding:0;margin:2px 0 4px;display:flex;flex-wrap:wrap;gap:4px 8px}
ul.params code{background:#eef2f7;border:1px solid #d5dde8;border-radius:3px;padding:0 4px}
.tried{display:flex;gap:14px;align-items:flex-start;margin:6px 0}.tried p{margin:0 0 4px}
svg.spark{flex:none;background:#fcfcfc;border:1px solid #e4e4e4}
svg.spark .edge{stroke:#c0392b;stroke-dasharray:4 3;stroke-width:1}
svg.spark .edge-label{font-size:8px;fill:#c0392b}svg.spark .axis{font-size:8px;fill:#888}
svg.spark .trace{fill:none;stroke:#7a8aa0;stroke-width:1}
svg.spark path{fill:none;stroke-linecap:round;stroke-width:4.5}svg.spark path.ok{stroke:#2d7d46}
svg.spark path.bad{stroke:#c0392b}
.sides{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:12px}
.side{border:2px dashed var(--conflict-fg);padding:4px 10px;border-radius:4px;min-width:0;overflow-x:auto}
svg.bars text{font-size:11px}svg.bars .bar-torch{fill:#d9822b}svg.bars .bar-tf{fill:#3572b0}
table.bench{margin:6px 0}
table.matrix tbody th[scope=row]{position:sticky;left:0;background:#fff;z-index:1}
details.columns{font-size:13px;margin:4px 0}dl.columns{margin:4px 0 4px 12px}dl.columns div{margin:1px 0}
dl.columns dt{display:inline;font-weight:600}dl.columns dt::after{content:" — ";font-weight:400}
dl.columns dd{display:inline;margin:0}
table.breakdown{font-size:12.5px;margin:8px 0}table.breakdown caption{font-weight:600}
table.breakdown th.group{background:#f7f7f7;font-weight:600;color:#555}
td.zero{color:#bbb}
tr.na th,tr.na td{color:#777;background:#fafafa}
table.execution,table.trajectory{font-size:12.5px;margin:6px 0}
table.execution caption{font-weight:400;color:#666;font-size:12px}
div.trajectory{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start;margin:6px 0}
svg.traj{flex:none;background:#fcfcfc;border:1px solid #e4e4e4}
svg.traj text{font-size:10px;fill:#555}svg.traj .axis-label{font-size:11px;fill:#333}
svg.traj .axis-line{stroke:#888;stroke-width:1}svg.traj .grid{stroke:#eee;stroke-width:1}
svg.traj .edge{stroke:#c0392b;stroke-dasharray:5 3;stroke-width:1.2}
svg.traj path,svg.traj line.s-headroom,svg.traj line.s-abs{fill:none;stroke-width:1.8}
svg.traj .s-headroom{stroke:#2d5f9a}svg.traj .s-abs{stroke:#1a8a7a;stroke-dasharray:3 2}
svg.traj circle.s-headroom{fill:#2d5f9a;stroke:none}svg.traj circle.s-abs{fill:#1a8a7a;stroke:none}
svg.traj circle.bad{fill:#c0392b}
.headline.warn{color:var(--inconclusive-fg)}
table.oracle,table.coverage{font-size:12.5px;margin:6px 0}table.oracle td{white-space:nowrap}
tr.worse th,tr.worse td{background:#eef9fb}tr.worse td.side{font-weight:600}
p.oracle{background:#eef9fb;border-left:4px solid var(--precision-fg);padding:4px 8px;margin:4px 0}
svg.spark path.prec{stroke:#1f8fa0}
td.cmp{font-size:12px;color:#444}
[hidden]{display:none!important}
"""

SCRIPT = """
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var table = document.querySelector("table.matrix tbody");
  if (!form || !table) { return; }
  form.hidden = false;
  var rows = Array.prototype.slice.call(table.rows);
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=verdict]"));
  var text = document.getElementById("pair-filter");
  var sort = document.getElementById("pair-sort");
  var shown = document.getElementById("shown");
  function apply() {
    var q = text.value.toLowerCase(), on = {}, count = 0;
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    rows.forEach(function (tr) {
      var show = tr.getAttribute("data-pair").toLowerCase().indexOf(q) >= 0 &&
        tr.getAttribute("data-verdicts").split(" ").some(function (v) { return on[v]; });
      tr.hidden = !show;
      var section = document.getElementById(tr.getAttribute("data-target"));
      if (section) { section.hidden = !show; }
      if (show) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " pairs shown";
  }
  function order() {
    var byName = sort.value === "name";
    rows.sort(function (a, b) {
      var ka = byName ? 0 : Number(a.getAttribute("data-rank"));
      var kb = byName ? 0 : Number(b.getAttribute("data-rank"));
      return ka - kb || a.getAttribute("data-pair").localeCompare(b.getAttribute("data-pair"));
    });
    rows.forEach(function (tr) { table.appendChild(tr); });
  }
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (!target) { return; }
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
      if (node.hidden) { node.hidden = false; }
    }
    target.scrollIntoView();
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  sort.addEventListener("change", order);
  window.addEventListener("hashchange", reveal);
  apply();
  reveal();
})();
"""
