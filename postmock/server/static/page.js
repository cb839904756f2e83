// postmock call-log page: history from /__postmock/calls, new calls from the SSE stream.
// Vanilla JS, no build step. Every value from a call is set as text, never as HTML.
"use strict";
(() => {
  const API = "/__postmock/";
  const MAX_ROWS = 2000;
  const HISTORY_PAGES = 5;
  const $ = (id) => document.getElementById(id);
  const tbody = document.querySelector("#calls tbody");
  const calls = new Map(); // id -> {call, tr}
  const ids = []; // newest first (call ids sort by time)
  let paused = false;
  let held = [];
  let selected = null;

  const filters = {
    status: $("f-status"), method: $("f-method"), path: $("f-path"),
    example: $("f-example"), search: $("f-search"), misses: $("f-misses"),
  };

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value == null ? "" : String(value);
    if (cls) el.className = cls;
    return el;
  }

  function clock(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  function fullPath(call) {
    return call.request.query ? `${call.request.path}?${call.request.query}` : call.request.path;
  }

  function isMiss(call) {
    return call.response.type === "noMatch";
  }

  function visible(call) {
    const f = filters;
    const status = String(call.response.statusCode);
    if (f.status.value && status[0] !== f.status.value[0]) return false;
    if (f.method.value && call.request.method !== f.method.value) return false;
    if (f.misses.checked && !isMiss(call)) return false;
    const path = f.path.value.trim().toLowerCase();
    if (path && !fullPath(call).toLowerCase().includes(path)) return false;
    const example = f.example.value.trim().toLowerCase();
    if (example && !(call.responseName || "").toLowerCase().includes(example)) return false;
    const search = f.search.value.trim().toLowerCase();
    if (search) {
      const hay = [fullPath(call), call.responseName, call.requestName, call.detail, status,
        call.request.method, call.request.body, call.response.body, call.id].join("\n");
      if (!hay.toLowerCase().includes(search)) return false;
    }
    return true;
  }

  function row(call) {
    const tr = document.createElement("tr");
    tr.dataset.id = call.id;
    const status = call.response.statusCode;
    tr.className = `s${String(status)[0]}xx` + (isMiss(call) ? " miss" : "")
      + (call.response.type === "error" ? " error" : "");
    tr.append(
      text("td", clock(call.servedAt), "time"),
      text("td", call.request.method, "method"),
      text("td", fullPath(call), "path"),
      text("td", status, "status"),
      text("td", call.requestName || ""),
      text("td", call.responseName || (isMiss(call) ? "no match" : call.response.type), "example"),
      text("td", Number(call.durationMs).toFixed(1), "num"),
      text("td", call.id.slice(0, 16), "id"),
    );
    tr.title = call.detail || "";
    tr.hidden = !visible(call);
    tr.tabIndex = 0;
    return tr;
  }

  function add(call) {
    if (calls.has(call.id)) return;
    // Binary search for the place among ids (newest first).
    let lo = 0, hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ids[mid] > call.id) lo = mid + 1; else hi = mid;
    }
    const tr = row(call);
    const before = lo < ids.length ? calls.get(ids[lo]).tr : null;
    tbody.insertBefore(tr, before);
    ids.splice(lo, 0, call.id);
    calls.set(call.id, { call, tr });
    while (ids.length > MAX_ROWS) {
      const old = ids.pop();
      calls.get(old).tr.remove();
      calls.delete(old);
    }
    counts();
  }

  function counts() {
    let shown = 0;
    for (const { tr } of calls.values()) if (!tr.hidden) shown++;
    $("count").textContent = shown === calls.size ? `${calls.size} calls`
      : `${shown} of ${calls.size} calls`;
    $("empty").hidden = calls.size > 0;
  }

  function refilter() {
    for (const { call, tr } of calls.values()) tr.hidden = !visible(call);
    counts();
  }

  function setState(message, cls) {
    const el = $("state");
    el.textContent = message;
    el.className = "state " + (cls || "");
  }

  async function getJSON(url, options) {
    const resp = await fetch(url, Object.assign({ credentials: "same-origin",
      headers: { Accept: "application/json" } }, options || {}));
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      const msg = data && data.error ? data.error.message : `${resp.status} ${resp.statusText}`;
      throw new Error(msg);
    }
    return data;
  }

  async function loadHistory() {
    let cursor = null;
    for (let page = 0; page < HISTORY_PAGES; page++) {
      const url = API + "calls?limit=100" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      const data = await getJSON(url);
      data.calls.forEach(add);
      cursor = data.meta && data.meta.nextCursor;
      if (!cursor) break;
    }
  }

  function connect() {
    const source = new EventSource(API + "calls/stream");
    source.addEventListener("call", (event) => {
      const call = JSON.parse(event.data);
      if (paused) {
        held.push(call);
        setState(`paused · ${held.length} new`, "paused");
      } else {
        add(call);
      }
    });
    source.onopen = () => {
      setState("live", "live");
      // Subscribed first, then the history: no call falls between (add() dedupes by id).
      loadHistory().catch((err) => setState("history: " + err.message, "bad"));
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        setState("disconnected (reload the page)", "bad");
      } else {
        setState("reconnecting…", "bad");
      }
    };
    return source;
  }

  function headerTable(table, headers) {
    table.replaceChildren();
    for (const [name, value] of Object.entries(headers || {})) {
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) {
        const tr = document.createElement("tr");
        tr.append(text("th", name), text("td", v));
        table.append(tr);
      }
    }
  }

  function pretty(body) {
    if (!body) return "";
    try { return JSON.stringify(JSON.parse(body), null, 2); } catch (e) { return body; }
  }

  function quote(s) {
    return "'" + String(s).replace(/'/g, "'\\''") + "'";
  }

  const SKIP_HEADERS = new Set(["host", "content-length", "connection", "accept-encoding"]);

  function curl(call) {
    const parts = ["curl"];
    if (call.request.method !== "GET") parts.push("-X", call.request.method);
    parts.push(quote(location.origin + fullPath(call)));
    for (const [name, value] of Object.entries(call.request.headers || {})) {
      if (SKIP_HEADERS.has(name.toLowerCase())) continue;
      for (const v of Array.isArray(value) ? value : [value]) parts.push("-H", quote(`${name}: ${v}`));
    }
    if (call.request.body) parts.push("--data-raw", quote(call.request.body));
    return parts.join(" ");
  }

  function show(id) {
    const entry = calls.get(id);
    if (!entry) return;
    const call = entry.call;
    if (selected) selected.classList.remove("selected");
    selected = entry.tr;
    selected.classList.add("selected");
    $("d-title").textContent = `${call.request.method} ${fullPath(call)} → ${call.response.statusCode}`;
    $("d-meta").textContent = [
      call.responseName ? `example “${call.responseName}”` : call.response.type,
      call.requestName ? `request “${call.requestName}”` : null,
      `${Number(call.durationMs).toFixed(2)} ms` + (call.delayMs ? ` (delay ${call.delayMs} ms)` : ""),
      call.servedAt, `id ${call.id}`, call.server ? `server ${call.server}` : null,
    ].filter(Boolean).join(" · ");
    const why = $("d-why");
    why.hidden = !isMiss(call);
    if (isMiss(call)) {
      $("d-detail").textContent = call.detail || "";
      const list = $("d-nearest");
      list.replaceChildren();
      let nearest = [];
      try {
        const body = JSON.parse(call.response.body);
        nearest = (body.error && body.error.nearest) || body.nearest || [];
      } catch (e) { nearest = []; }
      for (const near of nearest) {
        const li = document.createElement("li");
        li.append(text("strong", near.name || near.request), text("span", ` (${near.request}) — `),
          text("em", `${near.rejectedBy}: `), text("span", near.reason));
        list.append(li);
      }
    }
    headerTable($("d-req-headers"), call.request.headers);
    $("d-req-body").textContent = pretty(call.request.body);
    headerTable($("d-res-headers"), call.response.headers);
    $("d-res-body").textContent = pretty(call.response.body);
    $("d-curl-text").value = curl(call);
    $("detail").hidden = false;
  }

  tbody.addEventListener("click", (event) => {
    const tr = event.target.closest("tr");
    if (tr) show(tr.dataset.id);
  });
  tbody.addEventListener("keydown", (event) => {
    const tr = event.target.closest("tr");
    if (tr && event.key === "Enter") show(tr.dataset.id);
  });
  $("d-close").addEventListener("click", () => {
    $("detail").hidden = true;
    if (selected) selected.classList.remove("selected");
    selected = null;
  });
  $("d-curl").addEventListener("click", async () => {
    const command = $("d-curl-text").value;
    try {
      await navigator.clipboard.writeText(command);
      $("d-curl").textContent = "Copied";
    } catch (e) {
      const area = $("d-curl-text");
      area.hidden = false;
      area.select();
      $("d-curl").textContent = "Select and copy";
    }
    setTimeout(() => { $("d-curl").textContent = "Copy as curl"; }, 1500);
  });
  $("pause").addEventListener("click", () => {
    paused = !paused;
    $("pause").textContent = paused ? "Resume" : "Pause";
    $("pause").setAttribute("aria-pressed", String(paused));
    if (!paused) {
      held.forEach(add);
      held = [];
      setState("live", "live");
    } else {
      setState("paused", "paused");
    }
  });
  $("clear").addEventListener("click", async () => {
    try {
      await getJSON(API + "calls", { method: "DELETE" });
    } catch (err) {
      setState("clear failed: " + err.message, "bad");
      return;
    }
    calls.clear();
    ids.length = 0;
    held = [];
    tbody.replaceChildren();
    $("detail").hidden = true;
    counts();
  });
  for (const el of Object.values(filters)) el.addEventListener("input", refilter);
  $("filters").addEventListener("submit", (event) => event.preventDefault());

  counts();
  connect();
})();
