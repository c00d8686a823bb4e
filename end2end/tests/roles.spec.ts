// What each demo person may do in an organization: admins change, members only look (and are
// told who can change), outsiders find nothing, people without an organization learn why.
import { test, expect } from "./fixtures";

const PASSWORD = "enclave-demo-password";

async function signIn(page: import("@playwright/test").Page, email: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
}

async function openAcme(page: import("@playwright/test").Page) {
  await page.getByRole("main").getByRole("link", { name: "Acme Robotics" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Acme Robotics");
}

test("an admin assigns and removes an endpoint, and cannot add it back", async ({ page }) => {
  const js = test.info().project.name === "js";
  const suffix = Date.now().toString(16).slice(-8);
  const endpoint = `vpce-${js ? "a" : "b"}${suffix}00000000`;
  await signIn(page, "admin@acme.example");
  await openAcme(page);
  await expect(page.getByTestId("role")).toHaveText("admin");
  await expect(page.getByTestId("read-only-note")).toHaveCount(0);

  const field = page.getByLabel("VPC endpoint id");
  if (js) {
    // Checked as it is typed, with the parser the server uses.
    await field.fill("vpc-0abc1234def567890");
    await expect(page.getByText("this is a VPC id; enter the VPC endpoint id (vpce-…)")).toBeVisible();
  }
  await page.getByLabel("Region").selectOption("aws-us-east-2");
  await field.fill(endpoint);
  await page.getByLabel("Label (optional)").fill("prod-vpc");
  await page.getByRole("button", { name: "Assign endpoint" }).click();
  await expect(page.getByTestId("flash")).toContainText(`VPC endpoint ${endpoint} is assigned in aws-us-east-2`);
  await expect(page.getByLabel(`Label for ${endpoint}`)).toHaveValue("prod-vpc");

  // Relabelling in place.
  await page.getByLabel(`Label for ${endpoint}`).fill("payments-vpc");
  await page.getByRole("button", { name: `Save the label of ${endpoint}` }).click();
  await expect(page.getByTestId("flash")).toContainText(`${endpoint} is now labelled "payments-vpc"`);
  await expect(page.getByLabel(`Label for ${endpoint}`)).toHaveValue("payments-vpc");

  // Removing is permanent, so it is confirmed first.
  await page.getByRole("link", { name: `Remove endpoint ${endpoint}…` }).click();
  await expect(page.getByTestId("remove-confirmation")).toContainText("can never be assigned to this organization again");
  await page.getByRole("button", { name: "Remove for good" }).click();
  await expect(page.getByTestId("flash")).toContainText("can never be assigned to this organization again");
  await expect(page.getByRole("row", { name: new RegExp(endpoint) })).toHaveCount(0);

  await page.getByLabel("Region").selectOption("aws-us-east-2");
  await page.getByLabel("VPC endpoint id").fill(endpoint);
  await page.getByRole("button", { name: "Assign endpoint" }).click();
  await expect(page.getByTestId("flash")).toContainText("can never be added back");
});

test("an admin allows an AWS account and stops allowing it", async ({ page }) => {
  const js = test.info().project.name === "js";
  const account = `${js ? "1111" : "2222"}${String(Date.now()).slice(-8)}`;
  await signIn(page, "admin@acme.example");
  await openAcme(page);
  // A wrong id says what is wrong and changes nothing.
  await page.getByLabel("AWS account id").fill("12345");
  await page.getByRole("button", { name: "Allow account" }).click();
  await expect(page.getByTestId("flash")).toContainText("has 5 digits; AWS account ids have 12");
  await page.getByLabel("AWS account id").fill(`arn:aws:iam::${account}:root`);
  await page.getByLabel("Note (optional)").fill("payments account");
  await page.getByRole("button", { name: "Allow account" }).click();
  await expect(page.getByTestId("flash")).toContainText(`AWS account ${account} may now create endpoints`);
  await expect(page.getByRole("row", { name: new RegExp(account) })).toContainText("payments account");
  await page.getByRole("button", { name: `Stop allowing ${account}` }).click();
  await expect(page.getByTestId("flash")).toContainText(`AWS account ${account} is no longer allowed`);
  await expect(page.getByRole("row", { name: new RegExp(account) })).toHaveCount(0);
});

test("a member sees the same organization read-only and who the admins are", async ({ page }) => {
  await signIn(page, "member@acme.example");
  await openAcme(page);
  await expect(page.getByTestId("role")).toHaveText("member");
  await expect(page.getByTestId("read-only-note")).toContainText("admin@acme.example");
  await expect(page.getByRole("heading", { name: "Projects" })).toBeVisible();
  // Nothing in the page can change anything.
  const main = page.getByRole("main");
  await expect(main.locator("form")).toHaveCount(0);
  await expect(main.getByRole("button")).toHaveCount(0);
  await expect(main.getByRole("textbox")).toHaveCount(0);
});

test("a Free-plan admin is told the plan lacks private networking", async ({ page }) => {
  await signIn(page, "admin@tinyco.example");
  await page.getByRole("main").getByRole("link", { name: "TinyCo" }).click();
  await expect(page.getByText("Private networking is not included in the free plan")).toBeVisible();
  await expect(page.getByRole("button", { name: "Assign endpoint" })).toHaveCount(0);
});

test.describe("outsiders", () => {
  test.use({ allowedConsoleErrors: [/status of 404 \(Not Found\)/] });

  test("someone from another organization finds nothing", async ({ page }) => {
    await signIn(page, "admin@acme.example");
    const acmeUrl = await page.getByRole("main").getByRole("link", { name: "Acme Robotics" }).getAttribute("href");
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn(page, "admin@tinyco.example");
    const response = await page.goto(acmeUrl!);
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Organization not found" })).toBeVisible();
    await expect(page.getByText("Acme Robotics")).toHaveCount(0);
  });
});

test("someone without an organization learns why they need one", async ({ page }) => {
  await signIn(page, "newcomer@example.com");
  await expect(page.getByTestId("no-org")).toContainText("You are not in an organization yet");
  await expect(page.getByText("Private networking belongs to an organization")).toBeVisible();
});

test("the operator has an area of their own", async ({ page }) => {
  await signIn(page, "operator@enclave.example");
  await page.getByRole("link", { name: "Operator area" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Operator area");
  await expect(page.getByRole("cell", { name: "Acme Robotics" })).toBeVisible();
  await expect(page.getByRole("cell", { name: "TinyCo" })).toBeVisible();
  // The cloud provider's health: the suite runs the built-in simulator, which never fails.
  const provider = page.getByTestId("provider-health");
  await expect(provider.getByRole("heading", { name: "Cloud provider" })).toBeVisible();
  await expect(provider).toContainText("Provider: simulator");
  await expect(provider.getByTestId("provider-state")).toHaveText("healthy");
  await expect(provider.getByTestId("no-unassigned")).toBeVisible();
});

test.describe("not operators", () => {
  test.use({ allowedConsoleErrors: [/status of 404 \(Not Found\)/] });

  test("an organization admin finds no operator area", async ({ page }) => {
    await signIn(page, "admin@acme.example");
    await expect(page.getByRole("link", { name: "Operator area" })).toHaveCount(0);
    const response = await page.goto("/operator");
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  });
});
