// Checks several specs make of a page: choosing one of a step's ways (the tabs of commands,
// click-paths and Terraform) and scanning it with axe-core.
import AxeBuilder from "@axe-core/playwright";
import type { Locator, Page } from "@playwright/test";
import { expect } from "./fixtures";

/** Chooses a tab of a group of ways and answers its (now visible) panel. */
export async function tab(page: Page, group: string | RegExp, name: string): Promise<Locator> {
  const ways = page.getByRole("group", { name: group });
  await ways.locator("label", { hasText: new RegExp(`^${name}$`) }).click();
  await expect(ways.getByRole("radio", { name, exact: true })).toBeChecked();
  const panel = ways.locator(`.way-panel[data-way="${name}"]`);
  await expect(panel).toBeVisible();
  return panel;
}

/** No serious or critical WCAG 2 A/AA violation on the page (axe runs inside the page, so
 * only where the browser runs scripts). */
export async function expectNoSeriousViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(serious, `serious or critical accessibility violations on ${what}`).toEqual([]);
}
