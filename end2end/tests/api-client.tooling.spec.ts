// Neon's own TypeScript client (`@neondatabase/api-client`, pinned in the lockfile) against
// Enclave, unchanged but for its base URL: the same calls neonctl makes for projects and keys.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { test, expect } from "@playwright/test";
import { createApiClient } from "@neondatabase/api-client";

const root = path.resolve(__dirname, "../..");
const enclaveBin = path.join(root, "target/release/enclave");
const env = {
  ...process.env,
  DATABASE_URL: "sqlite://" + path.join(root, "target/e2e/db/enclave.db"),
  ENCLAVE_LOG: "warn",
};

function enclave(...args: string[]): string {
  return execFileSync(enclaveBin, args, { env, encoding: "utf8" }).trim();
}

test("the Neon API client lists and renames projects and manages API keys", async () => {
  const suffix = Date.now().toString(16).slice(-8);
  const org = enclave("org", "create", "--name", `API client ${suffix}`, "--plan", "scale");
  const email = `api-client-${suffix}@example.test`;
  enclave("user", "create", "--email", email, "--no-password");
  enclave("org", "add-member", "--org", org, "--email", email, "--role", "admin");
  const project = enclave("project", "create", "--org", org, "--name", "web", "--region", "aws-us-east-2").split(" ")[0];
  const personal = enclave("api-key", "create", "--user", email, "--name", "client");
  const base = test.info().project.use.baseURL ?? "http://127.0.0.1:3100";
  const api = (apiKey: string) => createApiClient({ apiKey, baseURL: `${base}/api/v2` });

  // Projects: Neon's "org_id is required" for a personal key, then with one.
  const bare = await api(personal).listProjects({}).catch((e) => e.response);
  expect(bare.status).toBe(400);
  expect(bare.data.message).toContain("org_id is required");
  const listed = await api(personal).listProjects({ org_id: org });
  expect(listed.data.projects.map((p: { id: string }) => p.id)).toEqual([project]);
  const shared = await api(personal).listSharedProjects({});
  expect(shared.data.projects).toEqual([]);
  const renamed = await api(personal).updateProject(project, { project: { name: "storefront" } });
  expect(renamed.data.project).toMatchObject({ id: project, name: "storefront" });
  expect((await api(personal).getProject(project)).data.project.name).toBe("storefront");

  // Personal keys by number.
  const made = (await api(personal).createApiKey({ key_name: "from-client" })).data;
  expect(Number.isSafeInteger(made.id)).toBe(true);
  expect(made.key).toMatch(/^enclave_/);
  const mine = (await api(made.key).listApiKeys()).data;
  expect(mine.map((k) => k.id)).toContain(made.id);
  const gone = (await api(personal).revokeApiKey(made.id)).data;
  expect(gone).toMatchObject({ id: made.id, revoked: true });
  const refused = await api(made.key).listApiKeys().catch((e) => e.response);
  expect(refused.status).toBe(401);

  // Organization keys.
  const orgKey = (await api(personal).createOrgApiKey(org, { key_name: "deploy" })).data;
  const orgKeys = (await api(orgKey.key).listOrgApiKeys(org)).data;
  expect(orgKeys.map((k) => k.id)).toContain(orgKey.id);
  const scoped = await api(personal)
    .createOrgApiKey(org, { key_name: "one-project", project_id: project })
    .catch((e) => e.response);
  expect(scoped.status).toBe(422);
  const orgGone = (await api(personal).revokeOrgApiKey(org, orgKey.id)).data;
  expect(orgGone).toMatchObject({ id: orgKey.id, revoked: true });
});
