import { defineConfig } from "vite";

// Built into the Python package, which serves it at /console/ (no CDN).
export default defineConfig({
  base: "/console/",
  build: {
    outDir: "../src/pingan/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
});
