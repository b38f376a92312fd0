// `kundpuls serve --demo` as a newcomer meets it, in a real headless Chromium: a
// year of labelled demo answers routed through the real use cases, so the energy
// lead's queue has open items, the queue page carries the one early warning (h-bo
// fell from CSAT 4.3 to 3.5 over the last 30 days) and the reports page has twelve
// months of figures. axe-core checks the pages. Screenshots go to artifacts/.
//
// Needs: KUNDPULS_BIN (the kundpuls binary), Debian's chromium (CHROMIUM overrides
// /usr/bin/chromium). Run by ./scripts/test.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, waitForHealth, launchOptions, readOutbox, signInWithToken, assertAxeClean } from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const bin = process.env.KUNDPULS_BIN ?? join(root, "target", "debug", "kundpuls");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const artifacts = join(root, "artifacts");
const axeSource = readFileSync(join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");

let server;
let browser;
let dataDir;
let base;

const outbox = () => readOutbox(dataDir);
const signIn = (context, user, team, role = "lead") => signInWithToken(context, { bin, dataDir, base, user, team, role });
const axe = (page, label) => assertAxeClean(page, axeSource, label);

before(async () => {
  assert.ok(existsSync(bin), `kundpuls binary missing at ${bin}`);
  assert.ok(existsSync(browserPath), `chromium missing at ${browserPath}`);
  dataDir = mkdtempSync(join(tmpdir(), "kundpuls-demo-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ["serve", "--demo", "--ignore-send-windows", "--data-dir", dataDir, "--addr", `127.0.0.1:${port}`], { stdio: "ignore" });
  // The year of history is loaded before the server listens.
  await waitForHealth(base, 180000);
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch(launchOptions(browserPath));
});

after(async () => {
  await browser?.close();
  server?.kill();
});

test("the energy lead's queue shows open demo items and the one early warning", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await signIn(context, "lead-demo", "energy");
  await page.goto(`${base}/console?status=new&team=energy`);
  const banner = page.getByRole("region", { name: /Early warnings/ });
  await banner.waitFor();
  const lines = await banner.locator("li").allTextContents();
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.match(lines[0], /handler h-bo \(energy\): CSAT 3\.5 over the 30 days to \d{4}-\d{2}-\d{2} \(n = \d+\), target CSAT 4\.0; CSAT 4\.3 the 30 days before — below target and fell by more than the margin of error/);
  const rows = await page.$$eval("table.queue tbody tr", (trs) => trs.length);
  assert.ok(rows >= 5, `open demo items in the queue: ${rows}`);
  const excerpts = await page.$$eval("table.queue td.excerpt", (tds) => tds.map((t) => t.textContent));
  const said = excerpts.map((e) => e.trim()).filter(Boolean);
  assert.ok(said.length >= 3 && said.every((e) => e.startsWith("Demo:")), JSON.stringify(excerpts));
  await banner.screenshot({ path: join(artifacts, "console-warning-banner.png") });
  await page.screenshot({ path: join(artifacts, "console-demo-queue-1280.png"), fullPage: true });
  await axe(page, "queue with a warning");
  // The banner's link opens the handlers' report of the team.
  await banner.getByRole("link", { name: "See the report" }).click();
  await page.waitForLoadState();
  assert.match(page.url(), /\/console\/reports\?kind=csat&group_by=handler&team=energy$/);
  const handlers = await page.$$eval('section[aria-labelledby="by-dim"] table tbody tr th', (ths) => ths.map((t) => t.textContent.trim()));
  assert.ok(handlers.includes("h-bo") && handlers.includes("h-anna"), JSON.stringify(handlers));
  await context.close();
  // The warning went to the team's channel once.
  const warnings = outbox().filter((l) => l.channel === "warning");
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].to, "lead:energy");
});

test("a lead of telecom sees no warning, and twelve months of figures on the reports page", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await signIn(context, "lead-telecom", "telecom");
  await page.goto(`${base}/console?status=new&team=telecom`);
  assert.equal(await page.getByRole("region", { name: /Early warnings/ }).count(), 0);
  // The page's default range: the twelve months to this one.
  await page.goto(`${base}/console/reports?kind=csat`);
  const months = await page.$$eval('section[aria-labelledby="by-month"] table tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll("th, td")].map((c) => c.textContent.trim())).filter((r) => r[0] !== "total"),
  );
  assert.equal(months.length, 12, JSON.stringify(months));
  assert.ok(months.every((r) => Number(r[1]) > 0), `every month has answers: ${JSON.stringify(months)}`);
  await page.screenshot({ path: join(artifacts, "console-demo-reports-1280.png"), fullPage: true });
  await context.close();
});
