// Every way to do a step, with and without JavaScript: each tab of the stepper's AWS steps
// (AWS CLI, AWS console click-path, Terraform) and of its Enclave steps (neonctl, curl) shows
// the commands filled in with this organization's values.
import { test, expect } from "./fixtures";
import { tab } from "./page_checks";
import { endpointId, freshOrg, signIn } from "./world";

test("each way of a step shows filled-in values", async ({ page, request }) => {
  const w = freshOrg();
  const endpoint = endpointId("e");
  await signIn(page, w.admin);

  // Step 2: the AWS CLI, the console's click-path and Terraform, all with the saved VPC.
  await page.goto(`/projects/${w.project}/setup/2`);
  await page.getByLabel("VPC id").fill("vpc-0a1b2c3d4e5f67890");
  await page.getByLabel(/^Subnet ids/).fill("subnet-0a1b2c3d4e5f67890");
  await page.getByLabel(/^Security group id/).fill("sg-0a1b2c3d4e5f67890");
  await page.getByRole("button", { name: "Save and fill in the commands" }).click();
  await expect(page.getByTestId("flash")).toContainText("Saved.");
  const cli = await tab(page, "Create the endpoints", "AWS CLI");
  await expect(cli).toContainText("--vpc-id vpc-0a1b2c3d4e5f67890");
  const clicks = await tab(page, "Create the endpoints", "AWS console");
  await expect(clicks).toContainText("region=us-east-2");
  await expect(clicks).toContainText("Service name: com.amazonaws.vpce.us-east-2.vpce-svc-");
  await expect(clicks).toContainText("VPC: vpc-0a1b2c3d4e5f67890");
  await expect(cli).toBeHidden();
  const terraform = await tab(page, "Create the endpoints", "Terraform");
  await expect(terraform).toContainText('resource "aws_vpc_endpoint" "enclave_1"');
  await expect(terraform).toContainText('vpc_id              = "vpc-0a1b2c3d4e5f67890"');
  await expect(terraform).toContainText('security_group_id = "sg-0a1b2c3d4e5f67890"');
  await expect(terraform).toContainText("from_port         = 5432");

  // Step 3: neonctl and curl for the endpoint just assigned (through the API).
  const assigned = await request.post(`/api/v2/organizations/${w.org}/vpc/region/aws-us-east-2/vpc_endpoints/${endpoint}`, {
    headers: { Authorization: `Bearer ${w.key}` },
    data: { label: "app" },
  });
  expect(assigned.status()).toBe(200);
  await page.goto(`/projects/${w.project}/setup/3`);
  const neonctl = await tab(page, "Assign from automation", "neonctl");
  await expect(neonctl).toContainText(`vpc endpoint assign ${endpoint} --org-id ${w.org} --region-id aws-us-east-2`);
  await expect(neonctl).toContainText("--api-host http://127.0.0.1:");
  const curl = await tab(page, "Assign from automation", "curl");
  await expect(curl).toContainText(`/api/v2/organizations/${w.org}/vpc/region/aws-us-east-2/vpc_endpoints/${endpoint}`);

  // Step 5, once the endpoint is accepted: private DNS three ways.
  await expect(async () => {
    await page.goto(`/projects/${w.project}/setup/5`);
    await expect(page.getByRole("group", { name: /^Turn on private DNS/ })).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 20_000 });
  const dnsCli = await tab(page, "Turn on private DNS for each accepted endpoint", "AWS CLI");
  await expect(dnsCli).toContainText(`--vpc-endpoint-id ${endpoint}`);
  const dnsClicks = await tab(page, "Turn on private DNS for each accepted endpoint", "AWS console");
  await expect(dnsClicks).toContainText(`Select ${endpoint}.`);
  const dnsTerraform = await tab(page, "Turn on private DNS for each accepted endpoint", "Terraform");
  await expect(dnsTerraform).toContainText("private_dns_enabled = true");

  // Step 6: restrict and block from automation.
  await page.goto(`/projects/${w.project}/setup/6`);
  const restrict = await tab(page, "Restrict from automation", "neonctl");
  await expect(restrict).toContainText(`vpc project restrict ${endpoint} --project-id ${w.project}`);
  const restrictCurl = await tab(page, "Restrict from automation", "curl");
  await expect(restrictCurl).toContainText(`/api/v2/projects/${w.project}/vpc_endpoints/${endpoint}`);
  const block = await tab(page, "Block public access from automation", "neonctl");
  await expect(block).toContainText(`projects update ${w.project} --block-public-connections true`);
  const blockCurl = await tab(page, "Block public access from automation", "curl");
  await expect(blockCurl).toContainText('"block_public_connections": true');
});
