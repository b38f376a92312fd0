// Helpers the browser suites share: a free loopback port, waiting for the server,
// a case-step event, how Debian's chromium is launched, the outbox, a console
// sign-in with a local token, and the axe-core check.

import { createServer } from "node:net";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export async function waitForHealth(url, deadlineMs) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kundpuls serve did not answer at ${url}`);
}

export function caseStep(lang, n) {
  return {
    event_id: `browser-${lang}-${n}`,
    occurred_at: new Date().toISOString(),
    case_id: `C-BROWSER-${n}`,
    client_id: "acme-energy",
    step: "call_completed",
    handler_id: "h-anna",
    team: "energy",
    debtor: { debtor_id: `D-B-${n}`, phone: `+4670555${String(n).padStart(4, "0")}`, language: lang, country: "SE", flags: [] },
  };
}


export function launchOptions(executablePath) {
  return {
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  };
}

// Every line of a data directory's outbox, oldest first.
export function readOutbox(dataDir) {
  const file = join(dataDir, "outbox.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

// Signs in to the console of the server at `base` with a token the server's data
// directory signs, and returns the page it lands on.
export async function signInWithToken(context, { bin, dataDir, base, user, team, role = "lead" }) {
  const page = await context.newPage();
  await page.goto(`${base}/console`);
  assert.match(page.url(), /\/console\/login(\?|$)/, "without a session the console asks to sign in");
  const token = execFileSync(bin, ["token", "--data-dir", dataDir, "--user", user, "--role", role, "--team", team], { encoding: "utf8" }).trim();
  await page.fill("#token", token);
  await page.click('button[type="submit"]');
  await page.waitForLoadState();
  return page;
}

// axe-core over the page: no serious or critical WCAG 2.1 AA violation.
export async function assertAxeClean(page, axeSource, label) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => globalThis.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] }));
  const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.help}`), [], label);
}
