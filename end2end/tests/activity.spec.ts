// An organization's Activity page, with and without JavaScript: changes made through the REST
// API appear with who, before → after and their request id; the filters narrow them (also
// from the project page's link); the CSV export downloads what is shown.
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { test, expect } from "./fixtures";
import { endpointId, freshOrg, signIn } from "./world";

test("the activity lists API changes with before and after, filters them and exports CSV", async ({ page, request }) => {
  const w = freshOrg();
  const tag = randomBytes(4).toString("hex");
  const endpoint = endpointId();
  const auth = { Authorization: `Bearer ${w.key}` };
  const assigned = await request.post(`/api/v2/organizations/${w.org}/vpc/region/aws-us-east-2/vpc_endpoints/${endpoint}`, {
    headers: { ...auth, "x-request-id": `assign-${tag}` },
    data: { label: "eks" },
  });
  expect(assigned.status()).toBe(200);
  const blocked = await request.patch(`/api/v2/projects/${w.project}`, {
    headers: { ...auth, "x-request-id": `block-${tag}` },
    data: { project: { settings: { block_public_connections: true } } },
  });
  expect(blocked.status()).toBe(200);
  // The provider (the simulator) accepts the endpoint a few seconds later: wait for it, so
  // the endpoint's history is complete and the same on every run.
  await expect
    .poll(
      async () => {
        const listed = await request.get(`/api/v2/organizations/${w.org}/vpc/region/aws-us-east-2/vpc_endpoints`, {
          headers: auth,
        });
        const body = await listed.json();
        return body.endpoints.find((e: { vpc_endpoint_id: string }) => e.vpc_endpoint_id === endpoint)?.state;
      },
      { timeout: 20_000 },
    )
    .toBe("accepted");

  // A member reads it, reaching it from the organization's page.
  await signIn(page, w.member);
  await page.goto(`/orgs/${w.org}`);
  await page.getByTestId("org-activity").click();
  await expect(page).toHaveURL(new RegExp(`/orgs/${w.org}/activity$`));
  const rows = page.getByTestId("activity").locator("tbody tr");
  const block = rows.filter({ hasText: `block-${tag}` });
  await expect(block).toHaveCount(1);
  await expect(block).toHaveAttribute("data-action", "project.settings");
  await expect(block).toContainText(`personal key of ${w.admin}`);
  await expect(block).toContainText('"block_public_connections":false');
  await expect(block).toContainText('"block_public_connections":true');
  if (test.info().project.name === "js") {
    // The README's screenshots of the page, wide and phone-sized.
    await page.screenshot({ path: "../target/screenshots/activity-1280.png", fullPage: true });
    await page.setViewportSize({ width: 375, height: 800 });
    await page.screenshot({ path: "../target/screenshots/activity-375.png", fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });
  }

  // Narrowed to the endpoint: its acceptance by the provider, then (older) its assignment.
  await page.getByLabel("VPC endpoint", { exact: true }).fill(endpoint);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(new RegExp(`vpc_endpoint_id=${endpoint}`));
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toHaveAttribute("data-action", "vpc_endpoint.state");
  await expect(rows.first()).toContainText("accepted");
  await expect(rows.nth(1)).toHaveAttribute("data-action", "vpc_endpoint.assign");
  await expect(rows.nth(1)).toContainText(`assign-${tag}`);

  // The CSV holds what the filter shows.
  const downloading = page.waitForEvent("download");
  await page.getByTestId("activity-csv").click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`activity-${w.org}.csv`);
  const csv = readFileSync(await download.path(), "utf8").trim().split("\r\n");
  expect(csv[0]).toBe("id,time_utc,actor_kind,actor,action,target,project_id,before,after,request_id");
  expect(csv).toHaveLength(3);
  expect(csv[1]).toContain("vpc_endpoint.state");
  expect(csv[2]).toContain("vpc_endpoint.assign");
  expect(csv[2]).toContain(`assign-${tag}`);

  // A malformed filter is named, and nothing else is shown.
  await page.getByLabel("VPC endpoint", { exact: true }).fill("not-an-endpoint");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByTestId("filter-error")).toContainText("vpc_endpoint_id");

  // The project page links to its own activity.
  await page.goto(`/projects/${w.project}`);
  await page.getByTestId("project-activity").click();
  await expect(page).toHaveURL(new RegExp(`project_id=${w.project}`));
  await expect(page.getByLabel("Project", { exact: true })).toHaveValue(w.project);
  await expect(rows.filter({ hasText: `block-${tag}` })).toHaveCount(1);
  await expect(rows.filter({ hasText: `assign-${tag}` })).toHaveCount(0);
});
