// simgov investigator console: one static page, no build step, no inline script (strict CSP).
// Every data call carries the key from sessionStorage; pictures come through fetch() + blob URLs
// because an <img> cannot send an Authorization header. The DOM is built with createElement and
// textContent only, so nothing from the data is ever parsed as HTML.
"use strict";

(() => {
  const KEY_STORE = "simgov.key";
  const WEAK_LINK = 0.2;    // candidates below this (and not a match) are folded away in the account view
  const RELATIONS = {
    same_seller_duplicate: "duplicate",
    cross_seller_copy: "copy",
    picture_reuse: "picture reuse",
    same_product: "same product",
    counterfeit_suspect: "counterfeit suspect",
    similar: "similar",
  };

  const $ = (id) => document.getElementById(id);
  let currentCase = null;   // what the export buttons write
  let blobUrls = [];        // revoked when the view changes
  let viewToken = 0;        // a newer view makes older responses stale
  const REASON_STORE = "simgov.lastReason";  // the last reason of each decision, for the queue's c and r

  // -- small DOM helpers ----------------------------------------------------------------------
  // Direction overrides and other invisible characters in the data (U+202E makes "seller-\u202enimda"
  // read "seller-admin") are written as a visible <U+202E> wherever text is shown.
  const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g;
  const SHOWN_ATTRIBUTES = new Set(["title", "alt", "aria-label", "placeholder", "download"]);
  function shown(value) {
    return String(value).replace(INVISIBLE, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}>`);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = shown(value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : SHOWN_ATTRIBUTES.has(name) ? shown(value) : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(shown(child)));
    }
    return node;
  }

  const svgNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(svgNS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = shown(value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, String(value));
    }
    for (const child of children) node.append(child);
    return node;
  }

  const fmt = (x) => (typeof x === "number" ? x.toFixed(2) : "");

  // -- key and API access ---------------------------------------------------------------------
  const getKey = () => sessionStorage.getItem(KEY_STORE);

  function showKeyState() {
    const key = getKey();
    $("key-state").textContent = key ? `key ${key.slice(0, 16)}…` : "no key";
    $("forget-key").hidden = !key;
    $("key-gate").hidden = Boolean(key);
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, options = {}) {
    const key = getKey();
    if (!key) throw new ApiError(401, "unauthorized", "enter an API key first");
    const response = await fetch(path, {
      ...options,
      headers: { ...(options.headers || {}), Authorization: `Bearer ${key}` },
      cache: "no-store",
    });
    if (!response.ok) {
      let code = "error";
      let message = `${response.status} ${response.statusText}`;
      try {
        const body = await response.json();
        if (body && body.error) ({ code, message } = body.error);
      } catch (_) { /* not JSON */ }
      if (response.status === 401) {
        sessionStorage.removeItem(KEY_STORE);
        showKeyState();
        $("key-error").textContent = shown(message);
        $("key-error").hidden = false;
      }
      throw new ApiError(response.status, code, message);
    }
    return options.raw ? response : response.json();
  }

  // A picture the API serves (an item's picture, a frame of its video): fetched with the key, shown
  // through a blob URL; `missing(err)` says what stands in its place when it cannot be fetched.
  function fetchedPicture(path, title, imgAttrs, missing) {
    const frame = el("div", { class: "pic loading", title });
    const img = el("img", imgAttrs);
    frame.append(img);
    const token = viewToken;
    api(path, { raw: true })
      .then((r) => r.blob())
      .then((blob) => {
        if (token !== viewToken) return;
        const url = URL.createObjectURL(blob);
        blobUrls.push(url);
        img.src = url;
        frame.classList.remove("loading");
        frame.classList.add("loaded");
      })
      .catch((err) => {
        frame.classList.remove("loading");
        frame.classList.add("missing");
        frame.replaceChildren(el("span", { text: missing(err) }));
        frame.title = err.message;
      });
    return frame;
  }

  // A picture of an item.
  function picture(itemId, n, label, size = 320) {
    return fetchedPicture(`/v1/items/${encodeURIComponent(itemId)}/images/${n}?size=${size}`, label || "",
      { alt: label || `picture ${n + 1} of ${itemId}`, "data-item": itemId, "data-n": n },
      (err) => (err.status === 404 ? "no picture" : "picture unavailable"));
  }

  // -- verdicts ------------------------------------------------------------------------------
  // One bar per finding card: a reason (optional), a note (optional), and one click to confirm or
  // reject; the verdict the server stored (who, when, why) is shown in place.
  const REASONS = ["same merchandise", "different merchandise", "variant (size, colour, model)",
    "authorised seller", "same person", "different people", "other"];

  // Who gave it: the key's holder (else its label, where the caller knows it), else the key id.
  function verdictText(v, holder) {
    const when = new Date(v.at * 1000).toISOString().slice(0, 16).replace("T", " ");
    return `${v.decision} by ${v.holder || holder || v.key_id} on ${when} (${v.reason})${v.note ? ` — ${v.note}` : ""}`;
  }

  // The verdict that counts now for a finding (after an undo: an earlier one, or none).
  async function currentVerdict(kind, ids) {
    const found = await api(`/v1/verdicts?kind=${kind}&latest=true&item_id=${encodeURIComponent(ids[0])}`);
    const want = (kind === "counterfeit" ? ids : [...ids].sort()).join(" ");
    return found.verdicts.find((v) => v.ids.join(" ") === want) || null;
  }

  // A verdict given or undone on the open case is part of its export: pair verdicts on an item's
  // neighbours, link verdicts on an account's linked accounts (by the other id).
  function noteVerdict(kind, ids, v) {
    const c = currentCase;
    const table = !c ? null : kind === "pair" && c.kind === "item" ? (c.verdicts = c.verdicts || {})
      : kind === "link" && c.kind === "account" ? (c.link_verdicts = c.link_verdicts || {}) : null;
    const mine = c && (c.item_id || c.account_id);
    if (!table || !ids.includes(mine)) return;
    const other = ids.find((id) => id !== mine);
    if (v) table[other] = v;
    else delete table[other];
  }

  function verdictBar(kind, ids, verdict) {
    const state = el("span", { class: "state" });
    const bar = el("div", { class: "verdict", "data-kind": kind, "data-ids": ids.join(" ") });
    const undo = el("button", { type: "button", class: "undo", text: "Undo", hidden: true });
    const show = (v, before = "") => {
      bar.classList.remove("confirmed", "rejected");
      undo.hidden = !v;
      if (v) {
        bar.classList.add(v.decision);
        bar.dataset.verdict = v.decision;
        bar.dataset.verdictId = v.verdict_id;
        state.textContent = shown(before + verdictText(v));
      } else {
        delete bar.dataset.verdict;
        delete bar.dataset.verdictId;
        state.textContent = before || "no verdict yet";
      }
    };
    undo.addEventListener("click", async () => {
      state.textContent = "undoing…";
      try {
        await api(`/v1/verdicts/${bar.dataset.verdictId}`, { method: "DELETE" });
        const earlier = await currentVerdict(kind, ids);
        show(earlier, earlier ? "undone; now counts: " : "verdict undone; no verdict");
        noteVerdict(kind, ids, earlier);
      } catch (err) {
        state.textContent = shown(`not undone: ${err.message}`);
      }
    });
    const reason = el("select", { "aria-label": "reason" }, el("option", { value: "", text: "reason…" }),
      REASONS.map((r) => el("option", { value: r, text: r })));
    const note = el("input", { type: "text", placeholder: "note (optional)", "aria-label": "note", maxlength: 2000 });
    const decide = (decision) => async () => {
      state.textContent = "saving…";
      try {
        const body = { kind, ids, decision, reason: reason.value || `${decision} in the console` };
        if (reason.value) sessionStorage.setItem(`${REASON_STORE}.${decision}`, reason.value); // the queue's c/r reuse it
        if (note.value.trim()) body.note = note.value.trim();
        const v = await api("/v1/verdicts", { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body) });
        show(v);
        noteVerdict(kind, ids, v);
      } catch (err) {
        state.textContent = shown(`not saved: ${err.message}`);
      }
    };
    bar.append(el("button", { type: "button", class: "confirm", onclick: decide("confirmed"), text: "Confirm" }),
      el("button", { type: "button", class: "reject", onclick: decide("rejected"), text: "Reject" }), undo, reason, note, state);
    show(verdict);
    return bar;
  }

  // -- navigation -----------------------------------------------------------------------------
  function go(kind, id) {
    const hash = `#/${kind}/${encodeURIComponent(id)}`;
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  function resetView() {
    viewToken += 1;
    for (const url of blobUrls) URL.revokeObjectURL(url);
    blobUrls = [];
    currentCase = null;
    $("case-bar").hidden = true;
  }

  function setCase(title, data) {
    currentCase = data;
    $("case-title").textContent = shown(title);
    $("case-bar").hidden = false;
  }

  function showError(view, err) {
    const title = err.status === 404 ? "Not found" : err.status === 501 ? "Not available yet" : "Error";
    view.append(el("div", { class: "card notice" + (err.status === 501 ? " pending" : " bad") },
      el("strong", { text: title }), " ", el("span", { class: "message", text: err.message })));
  }

  const VIEWS = {
    queue: (view, arg) => window.simgovWorkbench.queueView(view, arg),
    sellers: (view) => window.simgovWorkbench.sellersView(view),
    search: (view) => window.simgovWorkbench.searchView(view),
    item: (view, id) => itemView(view, id),
    account: (view, id) => accountView(view, id),
    compare: (view, arg) => window.simgovWorkbench.compareView(view, arg),
  };

  // How long the last view took to show its data (ms), for the browser test and the footer.
  function markShown(started, token) {
    if (token !== viewToken) return;
    const ms = Math.round(performance.now() - started);
    $("view").dataset.shown = String(token);
    $("view").dataset.ms = String(ms);
    $("view-time").textContent = `shown in ${ms} ms`;
  }

  async function route() {
    const match = /^#\/(item|account|queue|sellers|search|compare)(?:\/(.*))?$/.exec(location.hash);
    resetView();
    const view = $("view");
    const [, kind, raw] = match || [null, "queue", ""];
    const id = raw ? (kind === "compare" ? raw : decodeURIComponent(raw)) : "";
    for (const tab of ["queue", "sellers", "search"]) $(`tab-${tab}`).classList.toggle("active", tab === kind);
    if (kind === "item" || kind === "account") {
      $("lookup-kind").value = kind;
      $("lookup-id").value = id;
    }
    if (!getKey()) {
      showKeyState();
      return;
    }
    const token = viewToken;
    const started = performance.now();
    view.dataset.view = kind;
    view.replaceChildren(el("p", { class: "muted", text: id ? `Loading ${kind} ${id}…` : `Loading ${kind}…` }));
    try {
      await VIEWS[kind](view, id);
      markShown(started, token);
    } catch (err) {
      if (token !== viewToken) return;
      view.replaceChildren();
      showError(view, err);
    }
  }

  // -- item view ------------------------------------------------------------------------------
  function fieldRows(item) {
    const rows = [];
    const add = (name, value) => {
      if (value !== undefined && value !== null && value !== "") rows.push([name, value]);
    };
    add("brand", item.brand);
    if (item.price !== undefined && item.price !== null) add("price", `${item.price} ${item.currency || ""}`.trim());
    add("category", item.category);
    if (item.reference) add("reference", "brand-verified reference listing");
    for (const [name, value] of Object.entries(item.attributes || {})) {
      add(name, typeof value === "object" ? JSON.stringify(value) : String(value));
    }
    const known = new Set(["item_id", "title", "seller_id", "description", "images", "brand", "price", "currency",
      "category", "reference", "attributes"]);
    for (const [name, value] of Object.entries(item)) {
      if (!known.has(name)) add(name, typeof value === "object" ? JSON.stringify(value) : String(value));
    }
    return rows;
  }

  function sellerLink(sellerId) {
    return el("button", { type: "button", class: "link seller", "data-seller": sellerId,
      onclick: () => go("account", sellerId), text: sellerId });
  }

  function scoreBar(name, value) {
    const fill = el("span", { class: "fill" });
    fill.style.width = `${Math.round(Math.max(0, Math.min(1, value)) * 100)}%`;
    return el("div", { class: `score-row signal-${name}` },
      el("span", { class: "label", text: name }),
      el("span", { class: "track" }, fill),
      el("span", { class: "value", text: fmt(value) }));
  }

  // Which pictures the image evidence compared ("picture 2 vs picture 1"), else the first ones.
  function matchedPictures(neighbour) {
    for (const line of neighbour.evidence || []) {
      const m = /picture (\d+) vs picture (\d+)/.exec(line);
      if (m) return [Number(m[1]) - 1, Number(m[2]) - 1];
    }
    return [0, 0];
  }

  // A frame of an item's video at a time (seconds).
  function videoFrame(itemId, n, t, label) {
    return fetchedPicture(`/v1/items/${encodeURIComponent(itemId)}/videos/${n}/frame?t=${t}&size=240`, label,
      { alt: label }, () => "frame unavailable");
  }

  // A video match: the matching keyframes of the two listings' videos side by side, with their
  // time codes (GET /v1/items/{a}/videos/match/{b}).
  function videoKeyframes(queryId, otherId) {
    const box = el("div", { class: "keyframes loading" }, el("span", { class: "muted small", text: "video frames…" }));
    const token = viewToken;
    api(`/v1/items/${encodeURIComponent(queryId)}/videos/match/${encodeURIComponent(otherId)}`)
      .then((m) => {
        if (token !== viewToken) return;
        box.classList.remove("loading");
        box.replaceChildren(el("div", { class: "muted small", text: `video: ${m.summary}` }),
          ...m.keyframes.map((k) => el("figure", { class: "keyframe" },
            el("div", { class: "pair" },
              videoFrame(queryId, m.video_a, k.time_a, `${queryId}, video ${m.video_a + 1} at ${k.clock_a}`),
              videoFrame(otherId, m.video_b, k.time_b, `${otherId}, video ${m.video_b + 1} at ${k.clock_b}`)),
            el("figcaption", { class: "small", text: `${k.clock_a} ↔ ${k.clock_b} · ${k.how} · ${fmt(k.score)}` }))));
      })
      .catch((err) => {
        box.classList.remove("loading");
        box.replaceChildren(el("span", { class: "muted small", text: `video frames unavailable: ${err.message}` }));
      });
    return box;
  }

  // The other listing's title, price and brand under its card, filled in after the view is shown.
  function listingFacts(itemId) {
    const facts = el("div", { class: "facts small", "data-item": itemId });
    const token = viewToken;
    api(`/v1/items/${encodeURIComponent(itemId)}`).then((d) => {
      if (token !== viewToken) return;
      const item = d.item;
      const price = item.price === undefined || item.price === null ? null : `${item.price} ${item.currency || ""}`.trim();
      facts.replaceChildren(el("div", { class: "title", text: item.title || "(no title)" }),
        el("div", { class: "muted", text: [price, item.brand, item.category].filter(Boolean).join(" · ") }));
    }).catch(() => facts.remove());
    return facts;
  }

  function neighbourCard(query, neighbour, counterfeitOf, verdict) {
    const [qn, nn] = matchedPictures(neighbour);
    const relLabel = RELATIONS[neighbour.relation] || neighbour.relation;
    const fake = counterfeitOf.get(neighbour.item_id);
    const queryHasPicture = (query.images || []).length > 0;
    const bars = el("div", { class: "bars" }, scoreBar("score", neighbour.score),
      ...Object.entries(neighbour.signals).map(([name, value]) => scoreBar(name, value)));
    return el("article", { class: `neighbour rel-${neighbour.relation}`, "data-item": neighbour.item_id },
      el("div", { class: "pair" },
        queryHasPicture ? picture(query.item_id, qn, `query ${query.item_id}, picture ${qn + 1}`)
          : el("div", { class: "pic missing" }, el("span", { text: "no picture" })),
        el("button", { type: "button", class: "pivot-pic", title: `open ${neighbour.item_id}`,
          onclick: () => go("item", neighbour.item_id) },
        picture(neighbour.item_id, nn, `${neighbour.item_id}, picture ${nn + 1}`))),
      el("div", { class: "head" },
        el("button", { type: "button", class: "link item-link", onclick: () => go("item", neighbour.item_id),
          text: neighbour.item_id }),
        el("span", { class: `badge rel rel-${neighbour.relation}`, text: relLabel }),
        fake ? el("span", { class: "badge rel rel-counterfeit_suspect", title: "this listing is a suspected counterfeit of that reference",
          text: "counterfeit suspect" }) : null,
        neighbour.match ? el("span", { class: "badge match", text: "match" }) : null,
        el("a", { class: "compare-link small", href: `#/compare/${encodeURIComponent(query.item_id)}/${encodeURIComponent(neighbour.item_id)}`,
          text: "compare" })),
      el("div", { class: "muted small" }, "seller ", sellerLink(neighbour.seller_id)),
      listingFacts(neighbour.item_id),
      bars,
      el("ul", { class: "evidence" }, (neighbour.evidence || []).map((line) => el("li", { text: line }))),
      neighbour.signals.video !== undefined ? videoKeyframes(query.item_id, neighbour.item_id) : null,
      verdictBar("pair", [query.item_id, neighbour.item_id], verdict));
  }

  // The duplicate group holding the item: its members side by side, the group's evidence, and one
  // verdict bar for the whole group (kind "group", ids its members).
  const GROUP_KINDS = { same_seller_relisting: "same-seller re-listing", cross_seller_copy: "cross-seller copy" };

  function groupCard(itemId, answer) {
    const group = answer.group;
    const member = (m) => el("article", { class: `listing group-member${m.item_id === itemId ? " this" : ""}`,
      "data-item": m.item_id },
    m.images ? el("button", { type: "button", class: "pivot-pic", title: `open ${m.item_id}`,
      onclick: () => go("item", m.item_id) }, picture(m.item_id, 0, m.title))
      : el("div", { class: "pic missing" }, el("span", { text: "no picture" })),
    el("div", { class: "head" }, el("button", { type: "button", class: "link item-link", onclick: () => go("item", m.item_id),
      text: m.item_id }), m.item_id === itemId ? el("span", { class: "badge", text: "this listing" }) : null),
    el("div", { class: "muted small" }, "seller ", sellerLink(m.seller_id)),
    el("div", { class: "small", text: m.title || "(no title)" }),
    m.score === null ? null : scoreBar("score", m.score));
    return el("section", { class: `card group-card${answer.match ? "" : " not-match"}`, id: "dup-group",
      "data-group": group.group_id },
    el("div", { class: "head" }, el("h3", { text: `Duplicate group (${group.members.length} listings)` }),
      el("span", { class: `badge rel rel-${group.kind === "cross_seller_copy" ? "cross_seller_copy" : "same_seller_duplicate"}`,
        text: GROUP_KINDS[group.kind] || group.kind }),
      answer.match ? el("span", { class: "badge match", text: "match" }) : null,
      el("span", { class: "muted small", text: `mean score ${fmt(group.score)} · ${group.group_id}` })),
    answer.truncated ? el("p", { class: "muted small",
      text: `grown to its first ${answer.max_members} listings; more listings link to it` }) : null,
    el("div", { class: "grid small-grid" }, answer.members.map(member)),
    el("ul", { class: "evidence" }, group.evidence.map((line) => el("li", { text: line }))),
    verdictBar("group", group.members, group.verdict));
  }

  // The item's counterfeit card and duplicate group from the findings queue (already computed and
  // kept current), instead of a neighbour search per reference and a group grown live (1.6-2.3 s).
  const GROUP_FINDINGS = { cross_seller_copy: "cross_seller_copy", relisting: "same_seller_relisting" };

  function counterfeitOfFindings(itemId, findings) {
    const mine = findings.filter((f) => f.kind === "counterfeit" && f.items[0] === itemId && f.status !== "rejected");
    const verdicts = {};
    for (const f of mine) if (f.verdict) verdicts[f.items[1]] = f.verdict;
    return { item_id: itemId, suspect: mine.length > 0, verdicts,
      suspects: mine.map((f) => ({ item_id: itemId, reference_item_id: f.items[1], brand: f.brand, score: f.score,
        seller_id: f.sellers[0], evidence: f.evidence, finding_id: f.finding_id })) };
  }

  async function groupOfFindings(itemId, findings) {
    const groups = findings.filter((f) => GROUP_FINDINGS[f.kind] && f.items.includes(itemId))
      .sort((a, b) => b.items.length - a.items.length);
    if (!groups.length) return { item_id: itemId, group: null };
    const f = groups[0];
    const order = [itemId, ...f.items.filter((i) => i !== itemId)];
    const items = await Promise.all(order.map((i) => api(`/v1/items/${encodeURIComponent(i)}`).then((d) => d.item)));
    return { item_id: itemId, match: f.status !== "rejected", truncated: false, max_members: f.items.length,
      group: { group_id: f.finding_id, members: f.review ? f.review.ids : f.items, kind: GROUP_FINDINGS[f.kind],
        score: f.score, evidence: f.evidence, verdict: f.verdict },
      members: items.map((item) => ({ item_id: item.item_id, seller_id: item.seller_id, title: item.title,
        images: (item.images || []).length, score: null })) };
  }

  async function itemView(view, itemId, options = {}) {
    const k = options.k || Number(sessionStorage.getItem("simgov.k") || 10);
    const token = viewToken;
    const path = `/v1/items/${encodeURIComponent(itemId)}`;
    const optional = (request) => request.catch((err) => (err.status === 401 ? Promise.reject(err) : { error: err.message }));
    const [detail, similar, found] = await Promise.all([
      api(path), api(`${path}/similar?k=${k}`),
      optional(api(`/v1/findings?item_id=${encodeURIComponent(itemId)}&limit=50`)),
    ]);
    let counterfeit;
    let group;
    if (found.error) { // the findings are not computed yet: ask the detectors (slower)
      [counterfeit, group] = await Promise.all([optional(api(`${path}/counterfeit`)), optional(api(`${path}/group`))]);
    } else {
      counterfeit = counterfeitOfFindings(itemId, found.findings);
      group = await groupOfFindings(itemId, found.findings);
    }
    if (token !== viewToken) return;
    // reference listings this item is a suspected counterfeit of
    const counterfeitOf = new Map((counterfeit.suspects || []).map((s) => [s.reference_item_id, s]));
    const item = detail.item;
    view.replaceChildren();

    const pictures = el("div", { class: "pictures" },
      (item.images || []).map((_, n) => picture(item.item_id, n, `picture ${n + 1}`)));
    if (!(item.images || []).length) pictures.append(el("p", { class: "muted", text: "no pictures" }));
    const fields = el("table", { class: "fields" },
      fieldRows(item).map(([name, value]) => el("tr", {}, el("th", { text: name }), el("td", { text: value }))));
    const problems = detail.problems.length
      ? el("ul", { class: "problems" }, detail.problems.map((p) => el("li", { text: `${p.signal}: ${p.problem}` })))
      : null;
    view.append(el("section", { class: "card item", id: "item-card", "data-item": item.item_id },
      el("div", { class: "item-head" },
        el("h2", { text: item.title || "(no title)" }),
        el("div", { class: "muted" }, el("code", { text: item.item_id }), " · seller ", sellerLink(item.seller_id),
          " · signals: ", Object.keys(detail.signals).join(", ") || "none")),
      pictures,
      el("div", { class: "item-body" }, fields,
        item.description ? el("p", { class: "description", text: item.description }) : null, problems)));
    if ((detail.bank_hits || []).length) {
      view.append(el("section", { class: "card notice bank-hits", id: "bank-hits" },
        el("strong", { text: "Matches a known-bad bank" }),
        el("ul", { class: "evidence" }, detail.bank_hits.map((h) => el("li", { text: `[${h.bank}] ${h.detail}` })))));
    }

    if (counterfeit.suspect) {
      view.append(el("section", { class: "card notice bad", id: "counterfeit" },
        el("strong", { text: "Counterfeit suspect" }),
        (counterfeit.suspects || []).map((s) => el("div", {},
          " of reference ", el("button", { type: "button", class: "link", onclick: () => go("item", s.reference_item_id),
            text: s.reference_item_id }),
          ` (${s.brand || "brand unknown"}, score ${fmt(s.score)}` +
            (s.price_ratio === null || s.price_ratio === undefined ? ")" : `, priced at ${Math.round(s.price_ratio * 100)}% of it)`),
          el("ul", { class: "evidence" }, s.evidence.map((line) => el("li", { text: line }))),
          verdictBar("counterfeit", [item.item_id, s.reference_item_id], (counterfeit.verdicts || {})[s.reference_item_id])))));
    } else if (counterfeit.error) {
      view.append(el("p", { class: "muted small", text: `counterfeit check unavailable: ${counterfeit.error}` }));
    }

    if (group.group) view.append(groupCard(item.item_id, group));
    else {
      view.append(el("p", { class: "muted small", id: "dup-group-none",
        text: group.error ? `duplicate group unavailable: ${group.error}` : "not in a duplicate group" }));
    }

    const kSelect = el("select", { "aria-label": "neighbours", onchange: (e) => {
      sessionStorage.setItem("simgov.k", e.target.value);
      route();
    } }, [5, 10, 20, 50, 100].map((n) => el("option", { value: n, selected: n === k, text: `${n} neighbours` })));
    const grid = el("div", { class: "grid", id: "neighbours" },
      similar.neighbours.map((n) => neighbourCard(item, n, counterfeitOf, (similar.verdicts || {})[n.item_id])));
    view.append(el("section", { class: "neighbours" },
      el("div", { class: "section-head" }, el("h3", { text: `Nearest listings (${similar.neighbours.length})` }),
        kSelect),
      similar.neighbours.length ? grid : el("p", { class: "muted", text: "no neighbours found" })));

    setCase(`item ${item.item_id}: ${similar.neighbours.length} neighbours`,
      { kind: "item", item_id: item.item_id, item, signals: detail.signals, problems: detail.problems,
        counterfeit, group, neighbours: similar.neighbours, verdicts: similar.verdicts || {} });
  }

  // -- account view ---------------------------------------------------------------------------
  function graph(accountId, linked) {
    const size = 360;
    const c = size / 2;
    const radius = linked.length ? 130 : 0;
    const nodes = linked.map((link, i) => {
      const angle = (2 * Math.PI * i) / linked.length - Math.PI / 2;
      return { id: link.account_id, x: c + radius * Math.cos(angle), y: c + radius * Math.sin(angle), link };
    });
    const root = svg("svg", { viewBox: `0 0 ${size} ${size}`, class: "graph", role: "img",
      "aria-label": `accounts linked to ${accountId}` });
    for (const node of nodes) {
      root.append(svg("line", { x1: c, y1: c, x2: node.x, y2: node.y,
        class: node.link.ring ? "edge ring" : node.link.match ? "edge match" : "edge",
        "stroke-width": node.link.ring ? 2 : 1 + 5 * node.link.score }));
      root.append(svg("text", { x: (c + node.x) / 2, y: (c + node.y) / 2 - 4, class: "edge-label",
        "text-anchor": "middle", text: node.link.ring ? "same ring" : fmt(node.link.score) }));
    }
    const nodeGroup = (id, x, y, centre) => svg("g", { class: centre ? "node centre" : "node",
      onclick: centre ? undefined : () => go("account", id) },
    svg("circle", { cx: x, cy: y, r: centre ? 22 : 16 }),
    svg("text", { x, y: y + (centre ? 36 : 30), "text-anchor": "middle", text: id.length > 18 ? `${id.slice(0, 17)}…` : id }));
    for (const node of nodes) root.append(nodeGroup(node.id, node.x, node.y, false));
    root.append(nodeGroup(accountId, c, c, true));
    return root;
  }

  // The account, its risk and its listings are shown at once; its linked accounts follow when
  // they are scored (a listing-overlap search per listing of the account: seconds on the demo).
  async function accountView(view, accountId) {
    const token = viewToken;
    const started = performance.now();
    const [listings, risk] = await Promise.all([api(`/v1/accounts/${encodeURIComponent(accountId)}/items?limit=60`),
      api(`/v1/sellers/${encodeURIComponent(accountId)}/risk`).catch((err) => (err.status === 401 ? Promise.reject(err) : null))]);
    if (token !== viewToken) return;
    view.replaceChildren();
    view.append(el("section", { class: "card account", id: "account-card" },
      el("h2", {}, "Account ", el("code", { text: accountId })),
      el("p", { class: "muted", text: `${listings.items.length}${listings.truncated ? "+" : ""} live listings` })));
    if (risk) view.append(window.simgovWorkbench.riskCard(risk));
    const linkedSection = el("section", { class: "linked" }, el("h3", { text: "Linked accounts" }),
      el("p", { class: "muted pending-links", text: "scoring linked accounts…" }));
    view.append(linkedSection);
    view.append(el("section", { class: "listings" }, el("h3", { text: "Listings" }),
      el("div", { class: "grid small-grid" }, listings.items.map((item) => el("article", { class: "listing", "data-item": item.item_id },
        item.images && item.images.length ? el("button", { type: "button", class: "pivot-pic", onclick: () => go("item", item.item_id) },
          picture(item.item_id, 0, item.title)) : el("div", { class: "pic missing" }, el("span", { text: "no picture" })),
        el("button", { type: "button", class: "link item-link", onclick: () => go("item", item.item_id), text: item.item_id }),
        el("div", { class: "small", text: item.title }))))));
    const caseData = { kind: "account", account_id: accountId, risk, items: listings.items, linked: null, linked_error: null };
    setCase(`account ${accountId}`, caseData);
    linkedAccounts(accountId, linkedSection, caseData, token, started, risk ? risk.linked_accounts : []);
  }

  // `ring`: the other members of the account's rings; those no direct link reaches are drawn too
  // (dashed), so that the graph shows the whole ring, not one hop.
  async function linkedAccounts(accountId, section, caseData, token, started, ring) {
    let linked = null;
    try {
      linked = await api(`/v1/accounts/${encodeURIComponent(accountId)}/linked`);
    } catch (err) {
      if (token !== viewToken) return;
      section.querySelector(".pending-links").remove();
      showError(section, err);
      caseData.linked_error = err.message;
      return;
    }
    if (token !== viewToken) return;
    section.querySelector(".pending-links").remove();
    const linkVerdicts = linked.verdicts || {};
    const linkCard = (link) => el("article", { class: "card link-card", "data-account": link.account_id },
      el("div", { class: "head" }, el("button", { type: "button", class: "link", onclick: () => go("account", link.account_id),
        text: link.account_id }), link.match ? el("span", { class: "badge match", text: "linked" }) : null),
      scoreBar("score", link.score),
      el("ul", { class: "evidence" }, link.evidence.map((e) => el("li", {},
        el("span", { class: "badge kind", text: e.kind }), ` ${e.detail} (${fmt(e.score)})`))),
      verdictBar("link", [accountId, link.account_id], linkVerdicts[link.account_id]));
    // the graph and the cards show the links; weak candidates stay folded away
    const strong = linked.linked.filter((l) => l.match || l.score >= WEAK_LINK);
    const weak = linked.linked.filter((l) => !strong.includes(l));
    const reached = new Set(strong.map((l) => l.account_id));
    const rest = ring.filter((a) => !reached.has(a)).map((a) => ({ account_id: a, score: 0, match: false, ring: true }));
    section.append(strong.length || rest.length
      ? el("div", { class: "linked-body" }, graph(accountId, [...strong, ...rest]),
        el("div", { class: "links" }, strong.map(linkCard)))
      : el("p", { class: "muted", text: "no linked accounts found" }));
    if (weak.length) {
      section.append(el("details", { class: "weak" },
        el("summary", { text: `${weak.length} other candidate${weak.length > 1 ? "s" : ""}, not linked` }),
        el("div", { class: "links" }, weak.map(linkCard))));
    }
    caseData.linked = linked.linked;
    caseData.link_verdicts = linked.verdicts || {};
    section.dataset.loaded = "true";
    $("view").dataset.linkedMs = String(Math.round(performance.now() - started));
  }

  // -- export ---------------------------------------------------------------------------------
  function download(name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = el("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // RFC 4180 quoting, and a leading quote on cells a spreadsheet would run as a formula.
  function csvCell(value) {
    let text = value === null || value === undefined ? "" : String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function caseRows(c) {
    if (c.kind === "queue") {
      return [["finding_id", "kind", "severity", "score", "status", "items", "accounts", "sellers", "summary", "verdict", "evidence"],
        ...c.findings.map((f) => [f.finding_id, f.kind, f.severity, f.score, f.status, f.items.join(" "), f.accounts.join(" "),
          f.sellers.join(" "), f.summary, f.verdict ? verdictText(f.verdict, f.decided_by) : "", f.evidence.join(" | ")])];
    }
    if (c.kind === "sellers") {
      return [["seller_id", "risk", "listings", "flagged_listings", "reasons"],
        ...c.sellers.map((r) => [r.seller_id, r.risk, r.counts.listings || 0, r.counts.flagged_listings || 0,
          r.reasons.map((x) => `${x.kind}: ${x.detail} (${x.weight})`).join(" | ")])];
    }
    if (c.kind === "compare") {
      return [["field", c.item_id, c.other_item_id], ...["title", "seller_id", "brand", "price", "currency", "category"]
        .map((f) => [f, c.a[f] ?? "", c.b[f] ?? ""]),
      ...Object.entries((c.pair && c.pair.signals) || {}).map(([name, v]) => [`signal_${name}`, v, ""])];
    }
    if (c.kind === "search") {
      return [["item_id", "seller_id", "score", "match", "relation"],
        ...c.neighbours.map((n) => [n.item_id, n.seller_id, n.score, n.match, n.relation])];
    }
    if (c.kind === "item") {
      const signals = [...new Set(c.neighbours.flatMap((n) => Object.keys(n.signals)))].sort();
      const header = ["query_item_id", "item_id", "seller_id", "score", "match", "relation",
        ...signals.map((s) => `signal_${s}`), "verdict", "evidence"];
      const verdicts = c.verdicts || {};
      return [header, ...c.neighbours.map((n) => [c.item_id, n.item_id, n.seller_id, n.score, n.match, n.relation,
        ...signals.map((s) => n.signals[s] ?? ""), verdicts[n.item_id] ? verdictText(verdicts[n.item_id]) : "",
        (n.evidence || []).join(" | ")])];
    }
    const header = ["account_id", "linked_account_id", "score", "match", "verdict", "evidence"];
    const verdicts = c.link_verdicts || {};
    return [header, ...(c.linked || []).map((l) => [c.account_id, l.account_id, l.score, l.match,
      verdicts[l.account_id] ? verdictText(verdicts[l.account_id]) : "",
      l.evidence.map((e) => `${e.kind}: ${e.detail} (${e.score})`).join(" | ")])];
  }

  function exportCase(format) {
    if (!currentCase) return;
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const id = currentCase.item_id || currentCase.account_id || "list";
    const base = `simgov-${currentCase.kind}-${id.replace(/[^A-Za-z0-9._-]/g, "_")}-${stamp}`;
    if (format === "json") {
      const data = { exported_at: new Date().toISOString(), ...currentCase };
      download(`${base}.json`, "application/json", JSON.stringify(data, null, 2));
    } else {
      download(`${base}.csv`, "text/csv", caseRows(currentCase).map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n");
    }
  }

  // What workbench.js (the findings queue, sellers by risk, search, comparison) builds on.
  window.simgovConsole = Object.freeze({ $, el, api, ApiError, picture, go, route, fieldRows, scoreBar, setCase,
    sellerLink, verdictText, fmt, REASONS, REASON_STORE, token: () => viewToken });

  // -- wiring ---------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    $("key-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const key = $("key-input").value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY_STORE, key);
      $("key-input").value = "";
      $("key-error").hidden = true;
      showKeyState();
      route();
    });
    $("forget-key").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_STORE);
      resetView();
      $("view").replaceChildren();
      showKeyState();
    });
    $("lookup").addEventListener("submit", (e) => {
      e.preventDefault();
      const id = $("lookup-id").value.trim();
      if (id) go($("lookup-kind").value, id);
    });
    $("export-json").addEventListener("click", () => exportCase("json"));
    $("export-csv").addEventListener("click", () => exportCase("csv"));
    window.addEventListener("hashchange", route);
    showKeyState();
    route();
  });
})();
