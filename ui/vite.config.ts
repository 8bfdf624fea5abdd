import { defineConfig } from "vite";

// The dashboard is served by Tauri from ui/dist. No remote content, no inline scripts:
// everything is bundled, so the strict CSP in tauri.conf.json holds.
export default defineConfig({
  root: ".",
  base: "./",
  clearScreen: false,
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // Keep CSS in a file: the CSP forbids inline styles from scripts' <style> injection.
    cssCodeSplit: false,
  },
  test: {
    environment: "jsdom",
    globals: true,
  },
});
