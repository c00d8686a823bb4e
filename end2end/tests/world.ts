// A fresh organization per test, made with the operator CLI (so runs never share endpoints or
// limits), and signing in: shared by the specs that need their own world.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Page } from "@playwright/test";
import { expect } from "./fixtures";

const root = path.resolve(__dirname, "../..");
const env = {
  ...process.env,
  DATABASE_URL: "sqlite://" + path.join(root, "target/e2e/db/enclave.db"),
  ENCLAVE_LOG: "warn",
};
const PASSWORD = "setup-test-password";

export function enclave(args: string[], input?: string): string {
  return execFileSync(path.join(root, "target/release/enclave"), args, { env, encoding: "utf8", input }).trim();
}

/** 17 hexadecimal digits after `vpce-`, unique to this run. */
export function endpointId(prefix = ""): string {
  return `vpce-${(prefix + randomBytes(9).toString("hex")).slice(0, 17)}`;
}

export type World = { org: string; project: string; admin: string; member: string; key: string };

/** A new organization on the Scale plan, with an admin, a member, a key and a project in
 * `region` (a region of the built-in catalog). */
export function freshOrg(region = "aws-us-east-2"): World {
  const tag = randomBytes(4).toString("hex");
  const org = enclave(["org", "create", "--name", `Setup ${tag}`, "--plan", "scale"]);
  const admin = `admin-${tag}@setup.test`;
  const member = `member-${tag}@setup.test`;
  enclave(["user", "create", "--email", admin], `${PASSWORD}\n`);
  enclave(["user", "create", "--email", member], `${PASSWORD}\n`);
  enclave(["org", "add-member", "--org", org, "--email", admin, "--role", "admin"]);
  enclave(["org", "add-member", "--org", org, "--email", member, "--role", "member"]);
  const project = enclave(["project", "create", "--org", org, "--name", "orders", "--region", region]).split(" ")[0];
  const key = enclave(["api-key", "create", "--user", admin, "--name", "setup-test"]);
  return { org, project, admin, member, key };
}

/** The password `--demo` gives its accounts (the operator among them). */
export const DEMO_PASSWORD = "enclave-demo-password";

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
}

