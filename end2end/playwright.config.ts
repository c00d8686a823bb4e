// Browser tests run against a release build of the real server, in Debian's Chromium (never a
// downloaded browser). Each run starts the server on a fresh SQLite database.
import { defineConfig } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;

const chromium = {
  browserName: "chromium" as const,
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  },
};

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  outputDir: "../target/e2e/test-results",
  use: {
    baseURL,
    trace: "retain-on-failure",
  },
  projects: [
    {
      name: "js",
      use: { ...chromium, javaScriptEnabled: true },
      testIgnore: /.*\.tooling\.spec\.ts/,
    },
    {
      // Every page must work before (and without) hydration: forms post, links navigate.
      name: "no-js",
      use: { ...chromium, javaScriptEnabled: false },
      testIgnore: [/.*\.hydrated\.spec\.ts/, /.*\.tooling\.spec\.ts/],
    },
    {
      // Real third-party tooling (neonctl) against the REST API; no browser involved.
      name: "tooling",
      testMatch: /.*\.tooling\.spec\.ts/,
    },
  ],
  webServer: {
    command:
      `rm -rf ../target/e2e/db && mkdir -p ../target/e2e/db && ../target/release/enclave serve --migrate --demo --embedded-proxy 127.0.0.1:${port + 1}`,
    cwd: __dirname,
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ENCLAVE_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: "sqlite://../target/e2e/db/enclave.db",
      LEPTOS_SITE_ROOT: "../target/site",
      ENCLAVE_LOG: "warn",
      ENCLAVE_PROXY_METRICS_ADDR: `127.0.0.1:${port + 2}`,
    },
  },
});
