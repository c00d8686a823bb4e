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

test("the release wasm is one islands bundle, served as wasm at its optimised size", async ({ page, request }) => {
  // Take the wasm addresses from what the page really loaded, not from a guess at their names.
  const wasmUrls: string[] = [];
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.endsWith(".wasm")) wasmUrls.push(response.url());
  });
  await page.goto("/");
  await waitForHydration(page);
  // Islands: one bundle holds the interactive parts of every page; the pages themselves are
  // rendered on the server and never shipped.
  expect(wasmUrls).toHaveLength(1);
  expect(new URL(wasmUrls[0]).pathname).toMatch(/^\/pkg\/enclave\.[A-Za-z0-9_-]+\.wasm$/);

  const wasm = await request.get(wasmUrls[0]);
  expect(wasm.status()).toBe(200);
  expect(wasm.headers()["content-type"]).toContain("application/wasm");
  // Named by content hash, precompressed, cached for good (a new build has new names).
  expect(wasm.headers()["content-encoding"]).toBe("br");
  expect(wasm.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  expect(wasm.headers()["set-cookie"]).toBeUndefined();
  const body = await wasm.body();
  // A budget, not a measurement (`make bench` prints each page's first load); the full
  // hydration build it replaced was about 680 KB raw for its main bundle alone, and a debug
  // build is several times larger.
  expect(body.length).toBeLessThan(600_000);
});
