import { defineConfig } from "vite";

// The grid workers' phone app (a PWA), served by the Python app at /worker/.
export default defineConfig({
  root: "worker",
  base: "/worker/",
  build: {
    outDir: "../../src/pingan/static_worker",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
});
