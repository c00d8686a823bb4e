// The guided setup on Google Cloud and Azure, with and without JavaScript: the stepper takes
// the cloud from the project's region, asks for that cloud's network, fills in its commands
// (gcloud / az, the console's click-path, Terraform), assigns the cloud's endpoint id and
// ends with that cloud's private DNS zone. Axe checks the pages where the browser runs scripts
// (it runs inside the page).
import { randomInt } from "node:crypto";
import { test, expect, waitForHydration } from "./fixtures";
import { expectNoSeriousViolations, tab } from "./page_checks";
import { freshOrg, signIn } from "./world";

const js = () => test.info().project.name === "js";

type CloudCase = {
  region: string;
  cloudRegion: string;
  cloudName: string;
  step2Title: string;
  owner: [string, string];
  network: [string, string];
  subnet: [string, string];
  /** A wrong owner and the start of its hint. */
  wrongOwner: [string, string];
  idLabel: string;
  /** The number a person types, and how Enclave shows it. */
  typed: string;
  stored: string;
  create: { group: string; ways: [string, string][] };
  dns: { group: RegExp; ways: [string, string][] };
};

const gcpNumber = String(randomInt(1, 2 ** 47)) + "0000";
const azureNumber = String(randomInt(1, 2 ** 31));

const CASES: CloudCase[] = [
  {
    region: "gcp-us-central1",
    cloudRegion: "us-central1",
    cloudName: "Google Cloud",
    step2Title: "Create the endpoint in Google Cloud",
    owner: ["Google Cloud project id", "my-app-prod"],
    network: ["VPC network name", "app-network"],
    subnet: ["Subnet name (in the project's region)", "app-subnet"],
    wrongOwner: ["123456789012", "123456789012 is a project number"],
    idLabel: "PSC connection id",
    typed: gcpNumber,
    stored: `psc-${gcpNumber}`,
    create: {
      group: "Create the endpoint",
      ways: [
        ["gcloud", "--target-service-attachment=projects/enclave-prod-usc1/regions/us-central1/serviceAttachments/postgres-cell-1"],
        ["gcloud", "--network=app-network"],
        ["Google Cloud console", "project=my-app-prod"],
        ["Terraform", 'resource "google_compute_forwarding_rule" "enclave_1"'],
      ],
    },
    dns: {
      group: /^Add a Cloud DNS private zone/,
      ways: [
        ["gcloud", "gcloud dns managed-zones create enclave-private"],
        ["gcloud", "--networks=app-network"],
        ["Google Cloud console", "networks: app-network"],
        ["Terraform", 'resource "google_dns_managed_zone" "enclave"'],
      ],
    },
  },
  {
    region: "azure-eastus2",
    cloudRegion: "eastus2",
    cloudName: "Azure",
    step2Title: "Create the private endpoint in Azure",
    owner: ["Resource group", "app-rg"],
    network: ["Virtual network name", "app-vnet"],
    subnet: ["Subnet name", "app-subnet"],
    wrongOwner: ["/subscriptions/0000/resourceGroups/app-rg", "this is a resource id; enter only the resource group's name (app-rg)"],
    idLabel: "Private endpoint LinkID",
    typed: azureNumber,
    stored: `linkid-${azureNumber}`,
    create: {
      group: "Create the private endpoint",
      ways: [
        ["Azure CLI", "--private-connection-resource-id enclave-postgres-eastus2."],
        ["Azure CLI", "--manual-request true"],
        ["Azure portal", "resource group app-rg"],
        ["Terraform", 'resource "azurerm_private_endpoint" "enclave_1"'],
      ],
    },
    dns: {
      group: /^Add a private DNS zone/,
      ways: [
        ["Azure CLI", "az network private-dns link vnet create"],
        ["Azure CLI", "--virtual-network app-vnet"],
        ["Azure portal", "virtual network app-vnet"],
        ["Terraform", 'resource "azurerm_private_dns_zone" "enclave"'],
      ],
    },
  },
];

for (const c of CASES) {
  test(`an admin sets up a project in ${c.region} with ${c.cloudName}'s commands`, async ({ page }) => {
    const w = freshOrg(c.region);
    await signIn(page, w.admin);

    // 1: the cloud comes from the project's region.
    await page.goto(`/projects/${w.project}/setup/1`);
    await expect(page.getByTestId("setup-cloud")).toContainText(`${c.cloudName} region ${c.cloudRegion}`);
    await expect(page.getByRole("link", { name: new RegExp(c.step2Title) })).toBeVisible();

    // 2: that cloud's network, checked, then every way filled in with it.
    await page.goto(`/projects/${w.project}/setup/2`);
    await expect(page.getByRole("heading", { name: `Step 2 of 6: ${c.step2Title}` })).toBeVisible();
    if (js()) await waitForHydration(page);
    const fillWrongOwner = async () => {
      await page.getByLabel(c.owner[0], { exact: true }).fill(c.wrongOwner[0]);
      await page.getByLabel(c.network[0], { exact: true }).fill(c.network[1]);
      await page.getByLabel(c.subnet[0], { exact: true }).fill(c.subnet[1]);
    };
    await fillWrongOwner();
    if (js()) {
      // Checked as it is typed, by the step's island (hydrated: the page said so).
      await expect(page.getByText(c.wrongOwner[1])).toBeVisible();
    } else {
      await page.getByRole("button", { name: "Save and fill in the commands" }).click();
      await expect(page.getByTestId("flash")).toContainText(c.wrongOwner[1]);
    }
    await page.getByLabel(c.owner[0], { exact: true }).fill(c.owner[1]);
    await page.getByLabel(c.network[0], { exact: true }).fill(c.network[1]);
    await page.getByLabel(c.subnet[0], { exact: true }).fill(c.subnet[1]);
    await page.getByRole("button", { name: "Save and fill in the commands" }).click();
    await expect(page.getByTestId("flash")).toContainText("Saved.");
    for (const [way, text] of c.create.ways) {
      await expect(await tab(page, c.create.group, way)).toContainText(text);
    }
    if (js()) await expectNoSeriousViolations(page, `step 2 in ${c.region}`);
    // Saved: coming back shows what was entered.
    await page.goto(`/projects/${w.project}/setup/2`);
    await expect(page.getByLabel(c.owner[0], { exact: true })).toHaveValue(c.owner[1]);

    // 3: the cloud's endpoint id, assigned through the page's form.
    await page.goto(`/projects/${w.project}/setup/3`);
    await page.getByLabel(c.idLabel).fill(c.typed);
    await page.getByRole("button", { name: "Assign endpoint" }).click();
    await expect(page.getByTestId("flash")).toContainText(`${c.stored} is assigned in ${c.region}`);
    const assignCli = await tab(page, "Assign from automation", "neonctl");
    await expect(assignCli).toContainText(`vpc endpoint assign ${c.stored} --org-id ${w.org} --region-id ${c.region}`);

    // 5, once the simulated cloud accepts it: the private DNS zone, filled in.
    await expect(async () => {
      await page.goto(`/projects/${w.project}/setup/5`);
      await expect(page.getByRole("group", { name: c.dns.group })).toBeVisible({ timeout: 500 });
    }).toPass({ timeout: 20_000 });
    await expect(page.getByRole("heading", { name: /Add the private DNS zone and verify/ })).toBeVisible();
    for (const [way, text] of c.dns.ways) {
      await expect(await tab(page, c.dns.group, way)).toContainText(text);
    }
    if (js()) await expectNoSeriousViolations(page, `step 5 in ${c.region}`);

    // 6: automation restricts with the id as Enclave keeps it.
    await page.goto(`/projects/${w.project}/setup/6`);
    const restrict = await tab(page, "Restrict from automation", "neonctl");
    await expect(restrict).toContainText(`vpc project restrict ${c.stored} --project-id ${w.project}`);
  });
}
