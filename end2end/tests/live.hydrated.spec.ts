// Live updates on an interactive page (this file runs with JavaScript only: without it, pages
// do not follow changes): what is being typed survives an update arriving.
import { test, expect, waitForHydration } from "./fixtures";
import { endpointId, freshOrg, signIn } from "./world";

test("text being typed survives a live update", async ({ page, request }) => {
  const w = freshOrg();
  const headers = { authorization: `Bearer ${w.key}` };
  const assignThroughApi = async (id: string) => {
    const res = await request.post(`/api/v2/organizations/${w.org}/vpc/region/aws-us-east-2/vpc_endpoints/${id}`, {
      headers, data: { label: "api" },
    });
    expect(res.status()).toBe(200);
  };
  await signIn(page, w.admin);

  // The organization page: half an endpoint id and a label typed, then a change arrives.
  await page.goto(`/orgs/${w.org}`);
  await waitForHydration(page);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-live", "live");
  const typing = endpointId("7");
  await page.getByLabel("VPC endpoint id").fill(typing.slice(0, 12));
  await page.getByLabel("Label (optional)").fill("half-typed");
  const first = endpointId("8");
  await assignThroughApi(first);
  await expect(page.getByRole("row", { name: new RegExp(first) })).toBeVisible();
  await expect(page.getByLabel("VPC endpoint id")).toHaveValue(typing.slice(0, 12));
  await expect(page.getByLabel("Label (optional)")).toHaveValue("half-typed");
  // Typing goes on where it was, and the form still works.
  await page.getByLabel("VPC endpoint id").press("End");
  await page.getByLabel("VPC endpoint id").pressSequentially(typing.slice(12));
  await page.getByRole("button", { name: "Assign endpoint" }).click();
  await expect(page.getByTestId("flash")).toContainText(`${typing} is assigned`);

  // The setup's step 3 the same way: the new endpoint appears, the typed id stays.
  await page.goto(`/projects/${w.project}/setup/3`);
  await waitForHydration(page);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-live", "live");
  await page.getByLabel("VPC endpoint id").fill("vpce-0123");
  const second = endpointId("9");
  await assignThroughApi(second);
  await expect(page.getByTestId(`state-${second}`)).toBeVisible();
  await expect(page.getByLabel("VPC endpoint id")).toHaveValue("vpce-0123");
});

test.describe("past the cap of live streams", () => {
  // The refused stream is a 429 Chromium logs (for the EventSource and for the page's probe).
  test.use({ allowedConsoleErrors: [/status of 429|EventSource/] });

  test("a page says live updates are paused, and resumes when a stream closes", async ({ page, context, baseURL }) => {
    test.setTimeout(90_000);
    const w = freshOrg();
    await signIn(page, w.admin);
    const session = (await context.cookies()).find((c) => c.name === "enclave_session")!.value;
    // Eight streams of this session (the cap) held open outside the browser.
    // The responses are kept referenced: a collected response's stream would be closed.
    const streams: AbortController[] = [];
    const open: Response[] = [];
    for (let i = 0; i < 8; i++) {
      const abort = new AbortController();
      const res = await fetch(`${baseURL}/events/projects/${w.project}`, {
        headers: { cookie: `enclave_session=${session}` },
        signal: abort.signal,
      });
      expect(res.status).toBe(200);
      streams.push(abort);
      open.push(res);
    }
    const ninth = await fetch(`${baseURL}/events/projects/${w.project}`, { headers: { cookie: `enclave_session=${session}` } });
    expect(ninth.status).toBe(429);
    expect(await ninth.text()).toContain("live");

    await page.goto(`/projects/${w.project}`);
    await waitForHydration(page);
    const status = page.getByTestId("live-status");
    await expect(status).toHaveAttribute("data-live", "toomany");
    await expect(status).toContainText("too many live pages are open");

    // One closes: the page gets its stream on a later try (the server notices a closed
    // stream at its next keep-alive, within 15 s; the page asks every 10 s).
    streams.pop()!.abort();
    await expect(status).toHaveAttribute("data-live", "live", { timeout: 45_000 });
    for (const s of streams) s.abort();
    expect(open).toHaveLength(8);
  });
});
