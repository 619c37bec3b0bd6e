// TracPro's service worker: offline reading of the dashboard pages a signed-in
// user opened (README "Offline reading and lighter pages"; handlers/offline.go). The server
// prepends VERSION, ASSETS (the hashed static files), MAX_AGE (ms) and
// MAX_PAGES.
//
// Online the network always wins: a kept copy is shown only when a page
// cannot be fetched. The server decides what is kept, with the header
// TracPro-Offline on each page: "none" (nobody signed in: wipe everything),
// or key/exp/lang of the session, plus keep=1 and title/panel/asof on a
// dashboard page that may be kept. Copies live in the cache "tracpro-pages-<key>";
// any other key's cache is deleted as soon as a page of another session, user
// or org (or of nobody) is seen.
"use strict";

const PAGES = "tracpro-pages-", STATIC = "tracpro-static", SHELL = "/offline/", STATE = "/offline/state";

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(STATIC).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

// A new version takes over the open pages at once; they are not reloaded (the
// next navigation uses it).
self.addEventListener("activate", (e) => {
  e.waitUntil(pruneStatic().then(() => self.clients.claim()));
});

self.addEventListener("message", (e) => {
  if (e.data === "version" && e.source) e.source.postMessage({ version: VERSION });
});

self.addEventListener("fetch", (e) => {
  const req = e.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    e.respondWith(caches.open(STATIC).then((c) => c.match(req, { ignoreVary: true })).then((hit) => hit || fetch(req)));
  } else if (req.mode === "navigate" || req.headers.get("HX-History-Restore-Request") === "true") {
    e.respondWith(page(e, req, url));
  }
});

// page fetches a page; when the network fails it answers from the kept copies.
async function page(e, req, url) {
  let res;
  try {
    res = await fetch(req);
  } catch (err) {
    return offline(url, req.mode === "navigate");
  }
  const header = res.headers.get("TracPro-Offline");
  if (header === null) return res;
  const info = new URLSearchParams(header === "none" ? "" : header);
  const kept = remember(res.clone(), info, address(url));
  e.waitUntil(kept);
  if (url.pathname === SHELL && info.get("key") && res.ok) {
    await kept;
    const c = await caches.open(PAGES + info.get("key"));
    return listed(res, c, false);
  }
  return res;
}

function address(url) {
  return url.origin + url.pathname + url.search;
}

// remember applies what the server said about a page: it deletes every other
// key's copies, keeps this page when it may be kept, and makes sure the
// Offline page of this session is there to answer for pages that are not.
async function remember(res, info, addr) {
  const key = info.get("key");
  for (const name of await caches.keys()) {
    if (name.startsWith(PAGES) && name !== PAGES + key) await caches.delete(name);
  }
  if (!key) return;
  const c = await caches.open(PAGES + key);
  await c.put(STATE, new Response(JSON.stringify({ exp: Number(info.get("exp")), lang: info.get("lang") })));
  if (info.get("shell") === "1" && res.ok) {
    await c.put(SHELL, await copy(res));
  } else if (info.get("keep") === "1" && res.status === 200 && !res.redirected) {
    await trim(c, addr);
    await c.put(addr, await copy(res));
  }
  const shell = await c.match(SHELL);
  if (!shell || shell.headers.get("TracPro-Version") !== VERSION || stateOf(shell).get("lang") !== info.get("lang")) {
    try {
      const s = await fetch(SHELL, { credentials: "same-origin" });
      if (s.ok && stateOf(s).get("key") === key) await c.put(SHELL, await copy(s));
    } catch (err) {
      // Offline again: the next page tries.
    }
  }
}

function stateOf(res) {
  return new URLSearchParams(res.headers.get("TracPro-Offline") || "");
}

// copy makes a storable copy of a page: its headers (the Content-Security-Policy
// among them) without those of the transfer, stamped with the time and version.
async function copy(res) {
  const headers = new Headers(res.headers);
  for (const h of ["Content-Encoding", "Content-Length", "Vary", "ETag"]) headers.delete(h);
  headers.set("TracPro-Kept-At", String(Date.now()));
  headers.set("TracPro-Version", VERSION);
  return new Response(await res.text(), { status: 200, headers: headers });
}

// entries lists the kept pages of a cache with their time, oldest first.
async function entries(c) {
  const out = [];
  for (const req of await c.keys()) {
    const path = new URL(req.url).pathname;
    if (path === SHELL || path === STATE) continue;
    const res = await c.match(req);
    out.push({ req: req, res: res, at: Number(res.headers.get("TracPro-Kept-At")) || 0 });
  }
  return out.sort((a, b) => a.at - b.at);
}

// trim deletes copies older than MAX_AGE, then the oldest beyond MAX_PAGES;
// with the address of a copy about to be stored, it makes room for it first.
async function trim(c, adding) {
  const all = (await entries(c)).filter((e) => e.req.url !== adding), now = Date.now();
  let left = all.length + (adding ? 1 : 0);
  for (const e of all) {
    if (now - e.at > MAX_AGE || left > MAX_PAGES) {
      await c.delete(e.req);
      left--;
    }
  }
}

// current is the cache of the session last seen, or null when there is none
// or the session has expired (then everything is deleted).
async function current() {
  const names = (await caches.keys()).filter((n) => n.startsWith(PAGES));
  if (names.length !== 1) return null;
  const c = await caches.open(names[0]);
  const state = await c.match(STATE);
  const s = state ? await state.json() : null;
  if (!s || !(Date.now() < s.exp)) {
    await caches.delete(names[0]);
    return null;
  }
  await trim(c);
  return c;
}

// offline answers a page that could not be fetched: its kept copy with the
// offline banner shown, else the Offline page saying it is not kept (for a
// navigation; an htmx history restore gets a network error and says so).
async function offline(url, navigation) {
  const c = await current();
  if (!c) return Response.error();
  if (url.pathname !== SHELL) {
    const kept = await c.match(address(url));
    if (kept) {
      const html = (await kept.text()).replace('<p id="offline-banner" hidden', '<p id="offline-banner"');
      return new Response(html, { status: 200, headers: kept.headers });
    }
    if (!navigation) return Response.error();
  }
  const shell = await c.match(SHELL);
  if (!shell) return Response.error();
  return listed(shell, c, url.pathname !== SHELL);
}

// listed fills the Offline page's table with the kept pages, newest first;
// missing shows that the page asked for is not kept.
async function listed(res, c, missing) {
  let rows = "";
  for (const e of (await entries(c)).reverse()) {
    const m = stateOf(e.res), u = new URL(e.req.url);
    rows += '<tr><td><a href="' + esc(u.pathname + u.search) + '">' + esc(m.get("title") || u.pathname) + "</a></td><td>" +
      esc(m.get("panel") || "") + "</td><td>" + esc(m.get("asof") || "") + "</td></tr>";
  }
  let html = await res.text();
  if (rows) html = html.replace(/(<tbody id="kept-list">)[\s\S]*?(<\/tbody>)/, (all, open, close) => open + rows + close);
  if (missing) html = html.replace('<p id="offline-missing" hidden', '<p id="offline-missing"');
  const headers = new Headers(res.headers);
  for (const h of ["Content-Encoding", "Content-Length", "ETag"]) headers.delete(h);
  return new Response(html, { status: missing ? 503 : 200, headers: headers });
}

function esc(s) {
  return s.replace(/[&<>"']/g, (ch) => "&#" + ch.charCodeAt(0) + ";");
}

// pruneStatic deletes the static files of earlier versions that no kept page
// uses any more.
async function pruneStatic() {
  const used = new Set(ASSETS.map((u) => new URL(u, self.location.origin).href));
  for (const name of await caches.keys()) {
    if (!name.startsWith(PAGES)) continue;
    const c = await caches.open(name);
    for (const req of await c.keys()) {
      const text = await (await c.match(req)).text();
      for (const m of text.matchAll(/\/static\/[^"'\s>]+/g)) used.add(new URL(m[0], self.location.origin).href);
    }
  }
  const s = await caches.open(STATIC);
  for (const req of await s.keys()) {
    if (!used.has(req.url)) await s.delete(req);
  }
}
