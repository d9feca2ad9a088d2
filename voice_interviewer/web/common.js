// What every page of the web client shares: the access token on API paths, JSON fetches that
// surface the server's error message, and DOM building that only ever sets text, never markup.
"use strict";

window.vi = (() => {
  const token = new URLSearchParams(location.search).get("token");

  function withToken(path) {
    return token ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : path;
  }

  async function getJson(path) {
    const r = await fetch(withToken(path), { cache: "no-store" });
    if (!r.ok) {
      let message = `${r.status} ${r.statusText}`;
      try { message = (await r.json()).error.message; } catch (e) { /* keep the status line */ }
      throw new Error(message);
    }
    return r.json();
  }

  // props: "class", "text" (textContent), "on<event>" handlers, anything else an attribute.
  // Children: nodes, or values shown as text; null, undefined and false are left out.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  return { token, withToken, getJson, el };
})();
