// The grid worker app's service worker: the app shell works offline.
// Pages and assets under /worker/ are served from the cache when the network
// is down and refreshed from the network when it is up. API calls are never
// cached: reports made offline wait in the app's own queue (IndexedDB).
const CACHE = "pingan-worker-v1";
const SHELL = ["/worker/", "/worker/index.html", "/worker/manifest.webmanifest", "/worker/icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith("/worker/")) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      try {
        const fresh = await fetch(event.request);
        if (fresh.ok) cache.put(event.request, fresh.clone());
        return fresh;
      } catch (offline) {
        const cached =
          (await cache.match(event.request, { ignoreSearch: true })) ||
          (url.pathname.endsWith("/") ? await cache.match("/worker/index.html") : undefined);
        if (cached) return cached;
        throw offline;
      }
    }),
  );
});
