/* Kepu service worker: the lesson site keeps working with a weak or no signal.

   The build copies this file to the site root (so its scope is the whole site)
   and replaces the MANIFEST line with the real list of shell files and a version
   that is a hash of their bytes; a new build with other shell files therefore
   gives a new sw.js, which the browser installs on the reader's next visit.

   shell   CSS, JS, search worker, logo       cache first, one cache per version
   pages   every page the reader opened       network first (cached copy after a few seconds)
   media   images of those pages              cache first
   data    search index, group texts …        search manifest: cached copy at once, refreshed
                                              in the background; its pieces cache first (saved
                                              after the first visit when small, else as searches
                                              fetch them); others network first
   Nothing from other hosts is ever requested or cached; videos are never cached. */
"use strict";

const MANIFEST = {"version": "dev", "shell": [], "pages": ["./"], "data": [], "offline": "offline/"};

const SCOPE = self.registration.scope;
// Cache names carry the site's path: two Kepu sites on one host keep apart (kepu.js uses the same names).
const PREFIX = "kepu:" + new URL(SCOPE).pathname + ":";
const SHELL = PREFIX + "shell-" + MANIFEST.version;
const PAGES = PREFIX + "pages";
const MEDIA = PREFIX + "media";
const DATA = PREFIX + "data";
const SHELL_URLS = new Set(MANIFEST.shell.map((path) => new URL(path, SCOPE).href));
const SEARCH_INDEX = new URL("search/search_index.json", SCOPE).href;
const SEARCH_PIECES = new URL("search/kepu/", SCOPE).href;
const OFFLINE_PAGE = new URL(MANIFEST.offline, SCOPE).href;
// On a weak signal, show the saved copy of a page after this long, not a blank screen.
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const shell = await caches.open(SHELL);
      // "reload": never fill the cache from a stale HTTP cache entry.
      await shell.addAll([...SHELL_URLS].map((url) => new Request(url, { cache: "reload" })));
      const pages = await caches.open(PAGES);
      await Promise.all([...MANIFEST.pages, MANIFEST.offline].map((path) => save(pages, new URL(path, SCOPE).href)));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      const old = names.filter((name) => name.startsWith(PREFIX + "shell-") && name !== SHELL);
      // Pages saved under an older shell name its files; when a file is gone
      // (a new theme version), fetch those pages again so they open offline.
      let stale = false;
      for (const name of old) {
        const keys = await (await caches.open(name)).keys();
        stale = stale || keys.some((request) => !SHELL_URLS.has(request.url));
        await caches.delete(name);
      }
      await self.clients.claim();
      // The page the reader first opened was loaded before this worker existed: save it now.
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const pages = await caches.open(PAGES);
      const opened = windows.map((client) => pageKey(client.url)).filter((url) => url.startsWith(SCOPE));
      const saved = stale ? (await pages.keys()).map((request) => request.url) : [];
      await Promise.all([...new Set([...opened, ...saved])].map((url) => save(pages, url, true)));
      const data = await caches.open(DATA);
      // The search index, when small enough to fetch unasked (see SEARCH_WARM_LIMIT in site.py).
      await Promise.all(MANIFEST.data.map((path) => save(data, new URL(path, SCOPE).href)));
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || request.headers.has("range")) return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.destination === "video" || request.destination === "audio" || /\.(mp4|webm|m4a|mp3)$/i.test(url.pathname)) {
    return; // large, fetched in ranges: left to the browser
  } else if (request.mode === "navigate") {
    event.respondWith(page(event));
  } else if (SHELL_URLS.has(url.href)) {
    event.respondWith(cacheFirst(SHELL, request));
  } else if (url.href === SEARCH_INDEX) {
    event.respondWith(staleWhileRevalidate(DATA, request, event));
  } else if (url.href.startsWith(SEARCH_PIECES)) {
    // Named by a hash of the index's bytes: a saved piece never goes stale.
    event.respondWith(cacheFirst(DATA, request));
  } else if (request.destination === "image") {
    event.respondWith(cacheFirst(MEDIA, request));
  } else {
    event.respondWith(networkFirst(DATA, request));
  }
});

function pageKey(href) {
  const url = new URL(href);
  url.search = "";
  url.hash = "";
  return url.href;
}

function cacheable(response) {
  return response && response.ok && response.type === "basic";
}

// Fetch url into cache; with images, also the images of that page. Never throws.
async function save(cache, url, images) {
  try {
    const response = await fetch(url, { cache: "no-cache" });
    if (!cacheable(response)) return;
    await cache.put(url, response.clone());
    if (images && /^text\/html/.test(response.headers.get("content-type") || "")) await saveImages(await response.text(), url);
  } catch (error) {
    /* offline or gone: keep what we have */
  }
}

async function saveImages(html, pageUrl) {
  const media = await caches.open(MEDIA);
  // In a <picture>, the WebP source is what the browser shows; elsewhere each <img>.
  const refs = [];
  const rest = html.replace(/<picture\b[\s\S]*?<\/picture>/g, (picture) => {
    const source = picture.match(/<source\b[^>]*?\ssrcset="([^"\s,]+)/) || picture.match(/<img\b[^>]*?\ssrc="([^"]+)"/);
    if (source) refs.push(source[1]);
    return "";
  });
  for (const match of rest.matchAll(/<img\b[^>]*?\ssrc="([^"]+)"/g)) refs.push(match[1]);
  const sources = refs.map((ref) => new URL(ref.replace(/&amp;/g, "&"), pageUrl));
  await Promise.all(
    sources
      .filter((url) => url.origin === self.location.origin && !SHELL_URLS.has(url.href))
      .map(async (url) => {
        if (!(await media.match(url.href))) await save(media, url.href);
      }),
  );
}

async function page(event) {
  const request = event.request;
  const pages = await caches.open(PAGES);
  const key = pageKey(request.url);
  const cached = await pages.match(key);
  const network = fetch(request).then((response) => {
    if (cacheable(response) && /^text\/html/.test(response.headers.get("content-type") || "")) {
      const copy = response.clone();
      event.waitUntil(
        (async () => {
          await pages.put(key, copy.clone());
          await saveImages(await copy.text(), key);
        })(),
      );
    }
    return response;
  });
  if (cached) {
    const late = new Promise((resolve) => setTimeout(() => resolve(cached), NETWORK_TIMEOUT_MS));
    return Promise.race([network.catch(() => cached), late]);
  }
  try {
    return await network;
  } catch (error) {
    // Not saved yet: the offline page, at its own address so its links work.
    if (key === OFFLINE_PAGE) return (await pages.match(OFFLINE_PAGE)) || Response.error();
    return Response.redirect(OFFLINE_PAGE + "?from=" + encodeURIComponent(request.url), 302);
  }
}

async function cacheFirst(name, request) {
  const cache = await caches.open(name);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (cacheable(response)) await cache.put(request, response.clone());
  return response;
}

// Pages and images fetched by a script (the "save all" button) have caches of their own.
async function networkFirst(name, request) {
  const cache = await caches.open(name);
  try {
    const response = await fetch(request);
    const type = response.headers.get("content-type") || "";
    if (cacheable(response) && !/^(text\/html|image\/)/.test(type)) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw error;
  }
}

async function staleWhileRevalidate(name, request, event) {
  const cache = await caches.open(name);
  const cached = await cache.match(request, { ignoreSearch: true });
  const network = fetch(request).then(async (response) => {
    if (cacheable(response)) await cache.put(request, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(network.catch(() => undefined));
    return cached;
  }
  return network;
}
