// Helpers the browser suites share: a free loopback port, waiting for the server,
// a case-step event, and how Debian's chromium is launched.

import { createServer } from "node:net";

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
