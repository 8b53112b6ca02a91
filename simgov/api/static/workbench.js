// simgov investigator console, the workbench: the findings queue (the console's home), sellers by
// risk, search by text or picture, and the comparison of two listings. Built on app.js's helpers
// (window.simgovConsole); the same rules: no inline script, DOM built with textContent only.
"use strict";

(() => {
  const C = window.simgovConsole;
  const { $, el, api, ApiError, picture, go, fieldRows, scoreBar, setCase, sellerLink, verdictText, fmt, REASONS,
    REASON_STORE } = C;

  // -- comparison of two listings -------------------------------------------------------------
  // Field by field, pictures side by side (click one to zoom), and each signal's score for the pair.
  async function compareView(view, arg) {
    const [a, b] = arg.split("/").map(decodeURIComponent);
    if (!a || !b) throw new ApiError(404, "not_found", "compare needs two item ids: #/compare/A/B");
    const token = C.token();
    const [left, right, near] = await Promise.all([api(`/v1/items/${encodeURIComponent(a)}`),
      api(`/v1/items/${encodeURIComponent(b)}`), api(`/v1/items/${encodeURIComponent(a)}/similar?k=20`)]);
    if (token !== C.token()) return;
    const pair = near.neighbours.find((n) => n.item_id === b);
    const rowsOf = (item) => new Map([["title", item.title], ["seller", item.seller_id], ...fieldRows(item)]);
    const ra = rowsOf(left.item);
    const rb = rowsOf(right.item);
    const names = [...new Set([...ra.keys(), ...rb.keys()])];
    const zoomable = (id, n) => {
      const frame = picture(id, n, `${id}, picture ${n + 1}`, 640);
      frame.classList.add("zoomable");
      frame.addEventListener("click", () => frame.classList.toggle("zoomed"));
      return frame;
    };
    const side = (item) => el("div", { class: "compare-side", "data-item": item.item_id },
      el("button", { type: "button", class: "link item-link", onclick: () => go("item", item.item_id), text: item.item_id }),
      el("div", { class: "pictures" }, (item.images || []).map((_, n) => zoomable(item.item_id, n))));
    view.replaceChildren(el("section", { class: "card compare", id: "compare-card" },
      el("h2", { text: `Comparing ${a} and ${b}` }),
      el("div", { class: "compare-pics" }, side(left.item), side(right.item)),
      el("table", { class: "fields compare-fields" }, el("tr", {}, el("th", {}), el("th", { text: a }), el("th", { text: b })),
        names.map((name) => el("tr", { class: ra.get(name) === rb.get(name) ? "same" : "differs" },
          el("th", { text: name }), el("td", { text: ra.get(name) ?? "" }), el("td", { text: rb.get(name) ?? "" })))),
      pair ? el("div", { class: "bars compare-bars" }, scoreBar("score", pair.score),
        ...Object.entries(pair.signals).map(([name, value]) => scoreBar(name, value)),
        el("ul", { class: "evidence" }, pair.evidence.map((line) => el("li", { text: line }))))
        : el("p", { class: "muted", text: `${b} is not among the 20 nearest listings of ${a}: no signal scores` })));
    setCase(`compare ${a} / ${b}`, { kind: "compare", item_id: a, other_item_id: b, a: left.item, b: right.item, pair });
  }

  // -- findings queue -------------------------------------------------------------------------
  // The console's home: open findings, most severe first, filtered by the API's parameters.
  // Keyboard: j/k move, x selects, o (or Enter) opens, c/r confirm/reject with the last reason, u undoes.
  const FINDING_KINDS = { counterfeit: "counterfeit suspect", cross_seller_copy: "cross-seller copy",
    relisting: "re-listing", picture_reuse: "picture reuse", ring: "ring of accounts", bank_hit: "bank hit" };
  const FILTERS = ["kind", "status", "seller_id", "brand", "min_score", "sort"];
  const queue = { rows: [], focus: -1, cursor: null, filters: null };

  const lastReason = (decision) => sessionStorage.getItem(`${REASON_STORE}.${decision}`)
    || (decision === "confirmed" ? "confirmed in the queue" : "rejected in the queue");

  function queueFilters(arg) {
    const params = new URLSearchParams(arg || "");
    if (!params.has("status")) params.set("status", "open");
    return params;
  }

  function filterBar(params) {
    const field = (name, control) => el("label", { class: "filter" }, el("span", { text: name.replace("_", " ") }), control);
    const choice = (name, options) => el("select", { name, "aria-label": name },
      options.map(([value, text]) => el("option", { value, text, selected: (params.get(name) || "") === value })));
    const text = (name, placeholder) => el("input", { name, placeholder, "aria-label": name, value: params.get(name) || "" });
    const form = el("form", { class: "filters", id: "queue-filters" },
      field("kind", choice("kind", [["", "every kind"], ...Object.entries(FINDING_KINDS)])),
      field("status", choice("status", [["open", "open"], ["confirmed", "confirmed"], ["rejected", "rejected"], ["", "any"]])),
      field("seller_id", text("seller_id", "seller or account id")),
      field("brand", text("brand", "brand")),
      field("min_score", el("input", { name: "min_score", type: "number", min: 0, max: 1, step: 0.05, "aria-label": "min score",
        value: params.get("min_score") || "" })),
      field("sort", choice("sort", [["severity", "most severe"], ["score", "highest score"], ["newest", "newest"]])),
      el("button", { type: "submit", text: "Filter" }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const next = new URLSearchParams();
      for (const name of FILTERS) {
        const value = form.elements[name].value.trim();
        if (value || name === "status") next.set(name, value);
      }
      location.hash = `#/queue/${next.toString()}`;
    });
    return form;
  }

  // A finding's verdict, naming who gave it (the key's holder, else its label).
  const findingVerdictText = (f) => verdictText(f.verdict, f.decided_by);

  function findingThumbs(f) {
    if (f.kind === "ring") {
      return el("div", { class: "thumbs accounts" }, f.accounts.slice(0, 4).map((a) => el("button", { type: "button",
        class: "link account-chip", onclick: () => go("account", a), text: a })));
    }
    return el("div", { class: "thumbs" }, f.items.slice(0, 3).map((i) => el("button", { type: "button", class: "pivot-pic",
      title: `open ${i}`, onclick: () => go("item", i) }, picture(i, 0, i, 128))));
  }

  function findingRow(f, index) {
    const state = el("span", { class: "state", text: f.verdict ? findingVerdictText(f) : "open" });
    const undo = el("button", { type: "button", class: "undo", text: "Undo", hidden: !f.verdict,
      onclick: (e) => { e.stopPropagation(); undoFinding(index); } });
    const row = el("article", { class: `finding sev-${f.severity} status-${f.status}`, "data-finding": f.finding_id,
      "data-kind": f.kind, "data-status": f.status, tabindex: -1, onclick: () => focusRow(index) },
    el("input", { type: "checkbox", class: "pick", "aria-label": `select ${f.finding_id}` }),
    el("div", { class: "finding-main" },
      el("div", { class: "head" },
        el("span", { class: `badge sev sev-${f.severity}`, text: f.severity }),
        el("span", { class: "badge kind", text: FINDING_KINDS[f.kind] || f.kind }),
        el("span", { class: "muted small", text: `score ${fmt(f.score)}` }),
        f.brand ? el("span", { class: "muted small", text: f.brand }) : null),
      el("div", { class: "summary", text: f.summary }),
      el("div", { class: "muted small" }, "sellers ",
        f.sellers.length ? f.sellers.flatMap((x, n) => (n ? [", ", sellerLink(x)] : [sellerLink(x)])) : "none blamed"),
      el("details", { class: "small" }, el("summary", { text: "evidence" }),
        el("ul", { class: "evidence" }, f.evidence.map((line) => el("li", { text: line })))),
      el("div", { class: "row-state" }, state, undo)),
    findingThumbs(f));
    row.querySelector(".pick").addEventListener("click", (e) => e.stopPropagation());
    return row;
  }

  function focusRow(index) {
    const rows = [...document.querySelectorAll("#queue-list article.finding")];
    if (!rows.length) return;
    queue.focus = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((r, i) => r.classList.toggle("focus", i === queue.focus));
    rows[queue.focus].scrollIntoView({ block: "nearest" });
  }

  function openFinding(f) {
    if (f.kind === "ring") go("account", f.accounts[0]);
    else go("item", f.items[0]);
  }

  async function decideFindings(indexes, decision) {
    const reason = lastReason(decision);
    const rows = [...document.querySelectorAll("#queue-list article.finding")];
    for (const i of indexes) {
      const f = queue.rows[i];
      const row = rows[i];
      if (!f || !row) continue;
      const state = row.querySelector(".state");
      if (!f.review) {
        state.textContent = "bank hits are reviewed in their bank";
        continue;
      }
      state.textContent = "saving…";
      try {
        const updated = await api(`/v1/findings/${encodeURIComponent(f.finding_id)}/verdict`, { method: "POST",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify({ decision, reason }) });
        showStatus(i, row, updated, findingVerdictText(updated));
      } catch (err) {
        state.textContent = `not saved: ${err.message}`;
      }
    }
  }

  function showStatus(i, row, f, text) {
    queue.rows[i] = f;
    row.dataset.status = f.status;
    row.classList.remove("status-open", "status-confirmed", "status-rejected");
    row.classList.add(`status-${f.status}`);
    row.querySelector(".state").textContent = text;
    row.querySelector(".undo").hidden = !f.verdict;
  }

  // Undo the verdict that counts for a finding: it is open again (or back to an earlier verdict).
  async function undoFinding(i) {
    const f = queue.rows[i];
    const row = document.querySelectorAll("#queue-list article.finding")[i];
    if (!f || !row || !f.verdict) return;
    const state = row.querySelector(".state");
    state.textContent = "undoing…";
    try {
      const updated = await api(`/v1/findings/${encodeURIComponent(f.finding_id)}/verdict`, { method: "DELETE" });
      showStatus(i, row, updated, updated.verdict ? `undone; now counts: ${findingVerdictText(updated)}` : "undone; open");
    } catch (err) {
      state.textContent = `not undone: ${err.message}`;
    }
  }

  function selected() {
    return [...document.querySelectorAll("#queue-list article.finding")]
      .map((r, i) => (r.querySelector(".pick").checked ? i : -1)).filter((i) => i >= 0);
  }

  async function queueView(view, arg) {
    const params = queueFilters(arg);
    const token = C.token();
    let first;
    try {
      first = await api(`/v1/findings?${params.toString()}&limit=25`);
    } catch (err) {
      if (err.code !== "findings_pending") throw err;
      view.replaceChildren(el("div", { class: "card notice pending" }, el("strong", { text: "Computing the findings" }),
        " ", el("span", { text: "the first scan of this index is running; the queue opens when it is done." })));
      setTimeout(() => { if (token === C.token()) C.route(); }, 5000);
      return;
    }
    if (token !== C.token()) return;
    queue.rows = [...first.findings];
    queue.cursor = first.next_cursor;
    queue.focus = -1;
    queue.filters = params;
    const list = el("div", { id: "queue-list", class: "queue-list" }, queue.rows.map(findingRow));
    const more = el("button", { type: "button", id: "queue-more", hidden: !queue.cursor, text: "More findings",
      onclick: async () => {
        const page = await api(`/v1/findings?${params.toString()}&limit=25&cursor=${encodeURIComponent(queue.cursor)}`);
        const start = queue.rows.length;
        queue.rows.push(...page.findings);
        list.append(...page.findings.map((f, n) => findingRow(f, start + n)));
        queue.cursor = page.next_cursor;
        more.hidden = !queue.cursor;
        setCase(`findings: ${queue.rows.length} of ${first.total}`, { kind: "queue", filters: params.toString(), findings: queue.rows });
      } });
    const bulk = (decision) => async () => decideFindings(selected(), decision);
    const remembered = sessionStorage.getItem(`${REASON_STORE}.confirmed`) || "";
    const reasonPick = el("select", { id: "queue-reason", "aria-label": "reason for c and r" },
      el("option", { value: "", text: "confirmed / rejected in the queue" }),
      REASONS.map((r) => el("option", { value: r, text: r, selected: r === remembered })));
    reasonPick.addEventListener("change", () => {
      for (const decision of ["confirmed", "rejected"]) {
        if (reasonPick.value) sessionStorage.setItem(`${REASON_STORE}.${decision}`, reasonPick.value);
        else sessionStorage.removeItem(`${REASON_STORE}.${decision}`);
      }
    });
    view.replaceChildren(
      el("section", { class: "card queue-head" },
        el("div", { class: "section-head" },
          el("h2", { text: `Findings (${first.total})` }),
          el("span", { class: "muted small", text: "j/k move · x select · o open · c confirm · r reject · u undo" })),
        filterBar(params),
        el("div", { class: "bulk" }, el("span", { class: "muted small", text: "selected:" }),
          el("button", { type: "button", id: "bulk-confirm", onclick: bulk("confirmed"), text: "Confirm" }),
          el("button", { type: "button", id: "bulk-reject", onclick: bulk("rejected"), text: "Reject" }),
          el("span", { class: "muted small", text: "reason" }), reasonPick)),
      queue.rows.length ? list : el("p", { class: "muted", id: "queue-empty", text: "no findings match these filters" }),
      more);
    if (queue.rows.length) focusRow(0);
    setCase(`findings: ${queue.rows.length} of ${first.total}`, { kind: "queue", filters: params.toString(), findings: queue.rows });
  }

  function queueKeys(e) {
    if ($("view").dataset.view !== "queue" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^(INPUT|SELECT|TEXTAREA)$/.test((e.target && e.target.tagName) || "")) return;
    const f = queue.rows[queue.focus];
    const rows = [...document.querySelectorAll("#queue-list article.finding")];
    if (e.key === "j") focusRow(queue.focus + 1);
    else if (e.key === "k") focusRow(queue.focus - 1);
    else if (e.key === "x" && rows[queue.focus]) {
      const box = rows[queue.focus].querySelector(".pick");
      box.checked = !box.checked;
    } else if ((e.key === "o" || e.key === "Enter") && f) openFinding(f);
    else if (e.key === "c" && f) decideFindings([queue.focus], "confirmed");
    else if (e.key === "r" && f) decideFindings([queue.focus], "rejected");
    else if (e.key === "u" && f) undoFinding(queue.focus);
    else return;
    e.preventDefault();
  }

  // -- sellers by risk ------------------------------------------------------------------------
  function riskReasons(risk) {
    return el("ul", { class: "evidence reasons" }, risk.reasons.map((r) => el("li", {},
      el("span", { class: "badge kind", text: FINDING_KINDS[r.kind] || r.kind.replace("_", " ") }),
      ` ${r.detail} (${fmt(r.weight)})`)));
  }

  async function sellersView(view) {
    const answer = await api("/v1/sellers?sort=risk&limit=50");
    const rows = answer.sellers.map((r) => el("tr", { class: "seller-row", "data-seller": r.seller_id },
      el("td", {}, sellerLink(r.seller_id)),
      el("td", { class: "risk" }, scoreBar("risk", r.risk)),
      el("td", { text: String(r.counts.listings || 0) }),
      el("td", { text: String(r.counts.flagged_listings || 0) }),
      el("td", { class: "small", text: r.reasons.slice(0, 2).map((x) => x.detail).join("; ") })));
    view.replaceChildren(el("section", { class: "card" }, el("h2", { text: "Sellers and creators by risk" }),
      el("table", { class: "sellers", id: "sellers-table" },
        el("tr", {}, ["seller", "risk", "listings", "flagged", "why"].map((h) => el("th", { text: h }))), rows)));
    setCase("sellers by risk", { kind: "sellers", sellers: answer.sellers });
  }

  // A seller's risk card on its account view: the reasons, and the accounts it is linked to.
  function riskCard(risk) {
    return el("section", { class: "card risk-card", id: "risk-card", "data-seller": risk.seller_id },
      el("div", { class: "head" }, el("h3", { text: "Risk" }), scoreBar("risk", risk.risk),
        risk.authorized_brands.length ? el("span", { class: "badge", text: `authorised for ${risk.authorized_brands.join(", ")}` }) : null),
      el("p", { class: "muted small", text: Object.entries(risk.counts).map(([k, v]) => `${k.replace("_", " ")} ${v}`).join(" · ") }),
      risk.reasons.length ? riskReasons(risk) : el("p", { class: "muted", text: "no findings blame this account" }),
      risk.linked_accounts.length ? el("div", { class: "ring-members" }, "in a ring with ",
        risk.linked_accounts.map((a) => el("button", { type: "button", class: "link linked-account", "data-account": a,
          onclick: () => go("account", a), text: a }))) : null);
  }

  // -- search ---------------------------------------------------------------------------------
  function resultCard(n) {
    return el("article", { class: `neighbour rel-${n.relation}`, "data-item": n.item_id },
      el("button", { type: "button", class: "pivot-pic", onclick: () => go("item", n.item_id) }, picture(n.item_id, 0, n.item_id, 256)),
      el("div", { class: "head" }, el("button", { type: "button", class: "link item-link", onclick: () => go("item", n.item_id),
        text: n.item_id }), n.match ? el("span", { class: "badge match", text: "match" }) : null),
      el("div", { class: "muted small" }, "seller ", sellerLink(n.seller_id)),
      el("div", { class: "bars" }, scoreBar("score", n.score),
        ...Object.entries(n.signals).map(([name, value]) => scoreBar(name, value))));
  }

  function searchView(view) {
    const results = el("div", { class: "grid", id: "search-results" });
    const status = el("p", { class: "muted small", id: "search-status" });
    const form = el("form", { class: "card search-form", id: "search-form" },
      el("h2", { text: "Search listings" }),
      el("input", { name: "text", placeholder: "free text: a title, a brand, a model number…", "aria-label": "text" }),
      el("input", { name: "image", type: "file", accept: "image/*", "aria-label": "picture" }),
      el("button", { type: "submit", text: "Search" }), status);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = new FormData();
      const text = form.elements.text.value.trim();
      const file = form.elements.image.files[0];
      if (!text && !file) {
        status.textContent = "give a text, a picture or both";
        return;
      }
      if (text) body.append("text", text);
      if (file) body.append("image", file);
      status.textContent = "searching…";
      const started = performance.now();
      try {
        const answer = await api("/v1/search?k=20", { method: "POST", body });
        results.replaceChildren(...answer.neighbours.map(resultCard));
        status.textContent = `${answer.neighbours.length} listings`;
        $("view").dataset.searched = String(Math.round(performance.now() - started));
        setCase(`search: ${answer.neighbours.length} listings`, { kind: "search", query: answer.query, neighbours: answer.neighbours });
      } catch (err) {
        status.textContent = `search failed: ${err.message}`;
      }
    });
    view.replaceChildren(form, results);
  }

  document.addEventListener("keydown", queueKeys);
  window.simgovWorkbench = Object.freeze({ queueView, sellersView, searchView, compareView, riskCard });
})();
