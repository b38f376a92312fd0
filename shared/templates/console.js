// Kundpuls console: small enhancements on top of pages that work without script.
// - Triage forms save in place (fetch, JSON answer) and the activity log updates.
// - Queue: j/k move between rows, Enter opens, / jumps to the filters.
"use strict";
(function () {
  function text(tag, value) {
    const el = document.createElement(tag);
    el.textContent = value;
    return el;
  }

  function flash(message, isError) {
    const box = document.getElementById("flash");
    if (!box) return;
    box.textContent = "";
    const p = text("p", message);
    p.className = isError ? "flash error" : "flash";
    box.appendChild(p);
  }

  function enhanceTriage(form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          headers: { Accept: "application/json" },
          body: new URLSearchParams(new FormData(form)),
          credentials: "same-origin",
        });
        const body = await response.json().catch(() => ({}));
        if (!response.ok) {
          const error = body.error || {};
          if (response.status === 409) {
            flash("Someone else changed this item first (now version " + error.current_version + "). Reload to see their change.", true);
          } else {
            const fields = (error.fields || []).map((f) => f.field + ": " + f.reason).join("; ");
            flash(fields || error.message || "Not saved. Please try again.", true);
          }
          return;
        }
        const item = body.item;
        document.querySelectorAll("input[name=version], input[data-version]").forEach((input) => {
          input.value = String(item.version);
        });
        const status = document.getElementById("current-status");
        if (status) status.textContent = item.status.replace(/_/g, " ");
        const log = document.getElementById("activity");
        if (log) {
          log.textContent = "";
          for (const a of body.activity) {
            const li = document.createElement("li");
            li.appendChild(text("time", a.at));
            li.appendChild(document.createTextNode(" "));
            li.appendChild(text("strong", a.actor));
            li.appendChild(document.createTextNode(" " + a.action));
            log.appendChild(li);
          }
        }
        const note = form.querySelector("textarea[name=note]");
        if (note) note.value = "";
        flash("Saved.", false);
      } catch (e) {
        flash("Not saved: the connection failed. Please try again.", true);
      } finally {
        button.disabled = false;
      }
    });
  }

  function enhanceQueue(table) {
    const rows = Array.from(table.querySelectorAll("tbody tr"));
    let at = -1;
    function select(i) {
      if (!rows.length) return;
      at = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach((r, n) => r.classList.toggle("sel", n === at));
      const link = rows[at].querySelector("a");
      if (link) link.focus();
    }
    document.addEventListener("keydown", function (event) {
      const tag = (event.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select") return;
      if (event.key === "j") select(at + 1);
      else if (event.key === "k") select(at - 1);
      else if (event.key === "/") {
        const first = document.querySelector(".filters select, .filters input");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
  }

  // Copy buttons beside a case or contact reference: shown only where the
  // clipboard can be written, and they say when they did.
  function enhanceCopy(button) {
    if (!navigator.clipboard) return;
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(enhanceCopy);
    document.querySelectorAll("form[data-enhance=triage]").forEach(enhanceTriage);
    const table = document.querySelector("table.queue");
    if (table) enhanceQueue(table);
  });
})();
