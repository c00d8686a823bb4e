// A project's Network Security page, as an admin and as a member: endpoints become accepted,
// the project is restricted, public access is blocked through the confirmation (and the
// lockout interlock), and the last restriction is only lifted when confirmed.
import { test, expect, waitForHydration } from "./fixtures";

const PASSWORD = "enclave-demo-password";

async function signIn(page: import("@playwright/test").Page, email: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
}

async function openProject(page: import("@playwright/test").Page, name: string) {
  await page.getByRole("main").getByRole("link", { name: "Acme Robotics" }).click();
  await page.getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(name);
}

test("an admin restricts the project and blocks public access", async ({ page }) => {
  const run = `${test.info().project.name === "js" ? "c" : "d"}${Date.now().toString(16).slice(-8)}`;
  const first = `vpce-${run}0000000a`;
  const second = `vpce-${run}0000000b`;
  await signIn(page, "admin@acme.example");
  await page.getByRole("main").getByRole("link", { name: "Acme Robotics" }).click();
  for (const endpoint of [first, second]) {
    await page.getByLabel("Region").selectOption("aws-us-east-2");
    await page.getByLabel("VPC endpoint id").fill(endpoint);
    await page.getByRole("button", { name: "Assign endpoint" }).click();
    await expect(page.getByTestId("flash")).toContainText(`${endpoint} is assigned`);
  }
  await page.getByRole("link", { name: "checkout-prod" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("checkout-prod");
  await expect(page.getByTestId("limit-usage")).toContainText("of 10 endpoints in aws-us-east-2");

  // The simulator accepts new endpoints after a few seconds.
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole("row", { name: new RegExp(first) })).toContainText("accepted", { timeout: 500 });
    await expect(page.getByRole("row", { name: new RegExp(second) })).toContainText("accepted", { timeout: 500 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByTestId("coverage")).toHaveText("2 of 2 service names have an accepted endpoint");

  await page.getByRole("button", { name: `Restrict to ${first}` }).click();
  await expect(page.getByTestId("flash")).toContainText("only from its restricted endpoints");
  await expect(page.getByRole("row", { name: new RegExp(first) })).toContainText("Yes");
  await expect(page.getByTestId("private-badge")).toBeVisible();
  if (test.info().project.name === "js") {
    // The README's screenshots of the page, wide and phone-sized.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: "../target/screenshots/network-security-1280.png", fullPage: true });
    await page.setViewportSize({ width: 375, height: 800 });
    await page.reload();
    await expect(page.getByTestId("private-badge")).toBeVisible();
    await page.screenshot({ path: "../target/screenshots/network-security-375.png", fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });
  }

  await page.getByRole("link", { name: "Block public access…" }).click();
  await expect(page.getByText("No accepted VPC endpoint can reach this project now")).toHaveCount(0);
  // An endpoint can reach the project, but no private connection was ever seen through one:
  // the confirmation says so, and blocking needs that acknowledged.
  await expect(page.getByTestId("block-impact")).toContainText("No private connection has ever been seen");
  await page.getByRole("button", { name: "Block public access" }).click();
  await expect(page.getByTestId("flash")).toContainText("Public access was not blocked");
  // The refusal leaves the confirmation open (with and without JavaScript), box and all.
  await page.getByLabel("I understand: block anyway").check();
  await page.getByRole("button", { name: "Block public access" }).click();
  await expect(page.getByTestId("flash")).toContainText("Public access is being blocked");
  await expect(page.getByTestId("public-state")).toContainText("Blocked");
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("public-state")).toHaveText("Blocked", { timeout: 500 });
  }).toPass({ timeout: 10_000 });

  // The last restriction is lifted only when confirmed.
  await page.getByRole("button", { name: `Lift restriction to ${first}` }).click();
  await expect(page.getByTestId("flash")).toContainText("The restriction stays");
  await expect(page.getByRole("row", { name: new RegExp(first) })).toContainText("Yes");
  await page.getByRole("row", { name: new RegExp(first) }).getByLabel("Allow every endpoint again").check();
  await page.getByRole("button", { name: `Lift restriction to ${first}` }).click();
  await expect(page.getByTestId("flash")).toContainText("The last restriction is removed");

  // Allowing public access again is confirmed too.
  await page.getByRole("link", { name: "Allow public access…" }).click();
  await page.getByRole("button", { name: "Allow public access" }).click();
  await expect(page.getByTestId("flash")).toContainText("Public access is being allowed again");
  // The page says where the change stands in the data plane: applied once the running
  // proxy has acknowledged it (the open page follows live with JavaScript; a reload without).
  await expect(page.getByTestId("public-state")).toHaveText("Allowed");
  await expect(async () => {
    if (test.info().project.name !== "js") await page.reload();
    await expect(page.getByTestId("rollout")).toHaveAttribute("data-state", "applied", { timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
  await expect(page.getByTestId("rollout")).toContainText("Applied by 1 data-plane proxy");
});

test("blocking public access with no way in asks to acknowledge the lockout", async ({ page }) => {
  await signIn(page, "admin@acme.example");
  await openProject(page, "analytics");
  await expect(page.getByTestId("private-badge")).toHaveCount(0);
  await page.getByRole("link", { name: "Block public access…" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "lock everyone out" })).toBeVisible();
  await page.getByRole("button", { name: "Block public access" }).click();
  await expect(page.getByTestId("flash")).toContainText("Public access was not blocked");
  await expect(page.getByTestId("public-state")).toHaveText("Allowed");
});

test("an admin watches what blocking would refuse before enforcing it", async ({ page }) => {
  await signIn(page, "admin@acme.example");
  await openProject(page, "analytics");
  await expect(page.getByTestId("public-state")).toHaveText("Allowed");
  await expect(page.getByTestId("report-only")).toHaveCount(0);
  await page.getByRole("button", { name: "Watch first: report what blocking would refuse" }).click();
  await expect(page.getByTestId("flash")).toContainText("Report-only");
  await expect(page.getByTestId("report-only")).toContainText("let through");
  await expect(page.getByRole("heading", { name: "Public connections blocking would refuse (report-only)" })).toBeVisible();
  // Public access itself is unchanged; the suite leaves the project as it found it.
  await expect(page.getByTestId("public-state")).toHaveText("Allowed");
  await page.getByRole("button", { name: "Stop reporting" }).click();
  await expect(page.getByTestId("flash")).toContainText("Reporting stopped");
  await expect(page.getByTestId("report-only")).toHaveCount(0);
});

test("an admin limits public access to listed networks", async ({ page }) => {
  await signIn(page, "admin@acme.example");
  await openProject(page, "analytics");
  await expect(page.getByTestId("allow-list-state")).toContainText("No allow list");
  await page.getByLabel("Address or range").fill("203.0.113.9/24");
  await page.getByLabel("Note (optional)").fill("office");
  await page.getByLabel("Expires in days (optional)").fill("7");
  await page.getByRole("button", { name: "Add to the allow list" }).click();
  await expect(page.getByTestId("flash")).toContainText("203.0.113.0/24 is on the IP allow list");
  const row = page.getByTestId("allow-list").getByRole("row", { name: /203\.0\.113\.0\/24/ });
  await expect(row).toContainText("office");
  await expect(page.getByTestId("allow-list-state")).toContainText("only from these 1 entries");
  // A bad entry is refused, naming what to enter: as it is typed (the page's island uses the
  // parser the server uses), and by the server.
  if (test.info().project.name === "js") await waitForHydration(page);
  await page.getByLabel("Address or range").fill("example.com");
  if (test.info().project.name === "js") {
    await expect(page.locator("#allow-entry-help")).toContainText('"example.com" is not an IP address');
  }
  await page.getByRole("button", { name: "Add to the allow list" }).click();
  await expect(page.getByTestId("flash")).toContainText("CIDR range");
  await page.getByRole("button", { name: "Remove 203.0.113.0/24 from the allow list" }).click();
  await expect(page.getByTestId("flash")).toContainText("may come from anywhere again");
  await expect(page.getByTestId("allow-list-state")).toContainText("No allow list");
});

test("a member sees the Network Security page read-only", async ({ page }) => {
  await signIn(page, "member@acme.example");
  await openProject(page, "checkout-prod");
  await expect(page.getByTestId("read-only-note")).toContainText("admin@acme.example");
  await expect(page.getByTestId("public-state")).toBeVisible();
  const main = page.getByRole("main");
  await expect(main.locator("form")).toHaveCount(0);
  await expect(main.getByRole("button")).toHaveCount(0);
  await expect(main.getByRole("link", { name: /public access…/ })).toHaveCount(0);
});
