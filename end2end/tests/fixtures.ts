// Shared test fixture: every test fails if the page throws or logs a console error, which is
// how a broken hydration (or a broken wasm optimiser) shows up.
import { test as base, expect } from "@playwright/test";

type Fixtures = {
  /** Console errors a test expects (e.g. Chromium logs every 4xx document); all others fail. */
  allowedConsoleErrors: RegExp[];
  pageErrors: string[];
};

export const test = base.extend<Fixtures>({
  allowedConsoleErrors: [[], { option: true }],
  pageErrors: [
    async ({ page, allowedConsoleErrors }, use) => {
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
      page.on("console", (msg) => {
        if (msg.type() !== "error") return;
        const text = msg.text();
        // A refused change answers its server function with the refusal's status (400, 403,
        // 409, 422), and Chromium logs every such answer; the page shows the refusal.
        const refusal = /status of 4(00|03|09|22) /.test(text);
        if (refusal && new URL(msg.location().url || "http://x/").pathname.startsWith("/fn/")) return;
        if (allowedConsoleErrors.some((pattern) => pattern.test(text))) return;
        errors.push(`console.error: ${text}`);
      });
      await use(errors);
      expect(errors, "page or console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the wasm has hydrated the page (the app marks <main> once it runs). */
export async function waitForHydration(page: import("@playwright/test").Page) {
  await expect(page.locator("main[data-hydrated=true]")).toBeVisible();
}
