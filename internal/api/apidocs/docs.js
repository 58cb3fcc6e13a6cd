// Renders CareCircle's OpenAPI document as a readable page: routes grouped
// by tag, each with its parameters, body and responses, and the schemas.
"use strict";

(function () {
  const methods = ["get", "post", "put", "patch", "delete"];

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  // deref follows a local reference ("#/components/...") of the document.
  let root = {};
  function deref(o) {
    if (!o || typeof o.$ref !== "string" || !o.$ref.startsWith("#/")) return o;
    let v = root;
    for (const part of o.$ref.slice(2).split("/")) {
      v = v && v[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    return v || o;
  }

  function refName(ref) {
    return ref.slice(ref.lastIndexOf("/") + 1);
  }

  // typeOf describes a schema in one line, linking named schemas.
  function typeOf(s) {
    if (!s || Object.keys(s).length === 0) return el("span", { class: "type" }, "any");
    if (s.$ref) return el("a", { href: "#schema-" + refName(s.$ref), class: "ref" }, refName(s.$ref));
    const alts = s.anyOf || s.oneOf;
    if (alts) {
      const span = el("span", { class: "type" });
      alts.forEach((a, i) => {
        if (i > 0) span.append(" or ");
        span.append(typeOf(a));
      });
      return span;
    }
    if (s.allOf) {
      const span = el("span", { class: "type" });
      s.allOf.forEach((a, i) => {
        if (i > 0) span.append(" and ");
        span.append(typeOf(a));
      });
      return span;
    }
    const types = Array.isArray(s.type) ? s.type : [s.type || (s.properties ? "object" : "any")];
    const span = el("span", { class: "type" });
    types.forEach((t, i) => {
      if (i > 0) span.append(" or ");
      if (t === "array") {
        span.append("array of ", typeOf(s.items));
      } else {
        span.append(t + (s.format && t !== "null" ? " (" + s.format + ")" : ""));
      }
    });
    if (s.enum) span.append(": " + s.enum.map((v) => JSON.stringify(v)).join(" | "));
    if (s.const !== undefined) span.append(" = " + JSON.stringify(s.const));
    return span;
  }

  // schemaBlock shows an object's properties, or the schema's one line.
  function schemaBlock(s) {
    if (!s) return null;
    if (s.type === "object" && s.properties) {
      const required = new Set(s.required || []);
      const list = el("dl", { class: "props" });
      for (const [name, p] of Object.entries(s.properties)) {
        list.append(el("dt", {}, el("code", {}, name), required.has(name) ? el("span", { class: "req" }, " required") : null));
        list.append(el("dd", {}, typeOf(p), p.description ? el("span", { class: "desc" }, " — " + p.description) : null));
      }
      return list;
    }
    if (s.allOf) {
      const div = el("div", {});
      s.allOf.forEach((part) => div.append(part.$ref ? el("p", {}, "All of ", typeOf(part)) : schemaBlock(part)));
      return div;
    }
    return el("p", {}, typeOf(s));
  }

  function content(c) {
    if (!c) return null;
    const div = el("div", {});
    for (const [media, m] of Object.entries(c)) {
      div.append(el("p", { class: "media" }, media));
      div.append(schemaBlock(m.schema));
    }
    return div;
  }

  function operation(path, method, op, pathParams) {
    const id = "op-" + method + "-" + path.replace(/[^a-zA-Z0-9]+/g, "-");
    const sec = el("section", { class: "op", id: id, "data-text": (method + " " + path + " " + (op.summary || "") + " " + (op.description || "")).toLowerCase() });
    sec.append(el("h3", {}, el("span", { class: "method " + method }, method.toUpperCase()), " ", el("code", {}, path)));
    if (op.summary) sec.append(el("p", { class: "summary" }, op.summary));
    if (op.description) sec.append(el("p", { class: "description" }, op.description));
    const params = [...(pathParams || []), ...(op.parameters || [])].map(deref);
    if (params.length) {
      const t = el("table", {}, el("tr", {}, el("th", {}, "Parameter"), el("th", {}, "In"), el("th", {}, "Type"), el("th", {}, "")));
      for (const p of params) {
        t.append(el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in), el("td", {}, typeOf(p.schema)),
          el("td", {}, (p.required ? "required. " : "") + (p.description || ""))));
      }
      sec.append(t);
    }
    const body = deref(op.requestBody);
    if (body) {
      sec.append(el("h4", {}, "Body" + (body.required ? "" : " (optional)")));
      if (body.description) sec.append(el("p", {}, body.description));
      sec.append(content(body.content));
    }
    sec.append(el("h4", {}, "Responses"));
    for (const [code, ref] of Object.entries(op.responses || {})) {
      const r = deref(ref);
      const div = el("div", { class: "response" }, el("p", {}, el("strong", {}, code), " ", r.description || ""));
      div.append(content(r.content));
      sec.append(div);
    }
    return sec;
  }

  function render(doc) {
    root = doc;
    const main = document.getElementById("doc");
    const nav = document.getElementById("tags");
    main.textContent = "";
    if (doc.info && doc.info.description) main.append(el("p", { class: "intro" }, doc.info.description));
    const groups = new Map();
    for (const [path, item] of Object.entries(doc.paths || {})) {
      for (const m of methods) {
        const op = item[m];
        if (!op) continue;
        const tag = (op.tags && op.tags[0]) || "other";
        if (!groups.has(tag)) groups.set(tag, []);
        groups.get(tag).push(operation(path, m, op, item.parameters));
      }
    }
    const tags = (doc.tags || []).map((t) => t.name).filter((t) => groups.has(t));
    for (const t of groups.keys()) if (!tags.includes(t)) tags.push(t);
    for (const t of tags) {
      const id = "tag-" + t.replace(/[^a-zA-Z0-9]+/g, "-");
      nav.append(el("a", { href: "#" + id }, t), " ");
      const sec = el("section", { class: "tag", id: id }, el("h2", {}, t));
      groups.get(t).forEach((s) => sec.append(s));
      main.append(sec);
    }
    const schemas = (doc.components && doc.components.schemas) || {};
    nav.append(el("a", { href: "#schemas" }, "Schemas"));
    const sec = el("section", { class: "tag", id: "schemas" }, el("h2", {}, "Schemas"));
    for (const [name, s] of Object.entries(schemas)) {
      const div = el("section", { class: "schema", id: "schema-" + name }, el("h3", {}, name));
      if (s.description) div.append(el("p", {}, s.description));
      div.append(schemaBlock(s));
      sec.append(div);
    }
    main.append(sec);
  }

  function filter(q) {
    q = q.trim().toLowerCase();
    for (const s of document.querySelectorAll("section.op")) {
      s.hidden = q !== "" && !s.dataset.text.includes(q);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const link = document.getElementById("openapi");
    document.getElementById("filter").addEventListener("input", (e) => filter(e.target.value));
    fetch(link.href, { credentials: "same-origin" })
      .then((r) => {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(render)
      .catch((err) => {
        document.getElementById("doc").textContent = "The document could not be loaded: " + err.message;
      });
  });
})();
