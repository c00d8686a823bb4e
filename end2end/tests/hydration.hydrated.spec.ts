// Hydration: the wasm loads, takes over the server-rendered page, and makes it interactive.
import { test, expect, waitForHydration } from "./fixtures";

test("the page hydrates and its controls respond", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);

  const checks = page.locator(".checks");
  await expect(checks).toHaveText("Checked once since this page opened.");

  // Only the hydrated page reacts: the click calls a server function and re-renders.
  await page.getByRole("button", { name: "Check again" }).click();
  await expect(checks).toHaveText("Checked 2 times since this page opened.");
  await expect(page.getByTestId("reachable")).toBeVisible();

  // The screenshots the README shows.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: "../target/screenshots/overview-1280.png", fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: "../target/screenshots/overview-375.png", fullPage: true });
});

test("the release wasm is served as wasm at its optimised size", async ({ page, request }) => {
  // Take the wasm address from what the page really loaded, not from a guess at its name.
  const wasmUrls: string[] = [];
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.endsWith(".wasm")) wasmUrls.push(response.url());
  });
  await page.goto("/");
  await waitForHydration(page);
  expect(wasmUrls).toHaveLength(1);

  const wasm = await request.get(wasmUrls[0]);
  expect(wasm.status()).toBe(200);
  expect(wasm.headers()["content-type"]).toContain("application/wasm");
  // Named by its content hash, precompressed, and cached for good (a new build has a new name).
  expect(new URL(wasmUrls[0]).pathname).toMatch(/^\/pkg\/enclave\.[A-Za-z0-9_-]+\.wasm$/);
  expect(wasm.headers()["content-encoding"]).toBe("br");
  expect(wasm.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  expect(wasm.headers()["set-cookie"]).toBeUndefined();
  const body = await wasm.body();
  // A budget, not a measurement (`make bench` prints the figure: about 2.43 MB raw, 880 KB
  // gzip with the Activity page and the stepper's ways, in November 2026; 2.27 MB before
  // them, 1.6 MB before the changes became server functions); a debug build is several times
  // larger. Issue 14's 250 KB (brotli) goal needs islands: see docs/architecture.md.
  expect(body.length).toBeLessThan(2_600_000);
});
