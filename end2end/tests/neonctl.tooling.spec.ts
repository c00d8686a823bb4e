// The REST API is wire-compatible with Neon API v2: the real `neonctl` (npm, pinned in the
// lockfile) manages private networking against Enclave, unchanged, with --api-host.
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { test, expect } from "@playwright/test";

const root = path.resolve(__dirname, "../..");
const enclaveBin = path.join(root, "target/release/enclave");
const neonctlBin = path.join(__dirname, "../node_modules/.bin/neonctl");
const env = {
  ...process.env,
  DATABASE_URL: "sqlite://" + path.join(root, "target/e2e/db/enclave.db"),
  ENCLAVE_LOG: "warn",
};

/** Runs the operator CLI against the e2e server's database. */
function enclave(...args: string[]): string {
  return execFileSync(enclaveBin, args, { env, encoding: "utf8" }).trim();
}

test("neonctl assigns, restricts, blocks and removes through Enclave", () => {
  const suffix = Date.now().toString(16).slice(-8);
  const org = enclave("org", "create", "--name", `Neon tooling ${suffix}`, "--plan", "scale");
  const email = `neonctl-${suffix}@example.test`;
  enclave("user", "create", "--email", email, "--no-password");
  enclave("org", "add-member", "--org", org, "--email", email, "--role", "admin");
  const project = enclave("project", "create", "--org", org, "--name", "web", "--region", "aws-us-east-2").split(" ")[0];
  const key = enclave("api-key", "create", "--user", email, "--name", "neonctl");
  const base = test.info().project.use.baseURL ?? "http://127.0.0.1:3100";
  const endpoint = `vpce-${suffix}0000000ab`.slice(0, 22);

  const neon = (...args: string[]) => {
    const run = spawnSync(
      neonctlBin,
      ["--api-host", `${base}/api/v2`, "--api-key", key, "--no-analytics", "--output", "json", ...args],
      { encoding: "utf8", env: { ...process.env, CI: "1" } },
    );
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  // The IP allow list, with Neon's own commands.
  const added = neon("ip-allow", "add", "203.0.113.0/24", "198.51.100.7", "--project-id", project);
  expect(added.code, added.stderr).toBe(0);
  const allowList = JSON.parse(neon("ip-allow", "list", "--project-id", project).stdout);
  expect(allowList).toMatchObject({ id: project, protected_branches_only: false });
  expect([...allowList.IP_addresses].sort()).toEqual(["198.51.100.7", "203.0.113.0/24"]);
  const removed = neon("ip-allow", "remove", "198.51.100.7", "--project-id", project);
  expect(removed.code, removed.stderr).toBe(0);
  expect(JSON.parse(neon("ip-allow", "list", "--project-id", project).stdout).IP_addresses).toEqual(["203.0.113.0/24"]);
  const badIp = neon("ip-allow", "add", "not-an-address", "--project-id", project);
  expect(badIp.code).not.toBe(0);
  expect(badIp.stderr).toContain("CIDR range");
  expect(neon("ip-allow", "reset", "--project-id", project).code).toBe(0);
  expect(JSON.parse(neon("ip-allow", "list", "--project-id", project).stdout).IP_addresses).toEqual([]);

  const assign = neon("vpc", "endpoint", "assign", endpoint, "--org-id", org, "--region-id", "aws-us-east-2");
  expect(assign.code, assign.stderr).toBe(0);
  const list = neon("vpc", "endpoint", "list", "--org-id", org, "--region-id", "aws-us-east-2");
  expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ vpc_endpoint_id: endpoint })]);

  expect(neon("vpc", "project", "restrict", endpoint, "--project-id", project).code).toBe(0);
  const status = neon("vpc", "endpoint", "status", endpoint, "--org-id", org, "--region-id", "aws-us-east-2");
  const details = JSON.parse(status.stdout);
  expect(details).toMatchObject({
    vpc_endpoint_id: endpoint,
    num_restricted_projects: 1,
    example_restricted_projects: [project],
  });
  // The simulator accepts new endpoints after a few seconds; either state is correct here.
  expect(["new", "accepted"]).toContain(details.state);

  const update = neon("projects", "update", project, "--block-public-connections", "true");
  expect(update.code, update.stderr).toBe(0);
  expect(JSON.parse(update.stdout)).toMatchObject({ id: project });
  const get = neon("projects", "get", project);
  expect(JSON.parse(get.stdout).settings.block_public_connections).toBe(true);

  // The rules hold for tools too: an endpoint that restricts a project cannot be removed.
  const refused = neon("vpc", "endpoint", "remove", endpoint, "--org-id", org, "--region-id", "aws-us-east-2");
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain(`still restricts 1 project(s): ${project}`);

  expect(neon("vpc", "project", "remove", endpoint, "--project-id", project).code).toBe(0);
  expect(neon("vpc", "endpoint", "remove", endpoint, "--org-id", org, "--region-id", "aws-us-east-2").code).toBe(0);
  const again = neon("vpc", "endpoint", "assign", endpoint, "--org-id", org, "--region-id", "aws-us-east-2");
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain("can never be added back");

  const orgs = neon("orgs", "list");
  expect(JSON.parse(orgs.stdout)).toEqual([expect.objectContaining({ id: org })]);
});

test("neonctl lists projects with a personal and an organization key, and renames one", () => {
  const suffix = Date.now().toString(16).slice(-8);
  const org = enclave("org", "create", "--name", `Neon projects ${suffix}`, "--plan", "scale");
  const email = `neonctl-projects-${suffix}@example.test`;
  enclave("user", "create", "--email", email, "--no-password");
  enclave("org", "add-member", "--org", org, "--email", email, "--role", "admin");
  const project = enclave("project", "create", "--org", org, "--name", "web", "--region", "aws-us-east-2").split(" ")[0];
  const personal = enclave("api-key", "create", "--user", email, "--name", "neonctl");
  const orgKey = enclave("api-key", "create", "--org", org, "--name", "ci");
  const base = test.info().project.use.baseURL ?? "http://127.0.0.1:3100";
  const neon = (key: string, ...args: string[]) => {
    const run = spawnSync(
      neonctlBin,
      ["--api-host", `${base}/api/v2`, "--api-key", key, "--no-analytics", "--output", "json", ...args],
      { encoding: "utf8", env: { ...process.env, CI: "1" } },
    );
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  // A personal key: Neon's "org_id is required" (neonctl would offer to pick one outside CI).
  const bare = neon(personal, "projects", "list");
  expect(bare.code).not.toBe(0);
  expect(bare.stderr).toContain("org_id is required");
  const withOrg = neon(personal, "projects", "list", "--org-id", org);
  expect(withOrg.code, withOrg.stderr).toBe(0);
  expect(withOrg.stdout).toContain(project);
  // An organization key lists its projects, then the (empty) shared ones.
  const byOrgKey = neon(orgKey, "projects", "list");
  expect(byOrgKey.code, byOrgKey.stderr).toBe(0);
  expect(byOrgKey.stdout).toContain(project);

  const renamed = neon(personal, "projects", "update", project, "--name", "storefront");
  expect(renamed.code, renamed.stderr).toBe(0);
  expect(JSON.parse(renamed.stdout)).toMatchObject({ id: project, name: "storefront" });
  expect(JSON.parse(neon(orgKey, "projects", "get", project).stdout).name).toBe("storefront");
});

test("neonctl creates, lists and revokes personal and organization API keys", () => {
  const suffix = Date.now().toString(16).slice(-8);
  const org = enclave("org", "create", "--name", `Neon keys ${suffix}`, "--plan", "scale");
  const email = `neonctl-keys-${suffix}@example.test`;
  enclave("user", "create", "--email", email, "--no-password");
  enclave("org", "add-member", "--org", org, "--email", email, "--role", "admin");
  const project = enclave("project", "create", "--org", org, "--name", "web", "--region", "aws-us-east-2").split(" ")[0];
  const personal = enclave("api-key", "create", "--user", email, "--name", "neonctl");
  const base = test.info().project.use.baseURL ?? "http://127.0.0.1:3100";
  const neon = (key: string, ...args: string[]) => {
    const run = spawnSync(
      neonctlBin,
      ["--api-host", `${base}/api/v2`, "--api-key", key, "--no-analytics", "--output", "json", ...args],
      { encoding: "utf8", env: { ...process.env, CI: "1" } },
    );
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  // A personal key mints another; neonctl checks the answer (a key, no project scope).
  const created = neon(personal, "api-keys", "create", "--name", "ci");
  expect(created.code, created.stderr).toBe(0);
  const key = JSON.parse(created.stdout);
  expect(Number.isSafeInteger(key.id)).toBe(true);
  expect(key).toMatchObject({ name: "ci" });
  expect(key.key).toMatch(/^enclave_/);
  const listed = neon(key.key, "api-keys", "list");
  expect(listed.code, listed.stderr).toBe(0);
  expect(JSON.parse(listed.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ id: key.id, name: "ci" })]));

  // Organization keys, with the admin's personal key.
  const orgCreated = neon(personal, "api-keys", "create", "--org-id", org, "--name", "deploy");
  expect(orgCreated.code, orgCreated.stderr).toBe(0);
  const orgKey = JSON.parse(orgCreated.stdout);
  const orgListed = neon(personal, "api-keys", "list", "--org-id", org);
  expect(JSON.parse(orgListed.stdout)).toEqual([expect.objectContaining({ id: orgKey.id, name: "deploy" })]);
  // Enclave keys are never scoped to one project: refused, with the reason.
  const scoped = neon(personal, "api-keys", "create", "--project-id", project, "--name", "one-project");
  expect(scoped.code).not.toBe(0);
  expect(scoped.stderr).toContain("not scoped to one project");

  // Revoked by number; the wrong route explains itself.
  const wrongRoute = neon(personal, "api-keys", "revoke", String(orgKey.id));
  expect(wrongRoute.code).not.toBe(0);
  expect(wrongRoute.stderr).toContain("--org-id");
  const orgRevoked = neon(personal, "api-keys", "revoke", String(orgKey.id), "--org-id", org);
  expect(orgRevoked.code, orgRevoked.stderr).toBe(0);
  expect(JSON.parse(orgRevoked.stdout)).toMatchObject({ id: orgKey.id, revoked: true });
  const revoked = neon(personal, "api-keys", "revoke", String(key.id));
  expect(revoked.code, revoked.stderr).toBe(0);
  expect(JSON.parse(revoked.stdout)).toMatchObject({ id: key.id, revoked: true });
  const refused = neon(key.key, "api-keys", "list");
  expect(refused.code).not.toBe(0);
});
