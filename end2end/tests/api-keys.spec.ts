// API keys in the console: created in the page, shown once, used with curl against the REST
// API, refused at once after revoking. Runs with and without JavaScript.
import { execFileSync } from "node:child_process";
import { test, expect } from "./fixtures";

const PASSWORD = "enclave-demo-password";

function curlStatus(baseURL: string, key: string): string {
  return execFileSync(
    "curl",
    ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", `Authorization: Bearer ${key}`,
     `${baseURL}/api/v2/users/me/organizations`],
    { encoding: "utf8" },
  );
}

test("a key created in the console works with curl until it is revoked", async ({ page, context, baseURL }) => {
  const js = test.info().project.name === "js";
  const name = `ci-${test.info().project.name}-${Date.now()}`;
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill("admin@acme.example");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toBeVisible();

  await page.getByRole("link", { name: "API keys" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("API keys");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Owner").selectOption({ label: "Organization: Acme Robotics" });
  await page.getByLabel("Expires").selectOption("30");
  await page.getByRole("button", { name: "Create key" }).click();

  const shown = page.getByTestId("new-key");
  await expect(shown).toHaveValue(/^enclave_[A-Za-z0-9]{40}$/);
  const key = await shown.inputValue();
  if (js) {
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.getByRole("button", { name: "Copy" }).click();
    await expect(page.getByText("Copied to the clipboard.")).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
  }
  expect(curlStatus(baseURL!, key)).toBe("200");

  // Shown once: a reload does not show it again, but the list does (by prefix only).
  await page.reload();
  await expect(page.getByTestId("new-key")).toHaveCount(0);
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toContainText(key.slice(0, 12));
  await expect(page.getByText(key)).toHaveCount(0);

  await page.getByRole("button", { name: `Revoke key ${name}` }).click();
  await expect(page.getByRole("status").filter({ hasText: "The key is revoked" })).toBeVisible();
  await expect(page.getByRole("row", { name: new RegExp(name) })).toContainText("Revoked");
  expect(curlStatus(baseURL!, key)).toBe("401");
});

test("signed out, the page asks to sign in", async ({ page }) => {
  await page.goto("/api-keys");
  await expect(page.getByText("Sign in to manage your API keys.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Create key" })).toHaveCount(0);
});
