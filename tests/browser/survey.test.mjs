// The survey page in a real headless Chromium, the way a debtor meets it: the link
// comes from the local outbox after a case step; they tap a score, write a comment,
// send, and see the thank-you page; opening the link again says it is answered.
// axe-core checks accessibility. Screenshots go to artifacts/.
//
// Needs: KUNDPULS_BIN (the kundpuls binary), Debian's chromium (CHROMIUM overrides
// /usr/bin/chromium). Run by ./scripts/test.

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

let server;
let browser;
let dataDir;
let base;
const links = {};

before(async () => {
  assert.ok(existsSync(bin), `kundpuls binary missing at ${bin}`);
  assert.ok(existsSync(browserPath), `chromium missing at ${browserPath}`);
  dataDir = mkdtempSync(join(tmpdir(), "kundpuls-browser-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ["serve", "--data-dir", dataDir, "--addr", `127.0.0.1:${port}`, "--ignore-send-windows"], {
    stdio: "ignore",
  });
  await waitForHealth(base, 20000);
  const events = ["sv", "pl", "en"].map((lang, i) => caseStep(lang, i + 1));
  const file = join(dataDir, "events.json");
  writeFileSync(file, JSON.stringify(events));
  execFileSync(bin, ["emit", file, "--data-dir", dataDir, "--url", base], { stdio: "ignore" });
  const outbox = readFileSync(join(dataDir, "outbox.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  for (const line of outbox) links[line.language] = line.link;
  assert.deepEqual(Object.keys(links).sort(), ["en", "pl", "sv"]);
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch(launchOptions(browserPath));
});

after(async () => {
  await browser?.close();
  server?.kill();
});

for (const [lang, thanks, already] of [
  ["sv", "Tack!", "Redan besvarad"],
  ["pl", "Dziękujemy!", "Już udzielono odpowiedzi"],
  ["en", "Thank you!", "Already answered"],
]) {
  test(`a debtor answers in ${lang} on a phone, once`, async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: lang });
    const page = await context.newPage();
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    const response = await page.goto(links[lang]);
    assert.equal(response.status(), 200);
    assert.equal(await page.getAttribute("html", "lang"), lang);
    await page.screenshot({ path: join(artifacts, `survey-${lang}-360x740.png`), fullPage: true });
    // Every request stays on the service's own origin.
    assert.ok(requests.every((u) => u.startsWith(base)), requests.join(", "));
    // Tap 4, answer the call question, write, and (like a person) take a moment.
    await page.click('label[for="s4"]');
    await page.click('label[for="fcr-yes"]');
    await page.fill("#comment", "Bra bemötande / good call");
    await page.waitForTimeout(2100);
    await page.click('button[type="submit"]');
    await page.waitForLoadState();
    assert.equal(await page.textContent("h1"), thanks);
    await page.screenshot({ path: join(artifacts, `thanks-${lang}-360x740.png`) });
    // Opening the link again: already answered, never an error.
    const again = await page.goto(links[lang]);
    assert.equal(again.status(), 200);
    assert.equal(await page.textContent("h1"), already);
    await context.close();
  });
}

function freshLink(lang, n) {
  const file = join(dataDir, `event-${n}.json`);
  writeFileSync(file, JSON.stringify(caseStep(lang, n)));
  execFileSync(bin, ["emit", file, "--data-dir", dataDir, "--url", base], { stdio: "ignore" });
  const outbox = readFileSync(join(dataDir, "outbox.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  return outbox[outbox.length - 1].link;
}

test("with JavaScript off the form still sends", async () => {
  const link = freshLink("da", 7);
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(link);
  await page.click('label[for="s5"]');
  await page.waitForTimeout(2100);
  await page.click('button[type="submit"]');
  await page.waitForLoadState();
  assert.equal(await page.textContent("h1"), "Tak!");
  await context.close();
});

test("at 320 px wide nothing overflows and targets are at least 44 px", async () => {
  const link = freshLink("fi", 8);
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  await page.goto(link);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 320, `page is ${width} px wide`);
  const small = await page.evaluate(() =>
    [...document.querySelectorAll("label[for^=s], label[for^=fcr], button")]
      .map((e) => e.getBoundingClientRect())
      .filter((r) => r.width < 44 || r.height < 44).length,
  );
  assert.equal(small, 0);
  await page.screenshot({ path: join(artifacts, "survey-fi-320.png"), fullPage: true });
  await context.close();
});

test("axe-core finds no serious or critical accessibility violations", async () => {
  const link = freshLink("sv", 9);
  // The page forbids scripts (CSP); this context lets the test inject axe.
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, bypassCSP: true });
  const page = await context.newPage();
  for (const url of [link, `${link}/opt-out`, `${base}/s/AAAAAAAAAAAAAAAAAAAAAA`]) {
    await page.goto(url);
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => globalThis.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] }));
    const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(serious.map((v) => `${v.id}: ${v.help}`), [], url);
  }
  await context.close();
});

test("people's answers count and a machine's instant submit is held: the suspect share", async () => {
  // One more link, submitted the instant the page loads, as a scanner would.
  const link = freshLink("en", 10);
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  await page.goto(link);
  await page.click('label[for="s2"]');
  await page.click('button[type="submit"]');
  await page.waitForLoadState();
  await context.close();
  // The four answers above took a person's moment (sv, pl, en, da); this one did not.
  const token = execFileSync(bin, ["token", "--data-dir", dataDir, "--user", "report", "--role", "admin"], { encoding: "utf8" }).trim();
  let row;
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${base}/api/v1/reports/csat?group_by=channel`, { headers: { authorization: `Bearer ${token}` } });
    row = (await r.json()).rows.find((x) => x.key === "sms");
    if (row && row.n + row.suspect >= 5) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  console.log(`suspect share in the browser suite, sms: ${(row.suspect_share * 100).toFixed(1)} % (${row.suspect} of ${row.n + row.suspect} submissions)`);
  assert.equal(row.n, 4, JSON.stringify(row));
  assert.equal(row.suspect, 1, JSON.stringify(row));
  assert.equal(row.suspect_share, 0.2);
});
