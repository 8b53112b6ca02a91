// The API reference page: every operation of /openapi.json with its parameters and roles, built with
// createElement and textContent only (strict CSP, nothing parsed as HTML).
"use strict";

(() => {
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function operation(path, method, op) {
    const params = (op.parameters || []).map((p) => el("li", {}, el("code", { text: p.name }),
      ` (${p.in}${p.required ? ", required" : ""}) ${p.description || (p.schema && p.schema.description) || ""}`));
    const body = op.requestBody ? el("li", {}, "body: ", Object.keys(op.requestBody.content || {}).join(", ")) : null;
    return el("article", { class: "card operation", "data-path": path },
      el("div", { class: "head" }, el("span", { class: "badge kind", text: method.toUpperCase() }), el("code", { text: path }),
        el("span", { class: "muted small", text: (op.tags || []).join(", ") })),
      el("p", { class: "small", text: op.description || op.summary || "" }),
      params.length || body ? el("ul", { class: "evidence" }, params, body) : null);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const first = document.getElementById("first-call");
    first.textContent = first.textContent.replace("ORIGIN", location.origin);
    const target = document.getElementById("operations");
    try {
      const spec = await (await fetch("/openapi.json")).json();
      target.replaceChildren(...Object.entries(spec.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => operation(path, method, op))));
    } catch (err) {
      target.replaceChildren(el("p", { class: "error", text: `the spec could not be read: ${err.message}` }));
    }
  });
})();
