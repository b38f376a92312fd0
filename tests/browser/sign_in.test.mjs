// A team lead signs in to the console as on AWS, in a real headless Chromium: a
// real `kundpuls serve` configured with an OpenID Connect provider (a stand-in
// here, on loopback: its sign-in page, /oauth2/authorize, /oauth2/token with PKCE,
// /logout and its key set, signing RS256 ID tokens with a key made for this run).
// The lead follows an alert's link to an item, signs in, lands on the item,
// triages it, signs out, and the item's link asks for a sign-in again.
// Screenshots go to artifacts/.
//
// Needs: KUNDPULS_BIN (the kundpuls binary), Debian's chromium. Run by ./scripts/test.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { generateKeyPairSync, createSign, createHash, randomUUID } from "node:crypto";
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
const CLIENT_ID = "console-client";

let server;
let idp;
let browser;
let dataDir;
let base;
let idpBase;
let itemLink;

// ------------------------------------------------------------ the stand-in
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: "jwk" }), kid: "run-key", alg: "RS256", use: "sig" };
const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
function idToken(issuer) {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64url({ alg: "RS256", kid: "run-key", typ: "JWT" })}.${b64url({
    sub: "lead-anna", iss: issuer, aud: CLIENT_ID, token_use: "id", "cognito:groups": ["lead"],
    "custom:teams": "energy", email: "anna@example.com", iat: now, exp: now + 3600,
  })}`;
  const signature = createSign("RSA-SHA256").update(body).sign(privateKey).toString("base64url");
  return `${body}.${signature}`;
}

const codes = new Map();
const events = [];
function startIdp(port) {
  const issuer = `http://127.0.0.1:${port}/pool`;
  return createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    const send = (status, type, body, headers = {}) => {
      res.writeHead(status, { "content-type": type, ...headers });
      res.end(body);
    };
    if (url.pathname === "/pool/.well-known/jwks.json") {
      events.push("keys");
      return send(200, "application/json", JSON.stringify({ keys: [jwk] }));
    }
    if (url.pathname === "/oauth2/authorize" && req.method === "GET") {
      const p = url.searchParams;
      assert.equal(p.get("client_id"), CLIENT_ID);
      assert.equal(p.get("code_challenge_method"), "S256");
      events.push("authorize");
      // The managed login's page, as plain as it gets.
      const hidden = ["redirect_uri", "state", "code_challenge"]
        .map((k) => `<input type="hidden" name="${k}" value="${p.get(k)}">`).join("");
      return send(200, "text/html; charset=utf-8", `<!doctype html><html lang="en"><head><title>Sign in</title></head>
<body><main><h1>Nordkredit sign-in</h1><form method="post" action="/oauth2/authorize">${hidden}
<label for="email">Email</label> <input id="email" name="email" value="anna@example.com">
<label for="password">Password</label> <input id="password" name="password" type="password" value="correct horse">
<button type="submit">Sign in</button></form></main></body></html>`);
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const form = new URLSearchParams(body);
      if (url.pathname === "/oauth2/authorize" && req.method === "POST") {
        const code = randomUUID();
        codes.set(code, { challenge: form.get("code_challenge"), redirect: form.get("redirect_uri") });
        const back = new URL(form.get("redirect_uri"));
        back.searchParams.set("code", code);
        back.searchParams.set("state", form.get("state"));
        return send(302, "text/plain", "", { location: back.toString() });
      }
      if (url.pathname === "/oauth2/token") {
        const pending = codes.get(form.get("code"));
        codes.delete(form.get("code"));
        const verifier = form.get("code_verifier") ?? "";
        const ok = pending && form.get("client_id") === CLIENT_ID && form.get("grant_type") === "authorization_code"
          && createHash("sha256").update(verifier).digest("base64url") === pending.challenge
          && form.get("redirect_uri") === pending.redirect;
        events.push(ok ? "token" : "token refused");
        if (!ok) return send(400, "application/json", JSON.stringify({ error: "invalid_grant" }));
        return send(200, "application/json", JSON.stringify({
          id_token: idToken(issuer), access_token: "unused", refresh_token: "refresh-1", expires_in: 3600, token_type: "Bearer",
        }));
      }
      if (url.pathname === "/logout") {
        events.push("logout");
        assert.equal(url.searchParams.get("client_id"), CLIENT_ID);
        return send(302, "text/plain", "", { location: url.searchParams.get("logout_uri") });
      }
      send(404, "text/plain", "not here");
    });
  });
}

// ------------------------------------------------------------ the run
function outbox() {
  const file = join(dataDir, "outbox.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

before(async () => {
  assert.ok(existsSync(bin), `kundpuls binary missing at ${bin}`);
  assert.ok(existsSync(browserPath), `chromium missing at ${browserPath}`);
  dataDir = mkdtempSync(join(tmpdir(), "kundpuls-sign-in-"));
  const idpPort = await freePort();
  idpBase = `http://127.0.0.1:${idpPort}`;
  idp = startIdp(idpPort);
  await new Promise((r) => idp.listen(idpPort, "127.0.0.1", r));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, [
    "serve", "--data-dir", dataDir, "--addr", `127.0.0.1:${port}`, "--ignore-send-windows",
    "--sign-in-issuer", `${idpBase}/pool`, "--sign-in-url", idpBase, "--sign-in-client-id", CLIENT_ID,
  ], { stdio: "ignore" });
  await waitForHealth(base, 20000);
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch(launchOptions(browserPath));

  // A debtor answers CSAT 1 with a comment; the energy lead is alerted with a link.
  const file = join(dataDir, "event.json");
  writeFileSync(file, JSON.stringify(caseStep("sv", 61)));
  execFileSync(bin, ["emit", file, "--data-dir", dataDir, "--url", base], { stdio: "ignore" });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(outbox().at(-1).link);
  await page.click('label[for="s1"]');
  await page.fill("#comment", "Ingen ringde tillbaka.");
  await page.waitForTimeout(2100);
  await page.click('button[type="submit"]');
  await page.waitForLoadState();
  await context.close();
  const until = Date.now() + 10000;
  while (!itemLink && Date.now() < until) {
    itemLink = outbox().find((l) => l.channel === "alert")?.link;
    if (!itemLink) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(itemLink, "the lead was alerted with a link to the item");
});

after(async () => {
  await browser?.close();
  server?.kill();
  idp?.close();
});

test("a lead follows an alert link, signs in, triages the item and signs out", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // The alert's link without a session: the managed login.
  await page.goto(itemLink);
  assert.ok(page.url().startsWith(`${idpBase}/oauth2/authorize?`), page.url());
  await page.screenshot({ path: join(artifacts, "sign-in-managed-login.png") });
  // Signing in there comes back through the callback to the item itself.
  await page.click('button[type="submit"]');
  await page.waitForURL(itemLink);
  assert.match(await page.textContent("h1"), /CSAT 1 after call completed/);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "kp_console");
  assert.ok(session && session.httpOnly && session.secure && session.sameSite === "Lax", JSON.stringify(cookies));
  await page.screenshot({ path: join(artifacts, "sign-in-console-after-callback.png"), fullPage: true });
  // Triage, as the signed-in lead.
  await page.selectOption("#status", "triaged");
  await page.click('form[data-enhance="triage"] button[type="submit"]');
  await page.waitForSelector("#flash .flash");
  await page.waitForFunction(() => document.querySelector("#activity")?.textContent.includes("triaged"));
  assert.match(await page.textContent("#activity"), /lead-anna/);
  // Sign out: both sessions end, and the item's link asks for a sign-in again.
  // Out at the provider too, and back at its sign-in page.
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(`${idpBase}/oauth2/authorize?`)),
    page.click('form[action="/console/logout"] button'),
  ]);
  assert.ok(!(await context.cookies()).some((c) => c.name === "kp_console"));
  await page.goto(itemLink);
  assert.ok(page.url().startsWith(`${idpBase}/oauth2/authorize?`), page.url());
  assert.deepEqual(events.filter((e) => e !== "keys"), ["authorize", "token", "logout", "authorize", "authorize"]);
  assert.equal(events.filter((e) => e === "keys").length, 1, "the key set is fetched once");
  await context.close();
});
