// An organization's Webhooks page, with and without JavaScript: an admin adds a receiver and
// sees its signing secret once, an event's delivery appears in the log with its answer, "Send
// again" queues it once more, the receiver can be removed; members see that only admins may.
import { test, expect } from "./fixtures";
import { endpointId, freshOrg, signIn } from "./world";
import { expectNoSeriousViolations } from "./page_checks";

test("an admin adds a receiver, sees its deliveries, sends one again and removes it", async ({ page, request }) => {
  const w = freshOrg();
  await signIn(page, w.admin);
  await page.goto(`/orgs/${w.org}`);
  await page.getByTestId("org-webhooks").click();
  await expect(page).toHaveURL(new RegExp(`/orgs/${w.org}/webhooks$`));
  await expect(page.getByTestId("no-webhooks")).toBeVisible();

  // A bad address is refused with the field and the fix; nothing is added.
  await page.getByLabel("Receiver URL").fill("https://localhost/hook");
  await page.getByRole("button", { name: "Add receiver" }).click();
  await expect(page.getByTestId("flash")).toContainText("not a public address");
  await expect(page.getByTestId("webhook")).toHaveCount(0);

  // Added with two events; the secret is shown once.
  await page.getByLabel("Receiver URL").fill("https://hooks.example.com/enclave");
  for (const box of await page.locator("fieldset.events input[type=checkbox]").all()) {
    await box.uncheck();
  }
  await page.getByLabel(/restriction\.changed/).check();
  await page.getByLabel(/endpoint\.accepted/).check();
  await page.getByRole("button", { name: "Add receiver" }).click();
  const secret = page.getByTestId("webhook-secret");
  await expect(secret).toHaveValue(/^whsec_/);
  const receiver = page.getByTestId("webhook");
  await expect(receiver).toHaveCount(1);
  await expect(receiver).toContainText("https://hooks.example.com/enclave");
  await expect(receiver).toContainText("endpoint.accepted, restriction.changed");
  if (test.info().project.name === "js") {
    await expectNoSeriousViolations(page, "the webhooks page");
  }

  // A restriction made through the API is delivered (the example host does not answer here,
  // so the log shows the attempt's error and the retry).
  const endpoint = endpointId();
  const auth = { Authorization: `Bearer ${w.key}` };
  expect((await request.post(`/api/v2/organizations/${w.org}/vpc/region/aws-us-east-2/vpc_endpoints/${endpoint}`, { headers: auth })).status()).toBe(200);
  expect((await request.post(`/api/v2/projects/${w.project}/vpc_endpoints/${endpoint}`, { headers: auth })).status()).toBe(200);
  const delivery = page.getByTestId("delivery").filter({ hasText: "restriction.changed" });
  await expect(async () => {
    await page.reload();
    await expect(delivery).toHaveCount(1);
    await expect(delivery).toContainText(/retrying|failed/);
  }).toPass({ timeout: 20_000 });
  await expect(page.getByTestId("webhook-secret")).toHaveCount(0);

  await delivery.getByRole("button", { name: "Send again" }).click();
  await expect(page.getByTestId("flash")).toContainText("queued to be sent again");

  await receiver.getByRole("button", { name: /Remove receiver/ }).click();
  await expect(page.getByTestId("no-webhooks")).toBeVisible();
});

test("members are told only admins manage webhooks", async ({ page }) => {
  const w = freshOrg();
  await signIn(page, w.member);
  await page.goto(`/orgs/${w.org}/webhooks`);
  await expect(page.getByTestId("admins-only")).toBeVisible();
  await expect(page.getByLabel("Receiver URL")).toHaveCount(0);
});
