// Accessibility: an axe-core scan of every page of the console (as an admin, a member and
// someone signed out) finds no serious or critical violation of WCAG 2 A/AA rules. Runs with
// and without JavaScript, so the server-rendered page and the hydrated one are both checked.
import type { Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import { expectNoSeriousViolations } from "./page_checks";

const PASSWORD = "enclave-demo-password";

async function signIn(page: Page, email: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
}

/** The address of the first link whose name matches, as the page renders it. */
async function hrefOf(page: Page, name: string | RegExp): Promise<string> {
  const href = await page.getByRole("main").getByRole("link", { name }).first().getAttribute("href");
  expect(href).toBeTruthy();
  return href!;
}

test.describe("pages signed out", () => {
  test.use({ allowedConsoleErrors: [/status of 404 \(Not Found\)/] });

  test("overview, sign-in and not-found pages", async ({ page }) => {
    for (const address of ["/", "/sign-in", "/no/such/page"]) {
      await page.goto(address);
      await expectNoSeriousViolations(page, address);
    }
  });
});

test("every page an admin sees", async ({ page }) => {
  await signIn(page, "admin@acme.example");
  await expectNoSeriousViolations(page, "the overview, signed in");
  await page.goto("/api-keys");
  await expectNoSeriousViolations(page, "/api-keys");
  await page.goto("/");
  const org = await hrefOf(page, "Acme Robotics");
  await page.goto(org);
  await expectNoSeriousViolations(page, org);
  const project = await hrefOf(page, "checkout-prod");
  await page.goto(`${org}/activity`);
  await expectNoSeriousViolations(page, `${org}/activity`);
  await page.goto(project);
  await expectNoSeriousViolations(page, project);
  await page.goto(`${project}?confirm=block`);
  await expectNoSeriousViolations(page, `${project} (confirming a block)`);
  for (let step = 1; step <= 6; step++) {
    await page.goto(`${project}/setup/${step}`);
    await expectNoSeriousViolations(page, `setup step ${step}`);
  }
});

test("pages a member and an operator see", async ({ page }) => {
  await signIn(page, "member@acme.example");
  await page.goto(await hrefOf(page, "Acme Robotics"));
  await expectNoSeriousViolations(page, "the organization, as a member");
  await page.goto(await hrefOf(page, "checkout-prod"));
  await expectNoSeriousViolations(page, "the project, as a member");
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, "operator@enclave.example");
  await page.goto("/operator");
  await expectNoSeriousViolations(page, "/operator");
});
