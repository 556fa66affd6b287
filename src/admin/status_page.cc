#include "admin/status_page.h"

namespace weir::admin {
namespace {

constexpr std::string_view kPage = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>weir status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
  h1 { font-size: 1.4em; margin: 0 0 .3em; }
  h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  dl { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; margin: 0; }
  dt { color: #666; }
  table { border-collapse: collapse; min-width: 60em; background: #fff; }
  th, td { padding: .25em .7em; border-bottom: 1px solid #ddd; text-align: right; }
  th:first-child, td:first-child, td[data-field=state] { text-align: left; }
  th { background: #eee; font-weight: 600; }
  .up { color: #13752b; font-weight: 600; }
  .down { color: #b3261e; font-weight: 600; }
  .ejected { color: #a65f00; font-weight: 600; }
  #banner { padding: .3em .6em; margin: .6em 0; display: inline-block; border-radius: 3px; }
  #banner.ok { background: #e1f3e5; } #banner.bad { background: #fbe2e0; }
  .muted { color: #888; }
</style>
</head>
<body>
<h1>weir <span id="version"></span></h1>
<div id="banner" class="muted">loading&hellip;</div>
<dl>
  <dt>uptime</dt><dd id="uptime">-</dd>
  <dt>config</dt><dd id="config">-</dd>
  <dt>loaded</dt><dd id="loaded">-</dd>
  <dt>reloads</dt><dd id="reloads">-</dd>
  <dt>listeners</dt><dd id="listeners">-</dd>
</dl>
<div id="pools"></div>
<p class="muted">Rates and latencies (time to the upstream's response head) over the last
<span id="window">10</span> s; updated every second. <span id="updated"></span></p>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
function fmtDuration(s) {
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + (s % 60) + "s";
}
function fmtTime(t) { return t ? new Date(t * 1000).toLocaleString() : "-"; }
function fmtMs(s) { return s === null || s === undefined ? "-" : (s * 1000).toFixed(s < 0.01 ? 2 : 1) + " ms"; }
function fmtRate(r) { return r === null || r === undefined ? "-" : r.toFixed(r < 10 ? 1 : 0) + "/s"; }
const columns = [["address", "server"], ["state", "state"], ["weight", "weight"], ["in_flight", "in flight"],
                 ["rps", "requests"], ["errors", "errors (5xx)"], ["p50", "p50"], ["p99", "p99"]];
function poolTable(pool) {
  const id = "pool-" + pool.name;
  let section = document.getElementById(id);
  if (section) return section.querySelector("tbody");
  section = document.createElement("section");
  section.id = id;
  const h = document.createElement("h2");
  h.textContent = "pool " + pool.name;
  const sub = document.createElement("span");
  sub.className = "muted";
  sub.textContent = "  " + pool.balancer + (pool.health_check ? ", health checks" : "");
  h.appendChild(sub);
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const [, title] of columns) {
    const th = document.createElement("th");
    th.textContent = title;
    head.appendChild(th);
  }
  table.appendChild(document.createElement("tbody"));
  section.append(h, table);
  $("pools").appendChild(section);
  return table.querySelector("tbody");
}
function serverRow(tbody, key) {
  for (const row of tbody.rows) if (row.dataset.server === key) return row;
  const row = tbody.insertRow();
  row.dataset.server = key;
  for (const [field] of columns) row.insertCell().dataset.field = field;
  return row;
}
function setCell(row, field, text, cls) {
  const cell = row.querySelector('[data-field="' + field + '"]');
  if (cell.textContent !== text) cell.textContent = text;
  if (cls !== undefined) cell.className = cls;
}
function render(s) {
  $("version").textContent = s.version;
  $("uptime").textContent = fmtDuration(s.uptime_seconds);
  $("config").textContent = s.config.file + " (xxh3 " + s.config.hash + ")";
  $("loaded").textContent = fmtTime(s.config.loaded_at);
  const r = s.config.reloads;
  $("reloads").textContent = r.success + " ok, " + r.failure + " failed" +
      (r.last_success ? "" : " (last: " + r.last_error + ")");
  $("listeners").textContent = s.listeners.join(", ");
  $("window").textContent = s.window_seconds;
  const banner = $("banner");
  banner.textContent = s.ready ? "ready" : "not ready: " + s.ready_reason;
  banner.className = s.ready ? "ok" : "bad";
  const seen = new Set();
  for (const pool of s.pools) {
    const tbody = poolTable(pool);
    seen.add("pool-" + pool.name);
    const keys = new Set();
    for (const sv of pool.servers) {
      const key = pool.name + "/" + sv.address;
      keys.add(key);
      const row = serverRow(tbody, key);
      setCell(row, "address", sv.address + (sv.backup ? " (backup)" : ""));
      setCell(row, "state", sv.state, sv.state);
      row.querySelector('[data-field="state"]').title = sv.reason || "";
      setCell(row, "weight", String(sv.weight));
      setCell(row, "in_flight", String(sv.in_flight));
      setCell(row, "rps", fmtRate(sv.requests_per_second));
      const ratio = sv.error_ratio ? " (" + (sv.error_ratio * 100).toFixed(1) + "%)" : "";
      setCell(row, "errors", fmtRate(sv.errors_per_second) + ratio);
      setCell(row, "p50", fmtMs(sv.p50_seconds));
      setCell(row, "p99", fmtMs(sv.p99_seconds));
    }
    for (const row of Array.from(tbody.rows)) if (!keys.has(row.dataset.server)) row.remove();
  }
  for (const section of Array.from($("pools").children)) if (!seen.has(section.id)) section.remove();
  $("updated").textContent = "Last update " + new Date().toLocaleTimeString() + ".";
}
async function refresh() {
  try {
    const response = await fetch("status.json", {cache: "no-store"});
    if (!response.ok) throw new Error("status.json: HTTP " + response.status);
    render(await response.json());
  } catch (e) {
    const banner = $("banner");
    banner.textContent = "cannot update: " + e.message;
    banner.className = "bad";
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
)HTML";

}  // namespace

std::string_view statusPage() { return kPage; }

}  // namespace weir::admin
