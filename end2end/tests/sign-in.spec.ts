// Signing in and out of the console, as a person would, with and without JavaScript.
import { test, expect } from "./fixtures";

const PASSWORD = "enclave-demo-password";
const DEMO_USERS = [
  "admin@acme.example",
  "member@acme.example",
  "admin@tinyco.example",
  "newcomer@example.com",
  "operator@enclave.example",
];

async function signIn(page: import("@playwright/test").Page, email: string, password: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("every demo user can sign in and sees who they are", async ({ page }) => {
  for (const email of DEMO_USERS) {
    await signIn(page, email, PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId("signed-in-as")).toHaveText(email);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in\?signed_out=1$/);
  }
});

test("a wrong password gets a message that names no account", async ({ page }) => {
  await signIn(page, "admin@acme.example", "not-the-password");
  await expect(page).toHaveURL(/error=invalid_credentials/);
  await expect(page.getByRole("alert")).toHaveText("The email or password is incorrect.");
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
});

test("signing out ends the session, and going back shows nothing private", async ({ page }) => {
  await signIn(page, "member@acme.example", PASSWORD);
  await expect(page.getByTestId("signed-in-as")).toHaveText("member@acme.example");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByText("You are signed out.")).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

  await page.goBack();
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
  await expect(page.getByText("member@acme.example")).toHaveCount(0);
});
