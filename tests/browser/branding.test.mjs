// A survey page in the client's name, in a real headless Chromium: an admin saves
// the client's settings through the API, a debtor opens the link in sv and pl and
// sees the client's name, its colour on the buttons (served as a stylesheet; the
// CSP allows no inline style), and the agency named as data controller with its
// privacy notice. axe-core checks it, the colour's contrast is measured in the
// page, and the page stays under 16 KB. Screenshots go to artifacts/.
//
// Needs: KUNDPULS_BIN, Debian's chromium (CHROMIUM overrides). Run by ./scripts/test.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, waitForHealth, caseStep, launchOptions } from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const bin = process.env.KUNDPULS_BIN ?? join(root, "target", "debug", "kundpuls");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const artifacts = join(root, "artifacts");
const axeSource = readFileSync(join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");
const privacy = "https://nordkredit.example/integritet";

let server;
let browser;
let dataDir;
let base;
const links = {};

before(async () => {
  assert.ok(existsSync(bin), `kundpuls binary missing at ${bin}`);
  dataDir = mkdtempSync(join(tmpdir(), "kundpuls-brand-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(
    bin,
    ["serve", "--data-dir", dataDir, "--addr", `127.0.0.1:${port}`, "--ignore-send-windows", "--agency", "Nordkredit AB", "--privacy-url", privacy],
    { stdio: "ignore" },
  );
  await waitForHealth(base, 20000);
  const admin = execFileSync(bin, ["token", "--data-dir", dataDir, "--user", "admin-1", "--role", "admin", "--team", "energy"], { encoding: "utf8" }).trim();
  const saved = await fetch(`${base}/api/v1/clients/acme-energy`, {
    method: "PUT",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json", "if-match": '"0"' },
    body: JSON.stringify({ display_name: "Acme Energi", sms_sender: "AcmeEnergi", csat_target: 4.3, brand_colour: "#0b5394" }),
  });
  assert.equal(saved.status, 200, await saved.text());
  const events = ["sv", "pl"].map((lang, i) => caseStep(lang, 40 + i));
  const file = join(dataDir, "events.json");
  writeFileSync(file, JSON.stringify(events));
  execFileSync(bin, ["emit", file, "--data-dir", dataDir, "--url", base], { stdio: "ignore" });
  const outbox = readFileSync(join(dataDir, "outbox.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  for (const line of outbox) {
    assert.equal(line.sender, "AcmeEnergi");
    assert.ok(line.text.startsWith("AcmeEnergi: "), line.text);
    links[line.language] = line.link;
  }
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch(launchOptions(browserPath));
});

after(async () => {
  await browser?.close();
  server?.kill();
});

/** WCAG contrast of two `rgb(r, g, b)` strings. */
function contrast(a, b) {
  const lum = (css) => {
    const [r, g, bl] = css.match(/\d+/g).slice(0, 3).map(Number).map((c) => {
      const s = c / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

for (const [lang, controller, notice] of [
  ["sv", "Personuppgiftsansvarig: Nordkredit AB.", "Integritetspolicy"],
  ["pl", "Administrator danych: Nordkredit AB.", "Polityka prywatności"],
]) {
  test(`the page wears the client's name and colour in ${lang}`, async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: lang });
    const page = await context.newPage();
    const response = await page.goto(links[lang]);
    assert.equal(response.status(), 200);
    const bytes = (await response.body()).length;
    assert.ok(bytes <= 16 * 1024, `${bytes} bytes`);
    assert.equal(await page.textContent(".brand"), "Acme Energi");
    assert.match(await page.textContent("legend"), /Acme Energi/);
    assert.equal((await page.textContent(".privacy")).trim(), `${controller} ${notice}`);
    assert.equal(await page.getAttribute(".privacy a", "href"), privacy);
    // The client's colour is on the button, and white on it reads at 4.5:1 or better.
    const button = await page.$eval("button[type=submit]", (b) => {
      const s = getComputedStyle(b);
      return { bg: s.backgroundColor, fg: s.color };
    });
    assert.equal(button.bg, "rgb(11, 83, 148)");
    const ratio = contrast(button.bg, button.fg);
    assert.ok(ratio >= 4.5, `contrast ${ratio.toFixed(2)}`);
    await page.click('label[for="s4"]');
    const chosen = await page.$eval('label[for="s4"]', (l) => getComputedStyle(l).backgroundColor);
    assert.equal(chosen, "rgb(11, 83, 148)");
    await page.screenshot({ path: join(artifacts, `survey-branded-${lang}-360x740.png`), fullPage: true });
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => globalThis.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] }));
    assert.deepEqual(result.violations.map((v) => `${v.id}: ${v.help}`), []);
    console.log(`${lang}: ${bytes} bytes, button contrast ${ratio.toFixed(2)}:1`);
    await context.close();
  });
}

async function signIn(context, role) {
  const page = await context.newPage();
  await page.goto(`${base}/console/login`);
  const t = execFileSync(bin, ["token", "--data-dir", dataDir, "--user", `${role}-2`, "--role", role, "--team", "energy"], { encoding: "utf8" }).trim();
  await page.fill("#token", t);
  await page.click('button[type="submit"]');
  await page.waitForLoadState();
  return page;
}

test("an admin edits a client on the console's Clients page; a lead only reads it", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await signIn(context, "admin");
  await page.goto(`${base}/console/clients`);
  const row = await page.$$eval("tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((c) => c.textContent.trim())));
  assert.deepEqual(row[0].slice(0, 5), ["acme-energy", "Acme Energi", "AcmeEnergi", "40 (default)", "4.3"]);
  // A colour white text cannot be read on is refused, naming the field; what was typed stays.
  await page.click('a[href="/console/clients?edit=acme-energy"]');
  await page.fill("#brand_colour", "#ffee00");
  await page.click('form[action="/console/clients"] button[type="submit"]');
  assert.match(await page.textContent('[role="alert"]'), /brand_colour: white text on it reaches/);
  assert.equal(await page.inputValue("#brand_colour"), "#ffee00");
  await page.screenshot({ path: join(artifacts, "console-clients-refused-1280.png"), fullPage: true });
  await page.fill("#brand_colour", "#14532d");
  await page.fill("#nps_target", "45");
  await page.click('form[action="/console/clients"] button[type="submit"]');
  assert.match(await page.textContent('[role="status"]'), /Saved the settings of acme-energy/);
  const saved = await page.$$eval("tbody tr td", (tds) => tds.map((c) => c.textContent.trim()));
  assert.ok(saved.includes("#14532d") && saved.includes("45"), saved.join(" | "));
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => globalThis.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] }));
  assert.deepEqual(result.violations.map((v) => `${v.id}: ${v.help}`), []);
  await page.screenshot({ path: join(artifacts, "console-clients-1280.png"), fullPage: true });
  const lead = await signIn(await browser.newContext(), "lead");
  await lead.goto(`${base}/console/clients`);
  assert.equal((await lead.$$('form[action="/console/clients"]')).length, 0, "no form for a lead");
  assert.equal((await lead.$$("tbody tr")).length, 1);
  await context.close();
});
