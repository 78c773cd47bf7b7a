/// The dashboard the daemon serves at `/`: one page, no build step and no outside files
/// (an admin opens it on a box without internet). It reads the same API as `z2z` —
/// status, islands, peers, services — every few seconds, and the event log live over
/// server-sent events (`/api/v1/events/stream`).
///
/// Element ids the browser test reads: `services` (tbody, one row per service, with
/// `data-name`, `data-origin`, `data-island`, and on a router `data-link`), `islands` (the SVG), `events` (the log),
/// `status` (the header line); `events` gets `data-live="open"` once the event stream is
/// connected.
///
/// `/?stream_seconds=N` makes each event stream last N seconds (EventSource reconnects a
/// second later, from the last event it had): a headless browser with a virtual-time
/// budget only advances its clock while no request is pending, and an endless stream
/// would hold it forever.
enum Dashboard {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>z2z gateway</title>
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #222; background: #fafafa; }
 h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
 #status { color: #555; } .ok { color: #1a7f37; } .degraded { color: #b08800; } .error { color: #cf222e; }
 table { border-collapse: collapse; width: 100%; background: #fff; }
 th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; font-size: 13px; }
 th { background: #f0f0f0; } .deny { color: #cf222e; } .permit { color: #1a7f37; }
 #grid { display: grid; grid-template-columns: 420px 1fr; gap: 1.5em; }
 svg { background: #fff; border: 1px solid #ddd; }
 #events { height: 260px; overflow-y: auto; background: #fff; border: 1px solid #ddd; font: 12px monospace; padding: 4px; }
 #events div { white-space: nowrap; } .kind { display: inline-block; width: 11em; color: #0969da; }
</style>
</head>
<body>
<h1>z2z gateway</h1>
<div id="status">connecting…</div>
<div id="grid">
 <div><h2>Islands</h2><svg id="islands" width="420" height="320" viewBox="0 0 420 320"></svg>
  <div style="font-size:12px;color:#666">● this island · ★ leader known · lines: overlay links from this island's leader</div></div>
 <div><h2>Services</h2>
  <table><thead><tr><th>name</th><th>type</th><th>origin</th><th>island</th><th>port</th><th>policy</th><th>path</th></tr></thead>
  <tbody id="services"></tbody></table></div>
</div>
<h2>Events</h2>
<div id="events"></div>
<script>
"use strict";
const api = "/api/v1";
function el(tag, attrs, text) {
  const e = document.createElementNS(tag === "svg" || ["circle","line","text","g"].includes(tag) ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
async function get(path) { const r = await fetch(api + path); if (!r.ok) throw new Error(path + ": " + r.status); return r.json(); }
function islandName(ref) { return ref ? (ref.name || ref.id || "-") : "-"; }

async function refresh() {
  try {
    const [status, islands, services] = await Promise.all([get("/status"), get("/islands"), get("/services")]);
    const s = document.getElementById("status");
    s.innerHTML = "";
    s.append(el("span", {class: status.health.state}, status.health.state), " · island " + islandName(status.island) +
      " · " + status.role + " · stage " + status.stage + " · " + status.peer_count + " peers · services: " +
      status.services.local + " local, " + status.services.imported + " imported, " + status.services.exported + " exported" +
      (status.health.reasons.length ? " · " + status.health.reasons.join("; ") : "") +
      // Router mode: each link an island of its own.
      (status.links ? " · links: " + status.links.map(l => l.name + " (" + l.interface + ": " + l.local + " local, " +
        (l.in_exchange === false ? "led by another gateway" : l.imported + " imported, " + l.held + " held") +
        (l.gateway ? "; gateway " + l.gateway.role + ", " + l.gateway.peer_count + " peers, " + l.gateway.imported +
          " from DHT, " + l.gateway.exported + " to DHT" : "") + ")").join(", ") : ""));
    drawIslands(islands.islands, status);
    const body = document.getElementById("services");
    body.replaceChildren(...services.services.map(sv => {
      const tr = el("tr", {"data-name": sv.name, "data-origin": sv.origin || "", "data-island": islandName(sv.island),
                           "data-link": sv.link || ""});
      const verdict = sv.policy ? sv.policy.action : "";
      const where = sv.link ? (sv.origin === "imported" ? "on " + sv.link + " from " + islandName(sv.island) : "on " + sv.link)
                            : islandName(sv.island);
      for (const t of [sv.name, sv.type, sv.origin || "", where, String(sv.port)]) tr.append(el("td", {}, t));
      tr.append(el("td", {class: verdict, title: sv.policy ? sv.policy.explanation : ""}, sv.policy ? sv.policy.explanation : ""));
      tr.append(el("td", {}, sv.route ? sv.route.summary : ""));
      return tr;
    }));
    document.body.setAttribute("data-updated", String(Date.now()));
  } catch (e) {
    document.getElementById("status").textContent = "API unreachable: " + e.message;
  }
}

function drawIslands(islands, status) {
  const svg = document.getElementById("islands");
  svg.replaceChildren();
  const cx = 210, cy = 160, r = 115;
  const local = islands.find(i => i.local);
  // A router's links are all local: the first is drawn in the middle, the others around it.
  const others = islands.filter(i => i !== local);
  const pos = new Map();
  if (local) pos.set(local.id, [cx, cy]);
  others.forEach((isl, n) => {
    const a = 2 * Math.PI * n / Math.max(others.length, 1) - Math.PI / 2;
    pos.set(isl.id, [cx + r * Math.cos(a), cy + r * Math.sin(a)]);
  });
  if (local && status.role === "leader") for (const isl of others) {
    const [x, y] = pos.get(isl.id);
    svg.append(el("line", {x1: cx, y1: cy, x2: x, y2: y, stroke: "#8c959f", "stroke-dasharray": "4 3"}));
  }
  for (const isl of islands) {
    const [x, y] = pos.get(isl.id);
    const g = el("g", {"data-island": isl.id});
    g.append(el("circle", {cx: x, cy: y, r: 26, fill: isl.local ? "#ddf4ff" : "#fff", stroke: isl.local ? "#0969da" : "#57606a", "stroke-width": 2}));
    g.append(el("text", {x: x, y: y + 4, "text-anchor": "middle", "font-size": 11}, (isl.leader_id ? "★ " : "") + (isl.name || isl.id.slice(0, 8))));
    g.append(el("text", {x: x, y: y + 40, "text-anchor": "middle", "font-size": 10, fill: "#666"}, isl.service_count + " services"));
    svg.append(g);
  }
}

function logEvent(ev) {
  const box = document.getElementById("events");
  const line = el("div", {"data-kind": ev.kind});
  line.append(el("span", {}, ev.time.replace("T", " ").replace("Z", "") + " "), el("span", {class: "kind"}, ev.kind),
              (ev.subject ? ev.subject + ": " : "") + ev.message + (ev.reason ? " [" + ev.reason + "]" : ""));
  box.append(line);
  while (box.childElementCount > 500) box.firstElementChild.remove();
  box.scrollTop = box.scrollHeight;
  if (["service_seen","service_gone","imported","import_withdrawn","exported","export_removed","transition"].includes(ev.kind)) refresh();
}

async function start() {
  await refresh();
  let last = 0;
  try { const recent = await get("/events"); recent.events.forEach(logEvent); last = recent.last; } catch (e) {}
  const seconds = new URLSearchParams(location.search).get("stream_seconds");
  const stream = new EventSource(api + "/events/stream?after=" + last + (seconds ? "&seconds=" + encodeURIComponent(seconds) : ""));
  const box = document.getElementById("events");
  stream.onopen = () => box.setAttribute("data-live", "open");
  stream.onerror = () => box.setAttribute("data-live", "reconnecting");
  stream.onmessage = m => logEvent(JSON.parse(m.data));
  setInterval(refresh, 3000);
}
start();
</script>
</body>
</html>
"""#
}
