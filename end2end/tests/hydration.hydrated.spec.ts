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

test("the release wasm is served as wasm at its optimised size, split per page", async ({ page, request }) => {
  // Take the wasm addresses from what the page really loaded, not from a guess at their names.
  const wasmUrls: string[] = [];
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.endsWith(".wasm")) wasmUrls.push(response.url());
  });
  await page.goto("/");
  await waitForHydration(page);
  // The main bundle and the overview page's chunks (pages are lazy routes, built `--split`).
  const main = wasmUrls.filter((u) => /^\/pkg\/enclave\.[A-Za-z0-9_-]+\.wasm$/.test(new URL(u).pathname));
  expect(main).toHaveLength(1);
  expect(wasmUrls.some((u) => new URL(u).pathname.includes("overview_route_view"))).toBe(true);
  // Another page's view is not loaded on this one.
  expect(wasmUrls.some((u) => new URL(u).pathname.includes("setup_route_view"))).toBe(false);

  for (const url of wasmUrls) {
    const wasm = await request.get(url);
    expect(wasm.status()).toBe(200);
    expect(wasm.headers()["content-type"]).toContain("application/wasm");
    // Named by content hash, precompressed, cached for good (a new build has new names).
    expect(wasm.headers()["content-encoding"]).toBe("br");
    expect(wasm.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(wasm.headers()["set-cookie"]).toBeUndefined();
  }
  const body = await (await request.get(main[0])).body();
  // A budget, not a measurement (`make bench` prints each page's first load: the main bundle
  // is about 680 KB raw, 211 KB brotli, in November 2026, against 2.43 MB before the pages
  // were split); a debug build is several times larger.
  expect(body.length).toBeLessThan(900_000);
});
