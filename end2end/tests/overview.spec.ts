// The overview page renders real data from the store, with or without JavaScript.
import { test, expect } from "./fixtures";
import { DEMO_PASSWORD, signIn } from "./world";

test("overview shows the control plane status read from the database", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  expect(response?.headers()["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);

  await expect(page).toHaveTitle("Overview · Enclave");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(
    "Private networking for your Postgres projects",
  );
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  // A stranger learns only that the control plane answers…
  await expect(page.getByTestId("reachable")).toHaveText(
    "The control plane and its database are answering.",
  );
  await expect(page.getByTestId("database")).toHaveCount(0);
  await expect(page.getByTestId("schema")).toHaveCount(0);

  // …an operator sees the internals.
  await signIn(page, "operator@enclave.example", DEMO_PASSWORD);
  await page.goto("/");
  await expect(page.getByTestId("database")).toHaveText("SQLite (embedded)");
  await expect(page.getByTestId("schema")).toContainText(/^\d+ — /);
  await expect(page.getByTestId("organizations")).toHaveText(/^\d+$/);
});

test.describe("unknown addresses", () => {
  // Chromium reports the 404 document itself as a console error; nothing else may fail.
  test.use({ allowedConsoleErrors: [/status of 404 \(Not Found\)/] });

  test("an unknown address answers 404 with a way back", async ({ page }) => {
    const response = await page.goto("/no/such/page");
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
    await page.getByRole("main").getByRole("link", { name: "overview", exact: true }).click();
    await expect(page).toHaveURL(/\/$/);
  });
});
