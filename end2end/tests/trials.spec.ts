// Trials, the whole loop in the console: an admin of a Free-plan organization requests one
// from the project's Network Security page, a member sees its status but cannot ask, an
// operator approves it in the operator area, and the admin then sets up private networking
// with the stepper. A declined request shows the operator's reason. Each run makes its own
// organizations with the operator CLI.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Page } from "@playwright/test";
import { test, expect } from "./fixtures";

const root = path.resolve(__dirname, "../..");
const env = {
  ...process.env,
  DATABASE_URL: "sqlite://" + path.join(root, "target/e2e/db/enclave.db"),
  ENCLAVE_LOG: "warn",
};
const PASSWORD = "trial-test-password";
const DEMO_PASSWORD = "enclave-demo-password";

function enclave(args: string[], input?: string): string {
  return execFileSync(path.join(root, "target/release/enclave"), args, { env, encoding: "utf8", input }).trim();
}

function freeOrg() {
  const tag = randomBytes(4).toString("hex");
  const org = enclave(["org", "create", "--name", `Free ${tag}`, "--plan", "free"]);
  const admin = `admin-${tag}@free.test`;
  const member = `member-${tag}@free.test`;
  enclave(["user", "create", "--email", admin], `${PASSWORD}\n`);
  enclave(["user", "create", "--email", member], `${PASSWORD}\n`);
  enclave(["org", "add-member", "--org", org, "--email", admin, "--role", "admin"]);
  enclave(["org", "add-member", "--org", org, "--email", member, "--role", "member"]);
  const project = enclave(["project", "create", "--org", org, "--name", "shop", "--region", "aws-us-east-2"]).split(" ")[0];
  return { org, project, admin, member, name: `Free ${tag}` };
}

async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
}

async function requestTrial(page: Page, project: string) {
  await page.goto(`/projects/${project}`);
  await expect(page.getByTestId("trial-status")).toHaveCount(0);
  await page.getByLabel("What do you want to connect privately? (required)").fill("Orders service in EKS");
  await page.getByRole("checkbox", { name: "aws-us-east-2" }).check();
  await page.getByLabel("Expected number of VPC endpoints").fill("2");
  await page.getByRole("button", { name: "Request a trial" }).click();
  await expect(page.getByTestId("flash")).toContainText("Your trial request is sent");
  await expect(page.getByTestId("trial-status")).toHaveAttribute("data-status", "pending");
  // One open request: the form is gone while it waits.
  await expect(page.getByRole("button", { name: "Request a trial" })).toHaveCount(0);
}

const js = () => test.info().project.name === "js";

test("a Free-plan admin requests a trial, an operator approves it, the admin sets up", async ({ page }) => {
  const w = freeOrg();
  await signIn(page, w.admin);
  await page.goto(`/projects/${w.project}`);
  await expect(page.getByTestId("not-entitled")).toBeVisible();
  await expect(page.getByText("Scale, Business and Enterprise plans").first()).toBeVisible();
  await requestTrial(page, w.project);
  await signOut(page);

  // A member sees where it stands, and who may ask.
  await signIn(page, w.member);
  await page.goto(`/projects/${w.project}`);
  await expect(page.getByTestId("trial-status")).toHaveAttribute("data-status", "pending");
  await expect(page.getByTestId("trial-status")).toContainText(w.admin);
  await signOut(page);

  // The operator approves it, with the default 14 days.
  await signIn(page, "operator@enclave.example", DEMO_PASSWORD);
  await page.goto("/operator");
  const card = page.getByTestId(`trial-${w.org}`);
  await expect(card).toContainText("Orders service in EKS");
  await expect(card).toContainText("aws-us-east-2");
  await card.getByRole("button", { name: `Approve the trial of ${w.name}` }).click();
  await expect(page.getByTestId("flash")).toContainText("approved");
  await expect(page.getByTestId(`trial-${w.org}`)).toHaveCount(0);
  await signOut(page);

  // The admin now has a running trial and completes the setup.
  await signIn(page, w.admin);
  await page.goto(`/projects/${w.project}`);
  await expect(page.getByTestId("trial-status")).toHaveAttribute("data-status", "active");
  await expect(page.getByTestId("trial-status")).toContainText("14 days left");
  await expect(page.getByTestId("not-entitled")).toHaveCount(0);
  await page.getByRole("link", { name: "Set up private networking" }).click();
  await page.goto(`/projects/${w.project}/setup/3`);
  const ids = [0, 1].map(() => `vpce-${randomBytes(9).toString("hex").slice(0, 17)}`);
  for (const id of ids) {
    await page.getByLabel("VPC endpoint id").fill(id);
    await page.getByRole("button", { name: "Assign endpoint" }).click();
    await expect(page.getByTestId("flash")).toContainText(`${id} is assigned`);
  }
  await page.goto(`/projects/${w.project}/setup/4`);
  await expect(async () => {
    if (!js()) await page.reload();
    await expect(page.getByTestId("acceptance-summary")).toContainText("All 2 endpoint(s) are accepted", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await page.goto(`/projects/${w.project}/setup/6`);
  await page.getByRole("button", { name: `Restrict to ${ids[0]}` }).click();
  await expect(page.getByTestId("flash")).toContainText("only from its restricted endpoints");
  await expect(page.getByTestId("private-badge")).toBeVisible();
});

test("a declined request shows the operator's reason", async ({ page }) => {
  const w = freeOrg();
  await signIn(page, w.admin);
  await requestTrial(page, w.project);
  await signOut(page);

  await signIn(page, "operator@enclave.example", DEMO_PASSWORD);
  await page.goto("/operator");
  const card = page.getByTestId(`trial-${w.org}`);
  await card.getByLabel("Reason for declining").fill("Please tell us which AWS account will connect.");
  await card.getByRole("button", { name: `Decline the trial of ${w.name}` }).click();
  await expect(page.getByTestId("flash")).toContainText("declined");
  await signOut(page);

  await signIn(page, w.admin);
  await page.goto(`/projects/${w.project}`);
  await expect(page.getByTestId("trial-status")).toHaveAttribute("data-status", "declined");
  await expect(page.getByTestId("trial-status")).toContainText("Please tell us which AWS account will connect.");
  // A new request may be sent.
  await expect(page.getByRole("button", { name: "Request a trial" })).toBeVisible();
});

test("a member cannot request a trial", async ({ page }) => {
  const w = freeOrg();
  await signIn(page, w.member);
  await page.goto(`/projects/${w.project}`);
  await expect(page.getByTestId("trial-who")).toContainText(w.admin);
  await expect(page.getByRole("button", { name: "Request a trial" })).toHaveCount(0);
  await expect(page.getByRole("main").locator("form")).toHaveCount(0);
});
