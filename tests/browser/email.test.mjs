// The creditor contact's NPS email in a real headless Chromium at phone and desktop
// widths, in every language, as `kundpuls preview nps-email` prints it (the same
// renderer the schedule sends with): no sideways scrolling, all eleven scores
// visible and big enough to tap, axe-core clean, and the same links in the same
// order once a mail client strips <style> and classes. Screenshots go to artifacts/.
//
// Needs: KUNDPULS_BIN (the kundpuls binary), Debian's chromium (CHROMIUM overrides
// /usr/bin/chromium). Run by ./scripts/test.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, mkdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { launchOptions } from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const bin = process.env.KUNDPULS_BIN ?? join(root, "target", "debug", "kundpuls");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const artifacts = join(root, "artifacts");
const axeSource = readFileSync(join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");
const languages = ["sv", "en", "pl", "da", "nb", "fi"];
const widths = [320, 360, 600];

let browser;
const emails = {};

function preview(lang, reminder) {
  const args = ["preview", "nps-email", "--language", lang];
  if (reminder) args.push("--reminder");
  return execFileSync(bin, args, { encoding: "utf8" });
}

// What Gmail and others do to a message's HTML: <style> blocks and class attributes go.
function stripStyles(html) {
  return html.replace(/<style[\s\S]*?<\/style>/gi, "").replace(/\sclass="[^"]*"/gi, "");
}

before(async () => {
  assert.ok(existsSync(bin), `kundpuls binary missing at ${bin}`);
  assert.ok(existsSync(browserPath), `chromium missing at ${browserPath}`);
  for (const lang of languages) emails[lang] = preview(lang, false);
  emails["sv-reminder"] = preview("sv", true);
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch(launchOptions(browserPath));
  console.log("NPS email HTML size (bytes):", Object.fromEntries(Object.entries(emails).map(([k, v]) => [k, Buffer.byteLength(v)])));
});

after(async () => {
  await browser?.close();
});

// Layout facts of the email as rendered now.
async function measure(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const links = [...document.querySelectorAll('a[href*="?score="]')].map((a) => {
      const r = a.getBoundingClientRect();
      return { href: a.getAttribute("href"), text: a.textContent.trim(), left: r.left, right: r.right, top: r.top, width: r.width, height: r.height };
    });
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, bodyScroll: document.body.scrollWidth, links };
  });
}

for (const key of [...languages, "sv-reminder"]) {
  test(`the ${key} NPS email fits 320–600 px with eleven tappable scores`, async () => {
    for (const width of widths) {
      const context = await browser.newContext({ viewport: { width, height: 800 } });
      const page = await context.newPage();
      await page.setContent(emails[key], { waitUntil: "load" });
      const m = await measure(page);
      assert.ok(m.scrollWidth <= m.clientWidth, `${key} at ${width}px scrolls sideways: ${m.scrollWidth} > ${m.clientWidth}`);
      assert.ok(m.bodyScroll <= m.clientWidth, `${key} at ${width}px: body ${m.bodyScroll} > ${m.clientWidth}`);
      assert.deepEqual(m.links.map((l) => l.text), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
      for (const l of m.links) {
        assert.ok(l.left >= 0 && l.right <= width, `${key} at ${width}px: score ${l.text} is off screen (${l.left}–${l.right})`);
        assert.ok(l.width >= 32 && l.height >= 32, `${key} at ${width}px: score ${l.text} is ${l.width}×${l.height}`);
      }
      if (width === 320 && (key === "sv" || key === "pl")) {
        await page.screenshot({ path: join(artifacts, `nps-email-${key}-320.png`), fullPage: true });
      }
      if (width === 600 && key === "sv") {
        await page.screenshot({ path: join(artifacts, `nps-email-sv-600.png`), fullPage: true });
      }
      await context.close();
    }
  });
}

test("a mail client that strips <style> and classes keeps the links, their order and the fit", async () => {
  for (const lang of languages) {
    const original = emails[lang];
    const stripped = stripStyles(original);
    const hrefs = (html) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(hrefs(stripped), hrefs(original), lang);
    const context = await browser.newContext({ viewport: { width: 320, height: 800 } });
    const page = await context.newPage();
    await page.setContent(stripped, { waitUntil: "load" });
    const m = await measure(page);
    assert.ok(m.scrollWidth <= m.clientWidth, `${lang} stripped scrolls sideways`);
    assert.equal(m.links.length, 11);
    await context.close();
  }
});

test("axe-core finds no serious or critical violations in any language", async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  for (const key of [...languages, "sv-reminder"]) {
    await page.setContent(emails[key], { waitUntil: "load" });
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => globalThis.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] }));
    const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(serious.map((v) => `${v.id}: ${v.help}`), [], key);
  }
  await context.close();
});
