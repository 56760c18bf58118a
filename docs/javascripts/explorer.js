// "Explore the embedding space": nearest tokens, WordPiece splits, the similarity of two
// words and a 2-D map, from the data that hooks/explorer.py writes at build time
// (bertsteps/explorer.py describes the files). Plain JavaScript, no request outside the site.
// Material's instant navigation swaps pages without reloading: the page is set up again
// on every document$ emission, and the data is fetched once per page load, after the
// page's first paint. This script is only on the explorer's page (hooks/pageassets.py),
// inside the content that instant navigation swaps, so it may run more than once: the
// first run sets everything up.
(() => {
  "use strict";
  if (window.bertstepsExplorerScript) return;
  window.bertstepsExplorerScript = true;

  const ROOT_ID = "bertsteps-explorer";
  const SUGGESTIONS = 8;

  // The site's base URL, resolved once against the page this script was loaded on.
  const ASSETS = (() => {
    let base = "..";
    const config = document.getElementById("__config");
    if (config) {
      try { base = JSON.parse(config.textContent).base || base; } catch (err) { /* keep the default */ }
    }
    return new URL(base.replace(/\/?$/, "/") + "assets/explorer/", location.href).href;
  })();

  // ---------------------------------------------------------------------------------------
  // Data: fetched once, kept for later pages

  let core = null; // Promise of {manifest, tokens, ids, neighbours, scores, coords}
  let codes = null; // Promise of Uint8Array (the 2-bit rows), fetched when first needed

  async function fetchOk(name) {
    const response = await fetch(ASSETS + name);
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
    return response;
  }

  async function fetchArray(manifest, name) {
    const spec = manifest.files[name];
    const buffer = await (await fetchOk(spec.file)).arrayBuffer();
    if (buffer.byteLength !== spec.bytes) throw new Error(`${spec.file}: ${buffer.byteLength} bytes, expected ${spec.bytes}`);
    const types = { uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, float16: Uint16Array, float32: Float32Array };
    const array = new types[spec.dtype](buffer); // little-endian, like every browser's typed arrays
    return spec.dtype === "float16" ? halfToFloat(array) : array;
  }

  function halfToFloat(halves) {
    const out = new Float32Array(halves.length);
    for (let i = 0; i < halves.length; i++) {
      const h = halves[i];
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >> 10) & 0x1f;
      const frac = h & 0x3ff;
      out[i] = exp === 0 ? sign * frac * 2 ** -24
        : exp === 31 ? (frac ? NaN : sign * Infinity)
        : sign * (1 + frac / 1024) * 2 ** (exp - 15);
    }
    return out;
  }

  function loadCore() {
    if (!core) {
      core = (async () => {
        const manifest = await (await fetchOk("manifest.json")).json();
        const [tokens, neighbours, scores, coords] = await Promise.all([
          fetchOk(manifest.files.vocab.file).then((r) => r.json()),
          fetchArray(manifest, "neighbours"),
          fetchArray(manifest, "scores"),
          fetchArray(manifest, "coords"),
        ]);
        const ids = new Map(tokens.map((t, i) => [t, i]));
        const excluded = new Uint8Array(tokens.length);
        for (const i of manifest.excluded_ids) excluded[i] = 1;
        return { manifest, tokens, ids, neighbours, scores, coords, excluded, k: manifest.k };
      })();
      core.catch(() => { core = null; }); // a failed fetch may be retried on the next page visit
    }
    return core;
  }

  function loadCodes(data) {
    if (!codes) {
      codes = fetchArray(data.manifest, "codes");
      codes.catch(() => { codes = null; });
    }
    return codes;
  }

  // ---------------------------------------------------------------------------------------
  // The tokenizer: BERT's normaliser, pre-tokenizer and WordPiece, as the manifest describes them

  const PUNCT = /[\p{P}!-\/:-@\[-`{-~]/u;
  const CJK = /[\u4E00-\u9FFF\u3400-\u4DBF\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\uF900-\uFAFF\u{2F800}-\u{2FA1F}]/u;

  function normalise(text, settings) {
    let out = "";
    for (const ch of text) {
      if (ch === "\0" || ch === "\uFFFD" || (/\p{Cc}|\p{Cf}/u.test(ch) && !/\s/.test(ch))) continue;
      if (/\s/.test(ch)) out += " ";
      else if (CJK.test(ch)) out += ` ${ch} `;
      else out += ch;
    }
    if (settings.strip_accents) out = out.normalize("NFD").replace(/\p{Mn}/gu, "");
    if (settings.lowercase) out = out.toLowerCase();
    return out;
  }

  function preTokenize(text) {
    const words = [];
    for (const chunk of text.split(/\s+/)) {
      let word = "";
      for (const ch of chunk) {
        if (PUNCT.test(ch)) {
          if (word) words.push(word);
          words.push(ch);
          word = "";
        } else word += ch;
      }
      if (word) words.push(word);
    }
    return words;
  }

  function wordPiece(word, data) {
    const s = data.manifest.tokenizer;
    const chars = Array.from(word);
    if (chars.length > s.max_input_chars_per_word) return [s.unk_token];
    const pieces = [];
    for (let start = 0; start < chars.length;) {
      let end = chars.length;
      let piece = null;
      while (start < end) {
        const candidate = (start > 0 ? s.prefix : "") + chars.slice(start, end).join("");
        if (data.ids.has(candidate)) { piece = candidate; break; }
        end--;
      }
      if (piece === null) return [s.unk_token]; // no piece matches: the whole word is unknown
      pieces.push(piece);
      start = end;
    }
    return pieces;
  }

  // What a typed string is: a token of its own, or the pieces the tokenizer makes of it.
  function resolve(text, data) {
    const raw = text.trim();
    if (!raw) return { kind: "empty" };
    if (data.ids.has(raw)) return { kind: "token", id: data.ids.get(raw) }; // ##ing, [CLS], ...
    const s = data.manifest.tokenizer;
    const normal = normalise(raw, s).trim();
    if (data.ids.has(normal) && preTokenize(normal).length === 1) return { kind: "token", id: data.ids.get(normal) };
    if (!s.wordpiece) return { kind: "unknown", pieces: [] };
    const pieces = preTokenize(normal).flatMap((w) => wordPiece(w, data));
    if (pieces.length === 1 && pieces[0] !== s.unk_token) return { kind: "token", id: data.ids.get(pieces[0]) };
    if (pieces.length === 0 || pieces.every((p) => p === s.unk_token)) return { kind: "unknown", pieces };
    return { kind: "split", pieces };
  }

  // ---------------------------------------------------------------------------------------
  // Small helpers

  const fmt = (x, digits = 3) => (Object.is(Math.round(x * 10 ** digits), -0) ? 0 : x).toFixed(digits);
  const percent = (x) => `${(100 * x).toFixed(1)}%`;

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node[key] = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  const code = (text) => el("code", { text });

  function neighboursOf(data, id) {
    const k = data.k;
    const list = [];
    for (let j = 0; j < k; j++) list.push({ id: data.neighbours[id * k + j], score: data.scores[id * k + j] });
    return list;
  }

  function exactScore(data, a, b) {
    if (a === b) return 1;
    for (const [x, y] of [[a, b], [b, a]]) {
      for (const n of neighboursOf(data, x)) if (n.id === y) return n.score;
    }
    return null;
  }

  // One row of the 2-bit copy, decoded to the quantiser's levels.
  function decodeRow(data, rows, id) {
    const m = data.manifest.approximate;
    const width = m.padded_size / 4;
    const out = new Float64Array(m.padded_size);
    for (let i = 0; i < width; i++) {
      let x = rows[id * width + i];
      for (let s = 0; s < 4; s++, x >>= 2) out[4 * i + s] = m.levels[x & 3];
    }
    return out;
  }

  // The cosine of two words, each the mean of its pieces' unit-length rows (one piece: its
  // row), estimated from the 2-bit copy. Each decoded row q is scaled so that |q|^2 = g, the
  // quantiser's gain (q ~ g x + noise, |x| = 1, |noise|^2 = g - g^2). For a mean m of p rows,
  // <m_a, m_b> ~ g^2 <x_a, x_b> and |m|^2 ~ g^2 |x|^2 + (g - g^2) / p, which gives |x|.
  // For single tokens this is cos(q_a, q_b) / g, the estimate the build measured.
  function approximateMeanScore(data, rows, idsA, idsB) {
    const g = data.manifest.approximate.gain;
    const mean = (ids) => {
      const m = new Float64Array(data.manifest.approximate.padded_size);
      for (const id of ids) {
        const q = decodeRow(data, rows, id);
        const scale = Math.sqrt(g / q.reduce((t, v) => t + v * v, 0)) / ids.length;
        for (let i = 0; i < m.length; i++) m[i] += scale * q[i];
      }
      const sq = m.reduce((t, v) => t + v * v, 0);
      return { m, length: Math.sqrt(Math.max(1e-12, sq - (g - g * g) / ids.length)) / g };
    };
    const a = mean(idsA), b = mean(idsB);
    let dot = 0;
    for (let i = 0; i < a.m.length; i++) dot += a.m[i] * b.m[i];
    return Math.max(-1, Math.min(1, dot / (g * g * a.length * b.length)));
  }


  function sourceLine(data) {
    const m = data.manifest;
    const ratio = m.map.explained_variance_ratio;
    return [
      "Data from ", code(m.checkpoint),
      `: ${m.layers} layers, hidden size ${m.hidden_size}, ${m.vocab_size.toLocaleString("en")} tokens; `,
      `the ${m.k} nearest tokens of each were computed when this site was built.`,
    ].concat([
      ` Variance kept by the map: ${percent(ratio[0] + ratio[1])} (${percent(ratio[0])} along the first axis, ${percent(ratio[1])} along the second) `,
      `of the unit-length rows of the ${m.map.fitted_rows.toLocaleString("en")} tokens that can be neighbours.`,
    ]);
  }

  // ---------------------------------------------------------------------------------------
  // One explorer on one page

  class Explorer {
    constructor(root, data) {
      this.root = root;
      this.data = data;
      this.q = (name) => root.querySelector(`[data-bx="${name}"]`);
      this.query = null;
      this.active = -1;
      this.map = new MapView(this, this.q("map"), this.q("canvas"), this.q("tip"));
      this.q("source").replaceChildren(...sourceLine(data));
      this.wireSearch();
      this.wirePair();
      this.showFromHash();
    }

    destroy() { this.map.destroy(); }

    // -- search box and suggestions
    wireSearch() {
      const input = this.q("query");
      const list = this.q("suggestions");
      this.q("search-form").addEventListener("submit", (event) => {
        event.preventDefault();
        const option = list.hidden ? null : list.children[this.active];
        this.go(option ? option.dataset.token : input.value);
      });
      input.addEventListener("input", () => this.suggest(input.value));
      input.addEventListener("keydown", (event) => {
        if (list.hidden) return;
        const n = list.children.length;
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          this.highlight((this.active + (event.key === "ArrowDown" ? 1 : n - 1) + (this.active < 0 && event.key === "ArrowUp" ? 1 : 0)) % n);
        } else if (event.key === "Escape") this.closeSuggestions();
      });
      input.addEventListener("blur", () => setTimeout(() => this.closeSuggestions(), 150));
      list.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus in the box
      list.addEventListener("click", (event) => {
        const option = event.target.closest("[data-token]");
        if (option) this.go(option.dataset.token);
      });
    }

    suggest(text) {
      const list = this.q("suggestions");
      const typed = text.trim();
      if (!typed) return this.closeSuggestions();
      const s = this.data.manifest.tokenizer;
      const prefix = typed.startsWith(s.prefix) || typed.startsWith("[") ? typed : normalise(typed, s).trim();
      const pieces = prefix.startsWith(s.prefix);
      const exact = [], starts = [];
      this.data.tokens.forEach((token, id) => {
        if (!token.startsWith(prefix) || this.data.excluded[id] && !prefix.startsWith("[")) return;
        if (!pieces && token.startsWith(s.prefix)) return; // whole words first; ## pieces when asked for
        (token === prefix ? exact : starts).push(token);
      });
      const found = exact.concat(starts).slice(0, SUGGESTIONS); // ids follow the vocabulary's order
      if (!found.length) return this.closeSuggestions();
      list.replaceChildren(...found.map((token, i) => el("li", {
        id: `bx-option-${i}`, role: "option", "data-token": token, "aria-selected": "false", text: token,
      })));
      list.hidden = false;
      this.q("query").setAttribute("aria-expanded", "true");
      this.active = -1;
    }

    highlight(index) {
      const list = this.q("suggestions");
      [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
      this.active = index;
      this.q("query").setAttribute("aria-activedescendant", `bx-option-${index}`);
    }

    closeSuggestions() {
      const list = this.q("suggestions");
      list.hidden = true;
      list.replaceChildren();
      this.active = -1;
      const input = this.q("query");
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    // -- the query and the pair of words, kept in the URL's hash: #king or #king&a=cat&b=dog
    hashOf(query, pair) {
      const parts = [encodeURIComponent(query)];
      if (pair) parts.push(`a=${encodeURIComponent(pair[0])}`, `b=${encodeURIComponent(pair[1])}`);
      return "#" + parts.join("&");
    }

    parseHash() {
      const decode = (text) => { try { return decodeURIComponent(text); } catch (err) { return text; } };
      const [first, ...rest] = location.hash.slice(1).split("&");
      const params = new URLSearchParams(rest.join("&"));
      const pair = params.has("a") && params.has("b") ? [params.get("a"), params.get("b")] : null;
      return { query: decode(first || ""), pair };
    }

    // A new state: into the URL (back and forward work) and shown at once. pushState, not
    // location.hash: with Material's instant navigation a hash change re-renders the whole
    // page, and the explorer flashed empty while it set itself up again.
    navigate(query, pair) {
      const hash = this.hashOf(query, pair);
      if (location.hash !== hash) history.pushState(history.state, "", hash);
      this.showFromHash();
    }

    go(text) {
      this.closeSuggestions();
      const value = text.trim();
      if (!value) return;
      this.navigate(value, this.pair);
    }

    showFromHash() {
      let { query: text, pair } = this.parseHash();
      if (!text) {
        const ids = this.data.ids;
        text = ids.has("king") ? "king" : this.data.tokens.find((t, i) => !this.data.excluded[i] && /^\p{L}{3,}$/u.test(t)) || "";
      }
      this.show(text);
      this.pair = pair;
      if (pair) {
        this.q("pair-a").value = pair[0];
        this.q("pair-b").value = pair[1];
        this.compare(pair);
      } else this.clearPair();
    }

    // No query: the list, its title and the map's highlight go, so nothing stale is left.
    clearQuery() {
      this.query = null;
      delete this.root.dataset.query;
      this.q("neighbours-title").textContent = "Nearest tokens";
      this.q("neighbours").replaceChildren();
      this.map.focus(null);
    }

    show(text) {
      this.queryText = text;
      const input = this.q("query");
      if (document.activeElement !== input || input.value.trim() !== text) input.value = text;
      const result = resolve(text, this.data);
      const message = this.q("message");
      message.className = "bx-message";
      if (result.kind === "token") {
        message.replaceChildren();
        this.setQuery(result.id);
        return;
      }
      message.classList.add("bx-message--note");
      const s = this.data.manifest.tokenizer;
      if (result.kind === "split") {
        const first = result.pieces.find((p) => p !== s.unk_token && this.data.ids.has(p));
        message.replaceChildren(
          el("p", {}, "“", el("strong", { text }), `” is not a single token, so it has no row of its own in the embedding matrix. `,
            `The tokenizer splits it into ${result.pieces.length} pieces, and the model sees only those:`),
          this.pieceButtons(result.pieces),
          el("p", { class: "bx-hint" }, "Each piece has its own row. Below: the nearest tokens of the first piece, ",
            code(first || ""), "; pick another piece to follow it."),
        );
        if (first) this.setQuery(this.data.ids.get(first));
        else this.clearQuery();
      } else if (result.kind === "unknown") {
        this.clearQuery();
        message.replaceChildren(el("p", {},
          "“", el("strong", { text }), "” is not in the vocabulary",
          s.wordpiece ? ": WordPiece could not build it from the vocabulary's pieces (some part of it has no piece), so the tokenizer turns the whole word into " : ".",
          s.wordpiece ? code(s.unk_token) : "", s.wordpiece ? ", the row for anything unknown. Try another word." : ""));
      } else {
        this.clearQuery();
        message.replaceChildren();
      }
    }
    pieceButtons(pieces) {
      const s = this.data.manifest.tokenizer;
      return el("ul", { class: "bx-pieces" }, ...pieces.map((piece) => el("li", {},
        piece === s.unk_token || !this.data.ids.has(piece)
          ? code(piece)
          : el("button", { type: "button", class: "bx-piece", onclick: () => this.go(piece), text: piece }))));
    }

    setQuery(id) {
      const data = this.data;
      this.query = id;
      const token = data.tokens[id];
      this.q("neighbours-title").replaceChildren(`Nearest tokens to `, code(token));
      const items = neighboursOf(data, id).map((n, rank) => {
        const width = Math.max(0, n.score) * 100;
        const button = el("button", {
          type: "button", class: "bx-neighbour", "data-token": data.tokens[n.id], "data-score": String(n.score),
          title: `Show the nearest tokens to ${data.tokens[n.id]}`,
        },
        el("span", { class: "bx-rank", text: String(rank + 1) }),
        el("span", { class: "bx-token", text: data.tokens[n.id] }),
        el("span", { class: "bx-bar", "aria-hidden": "true" }, el("span", { style: `width:${width.toFixed(1)}%` })),
        el("span", { class: "bx-score", text: fmt(n.score) }));
        button.addEventListener("click", () => this.go(data.tokens[n.id]));
        return el("li", {}, button);
      });
      this.q("neighbours").replaceChildren(...items);
      if (!this.root.dataset.firstListMs) {
        const ms = performance.now();
        this.root.dataset.firstListMs = ms.toFixed(0);
        window.bertstepsExplorer = window.bertstepsExplorer || {};
        window.bertstepsExplorer.firstListMs ??= ms; // since the navigation that loaded this document
      }
      this.root.dataset.query = token;
      this.map.focus(id);
      const a = this.q("pair-a");
      if (!a.value) a.value = token;
    }

    // -- two words side by side
    wirePair() {
      this.q("pair-form").addEventListener("submit", (event) => {
        event.preventDefault();
        const words = [this.q("pair-a").value.trim(), this.q("pair-b").value.trim()];
        if (!words[0] || !words[1]) {
          this.clearPair();
          this.q("pair-result").replaceChildren(el("p", { text: "Type a word in each box." }));
          return;
        }
        this.navigate(this.queryText || "", words);
      });
    }

    clearPair() {
      const out = this.q("pair-result");
      out.replaceChildren();
      delete out.dataset.kind;
      delete out.dataset.pair;
    }

    // The pieces' ids of a word (one for a token), or a message saying why there are none.
    pieceIds(word) {
      const r = resolve(word, this.data);
      if (r.kind === "token") return { ids: [r.id] };
      if (r.kind === "split" && r.pieces.every((p) => this.data.ids.has(p))) return { ids: r.pieces.map((p) => this.data.ids.get(p)), pieces: r.pieces };
      return { error: el("p", {}, "“", el("strong", { text: word }), "” is not in the vocabulary, and WordPiece cannot build it from pieces.") };
    }

    async compare(words) {
      const data = this.data;
      const out = this.q("pair-result");
      const key = JSON.stringify(words);
      this.clearPair();
      out.dataset.pair = key;
      const found = words.map((w) => this.pieceIds(w));
      const bad = found.find((f) => f.error);
      if (bad) return out.replaceChildren(bad.error);
      const [a, b] = found;
      const label = (word, f) => (f.pieces ? ["mean of ", ...f.pieces.flatMap((p, i) => (i ? [" + ", code(p)] : [code(p)]))] : [code(data.tokens[f.ids[0]])]);
      const names = [...label(words[0], a), ", ", ...label(words[1], b)];
      if (a.ids.length === 1 && b.ids.length === 1) {
        const exact = exactScore(data, a.ids[0], b.ids[0]);
        if (exact !== null) {
          const why = a.ids[0] === b.ids[0] ? "the same token" : `one is among the other's ${data.k} nearest tokens, whose scores were computed exactly at build time`;
          out.replaceChildren(el("p", { class: "bx-pair-score" }, "cos(", ...names, ") = ", el("strong", { text: fmt(exact) })),
            el("p", { class: "bx-hint", text: `Exact: ${why}.` }));
          out.dataset.kind = "exact";
          return;
        }
      }
      out.replaceChildren(el("p", { text: "Estimating…" }));
      const rows = await loadCodes(data);
      if (out.dataset.pair !== key) return; // another pair was asked for meanwhile
      const m = data.manifest.approximate;
      const r = m.random_pairs, c = m.close_pairs;
      const split = [a, b].filter((f) => f.pieces);
      const hints = [];
      if (split.length) {
        hints.push(el("p", { class: "bx-hint" },
          split.map((f, i) => `${i ? "; " : ""}“${words[[a, b].indexOf(f)]}” is not a single token, so it stands here for the mean of its ${f.ids.length} pieces' vectors`).join(""),
          ". The compressed copy holds unit-length rows, so each piece counts equally (the mean of the raw rows, as in ",
          code("bertsteps.word_vectors"), ", weighs longer rows more). The errors below were measured on single tokens, not on means."));
      }
      hints.push(el("p", { class: "bx-hint" },
        `Approximate: ${split.length ? "a word that is split has no exact score" : `neither is among the other's ${data.k} nearest tokens`}, so this comes from a copy of the embeddings compressed to `,
        `${m.bits_per_coordinate} bits per coordinate. Measured against the exact cosine when the site was built: `,
        `on ${r.pairs.toLocaleString("en")} random pairs the mean error is ${fmt(r.mean_abs_error)}, 99% are within ±${fmt(r.p99_abs_error)} and the largest is ${fmt(r.max_abs_error)}; `,
        `on close pairs (every token and its nearest tokens) ${fmt(c.mean_abs_error)}, ±${fmt(c.p99_abs_error)} and ${fmt(c.max_abs_error)}.`));
      out.replaceChildren(
        el("p", { class: "bx-pair-score" }, "cos(", ...names, ") ≈ ", el("strong", { text: fmt(approximateMeanScore(data, rows, a.ids, b.ids), 2) })),
        ...hints,
      );
      out.dataset.kind = split.length ? "approximate-mean" : "approximate";
    }
  }

  // ---------------------------------------------------------------------------------------
  // The map: every token at its first two principal components, on a canvas

  class MapView {
    constructor(explorer, box, canvas, tip) {
      Object.assign(this, { explorer, box, canvas, tip, data: explorer.data });
      this.ctx = canvas.getContext("2d");
      this.pointers = new Map();
      this.screen = new Float32Array(this.data.tokens.length * 2);
      this.hover = -1;
      this.fit();
      this.listen();
    }

    fit() {
      // the whole map: every token that can be a neighbour
      const { coords, excluded } = this.data;
      let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
      for (let i = 0; i < excluded.length; i++) {
        if (excluded[i]) continue;
        const x = coords[2 * i], y = coords[2 * i + 1];
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
      this.bounds = [x0, x1, y0, y1];
      this.reset();
    }

    reset() {
      const [x0, x1, y0, y1] = this.bounds;
      this.cx = (x0 + x1) / 2;
      this.cy = (y0 + y1) / 2;
      this.scale = null; // set from the canvas size at the next draw
      this.request();
    }

    baseScale() {
      const [x0, x1, y0, y1] = this.bounds;
      return 0.92 * Math.min(this.width / (x1 - x0), this.height / (y1 - y0));
    }

    listen() {
      const c = this.canvas;
      this.resizeObserver = new ResizeObserver(() => this.request());
      this.resizeObserver.observe(this.box);
      this.schemeObserver = new MutationObserver(() => this.request()); // Material's palette toggle
      this.schemeObserver.observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme", "data-md-color-primary", "data-md-color-accent"] });
      c.addEventListener("wheel", (e) => {
        e.preventDefault();
        const r = c.getBoundingClientRect();
        this.zoomAt(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)), e.clientX - r.left, e.clientY - r.top);
      }, { passive: false });
      c.addEventListener("pointerdown", (e) => {
        c.setPointerCapture(e.pointerId);
        this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
        this.moved = 0;
      });
      c.addEventListener("pointermove", (e) => this.pointerMove(e));
      const end = (e) => {
        if (!this.pointers.has(e.pointerId)) return;
        this.pointers.delete(e.pointerId);
        if (e.type === "pointerup" && this.moved < 5 && this.pointers.size === 0) {
          const hit = this.hitTest(e);
          if (hit >= 0) this.explorer.go(this.data.tokens[hit]);
        }
      };
      c.addEventListener("pointerup", end);
      c.addEventListener("pointercancel", end);
      c.addEventListener("pointerleave", () => this.setHover(-1, 0, 0));
      c.addEventListener("keydown", (e) => {
        const step = 40 / this.scale;
        const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
        if (moves[e.key]) { this.cx += moves[e.key][0]; this.cy += moves[e.key][1]; this.request(); e.preventDefault(); }
        else if (e.key === "+" || e.key === "=") this.zoomAt(1.5);
        else if (e.key === "-") this.zoomAt(1 / 1.5);
      });
      const q = this.explorer.q;
      q("zoom-in").addEventListener("click", () => this.zoomAt(1.5));
      q("zoom-out").addEventListener("click", () => this.zoomAt(1 / 1.5));
      q("zoom-reset").addEventListener("click", () => this.reset());
    }

    destroy() {
      this.resizeObserver.disconnect();
      this.schemeObserver.disconnect();
    }

    pointerMove(e) {
      const before = this.pointers.get(e.pointerId);
      if (!before) { // hovering
        const hit = this.hitTest(e);
        const r = this.canvas.getBoundingClientRect();
        this.setHover(hit, e.clientX - r.left, e.clientY - r.top);
        return;
      }
      const r = this.canvas.getBoundingClientRect();
      if (this.pointers.size === 2) { // pinch: zoom about the middle of the two fingers
        const [other] = [...this.pointers.entries()].filter(([id]) => id !== e.pointerId).map(([, p]) => p);
        const d0 = Math.hypot(before.x - other.x, before.y - other.y);
        const d1 = Math.hypot(e.clientX - other.x, e.clientY - other.y);
        if (d0 > 0) this.zoomAt(d1 / d0, (e.clientX + other.x) / 2 - r.left, (e.clientY + other.y) / 2 - r.top);
      } else {
        this.cx -= (e.clientX - before.x) / this.scale;
        this.cy += (e.clientY - before.y) / this.scale;
        this.request();
      }
      this.moved += Math.abs(e.clientX - before.x) + Math.abs(e.clientY - before.y);
      this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      this.setHover(-1, 0, 0);
    }

    // Where the buttons and keys zoom about: the query's dot while it is on the map's
    // canvas, so it stays in view; the middle otherwise.
    anchor() {
      if (this.query !== undefined && this.query !== null && this.scale) {
        const [x, y] = this.toScreen(this.data.coords[2 * this.query], this.data.coords[2 * this.query + 1]);
        if (x >= 0 && y >= 0 && x <= this.width && y <= this.height) return [x, y];
      }
      return [this.width / 2, this.height / 2];
    }

    zoomAt(factor, px, py) {
      if (px === undefined) [px, py] = this.anchor();
      const base = this.baseScale();
      const scale = Math.min(base * 400, Math.max(base * 0.5, this.scale * factor));
      const [x, y] = this.toData(px, py);
      this.scale = scale;
      this.cx = x - (px - this.width / 2) / scale;
      this.cy = y + (py - this.height / 2) / scale;
      this.request();
    }

    toScreen(x, y) { return [this.width / 2 + (x - this.cx) * this.scale, this.height / 2 - (y - this.cy) * this.scale]; }
    toData(px, py) { return [this.cx + (px - this.width / 2) / this.scale, this.cy - (py - this.height / 2) / this.scale]; }

    hitTest(e) {
      const r = this.canvas.getBoundingClientRect();
      const px = e.clientX - r.left, py = e.clientY - r.top;
      let best = -1, bestD = 64; // within 8 px
      const s = this.screen, ex = this.data.excluded;
      for (let i = 0; i < ex.length; i++) {
        if (ex[i]) continue;
        const dx = s[2 * i] - px, dy = s[2 * i + 1] - py;
        const d = dx * dx + dy * dy;
        if (d < bestD) { bestD = d; best = i; }
      }
      return best;
    }

    setHover(id, px, py) {
      if (id === this.hover) return;
      this.hover = id;
      if (id < 0) { this.tip.hidden = true; this.canvas.style.cursor = ""; this.request(); return; }
      this.tip.textContent = this.data.tokens[id];
      this.tip.hidden = false;
      const left = Math.min(Math.max(0, px + 12), this.width - this.tip.offsetWidth - 4);
      this.tip.style.left = `${left}px`;
      this.tip.style.top = `${Math.max(0, py - 30)}px`;
      this.canvas.style.cursor = "pointer";
      this.request();
    }

    focus(id) {
      this.query = id;
      this.near = id === null ? [] : neighboursOf(this.data, id).map((n) => n.id);
      this.pendingFit = id !== null; // at the next draw, when the canvas size is known
      this.request();
    }

    // Show the query and its neighbours, zoomed in as far as they allow (never past the whole map).
    fitNeighbourhood() {
      const { coords } = this.data;
      const ids = [this.query, ...this.near];
      const xs = ids.map((i) => coords[2 * i]), ys = ids.map((i) => coords[2 * i + 1]);
      const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      const base = this.baseScale();
      const fit = 0.7 * Math.min(this.width / Math.max(x1 - x0, 1e-9), this.height / Math.max(y1 - y0, 1e-9));
      this.scale = Math.max(base, Math.min(base * 12, fit));
      this.cx = (x0 + x1) / 2;
      this.cy = (y0 + y1) / 2;
    }

    request() {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
    }

    draw() {
      if (!this.canvas.isConnected) return;
      const dpr = window.devicePixelRatio || 1;
      const w = this.box.clientWidth, h = this.box.clientHeight;
      if (!w || !h) return;
      if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
        this.canvas.width = Math.round(w * dpr);
        this.canvas.height = Math.round(h * dpr);
      }
      this.width = w; this.height = h;
      if (this.scale === null) this.scale = this.baseScale();
      if (this.pendingFit && this.query !== undefined && this.query !== null) {
        this.pendingFit = false;
        this.fitNeighbourhood();
      }
      const ctx = this.ctx;
      const style = getComputedStyle(this.explorer.root);
      const color = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
      const bg = color("--md-default-bg-color", "#fff");
      const fg = color("--md-default-fg-color", "#000");
      const faint = color("--md-default-fg-color--lighter", "rgba(0,0,0,.32)");
      const accent = color("--md-accent-fg-color", "#ff6e42");
      const link = color("--md-typeset-a-color", "#3f51b5");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.fillStyle = bg;
      ctx.fillRect(0, 0, w, h);

      const { coords, excluded } = this.data;
      const s = this.screen;
      const size = Math.min(3, Math.max(1.2, 1 + Math.log2(this.scale / this.baseScale()) * 0.4));
      ctx.fillStyle = faint;
      ctx.globalAlpha = 0.6;
      for (let i = 0; i < excluded.length; i++) {
        const [px, py] = this.toScreen(coords[2 * i], coords[2 * i + 1]);
        s[2 * i] = px; s[2 * i + 1] = py;
        if (excluded[i] || px < -2 || py < -2 || px > w + 2 || py > h + 2) continue;
        ctx.fillRect(px - size / 2, py - size / 2, size, size);
      }
      ctx.globalAlpha = 1;
      if (this.query === undefined || this.query === null) return;
      const q = this.query;
      const at = (i) => [s[2 * i], s[2 * i + 1]];
      const [qx, qy] = at(q);
      ctx.strokeStyle = accent;
      ctx.globalAlpha = 0.55;
      ctx.lineWidth = 1;
      for (const n of this.near) {
        ctx.beginPath(); ctx.moveTo(qx, qy); ctx.lineTo(...at(n)); ctx.stroke();
      }
      ctx.globalAlpha = 1;
      const dot = (i, r, fill) => {
        const [x, y] = at(i);
        ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.fillStyle = fill; ctx.fill();
        ctx.lineWidth = 1.5; ctx.strokeStyle = bg; ctx.stroke();
      };
      for (const n of this.near) dot(n, 4, accent);
      dot(q, 6, link);
      if (this.hover >= 0) dot(this.hover, 4, fg);

      // labels: the query first, then its neighbours best first; one that would overlap another is left out
      const font = getComputedStyle(document.body).fontFamily || "sans-serif";
      const zoom = this.explorer.q("zoom-in").parentElement; // labels keep clear of the zoom buttons
      const placed = [[zoom.offsetLeft - 4, zoom.offsetTop - 4, zoom.offsetWidth + 8, zoom.offsetHeight + 8]];
      const label = (i, bold) => {
        const text = this.data.tokens[i];
        ctx.font = `${bold ? "700 " : ""}13px ${font}`;
        const tw = ctx.measureText(text).width, th = 14;
        const [x, y] = at(i);
        for (const [dx, dy] of [[7, 4], [-7 - tw, 4], [-tw / 2, -9], [-tw / 2, 17]]) {
          const box = [x + dx - 2, y + dy - th + 2, tw + 4, th + 2];
          if (box[0] < 0 || box[1] < 0 || box[0] + box[2] > w || box[1] + box[3] > h) continue;
          if (placed.some((b) => box[0] < b[0] + b[2] && b[0] < box[0] + box[2] && box[1] < b[1] + b[3] && b[1] < box[1] + box[3])) continue;
          placed.push(box);
          ctx.lineWidth = 3; ctx.strokeStyle = bg; ctx.lineJoin = "round";
          ctx.strokeText(text, x + dx, y + dy);
          ctx.fillStyle = fg;
          ctx.fillText(text, x + dx, y + dy);
          return;
        }
      };
      label(q, true);
      for (const n of this.near) label(n, false);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Set up on every page that has the explorer; nothing happens on other pages

  let current = null;
  const bound = new WeakSet(); // explorer elements already set up (document$ may emit twice)

  // After the page's first paint: the data (about 2 MB) never delays the page itself.
  // The browser's own first-contentful-paint entry says when that was (its time is when the
  // frame was presented, which can be after the frame's animation callbacks ran); without
  // paint timing, two frames after the load event.
  function afterFirstPaint() {
    return new Promise((resolve) => {
      const painted = () => performance.getEntriesByName("first-contentful-paint").length > 0;
      const frames = () => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 0)));
      const next = () => {
        if (painted() || !("PerformanceObserver" in window)) return frames();
        const observer = new PerformanceObserver(() => {
          if (!painted()) return;
          observer.disconnect();
          setTimeout(resolve, 0);
        });
        observer.observe({ type: "paint", buffered: true });
        setTimeout(() => { observer.disconnect(); resolve(); }, 3000); // a page that never paints still loads
      };
      if (document.readyState === "complete") next();
      else window.addEventListener("load", next, { once: true });
    });
  }

  // The data (about 2 MB) is not part of the page's load: it is fetched on the reader's
  // first sign of use (a pointer move, a touch, a key, a scroll or the wheel), or at once
  // when the URL asks for a word (a link into the explorer), when the reader came from
  // another page of the site, or when an earlier visit already fetched it. A reader who only looks at the page downloads the page.
  const INTENT = ["pointermove", "pointerdown", "touchstart", "keydown", "wheel", "scroll", "focusin"];
  // Reached by a link on another page of the site (a page load, or Material's instant
  // navigation): the reader already chose to come here.
  function arrivedByNavigation() {
    const first = performance.getEntriesByType("navigation")[0];
    if (first && new URL(first.name).pathname !== location.pathname) return true; // instant
    if (!document.referrer) return false;
    const from = new URL(document.referrer);
    return from.origin === location.origin && from.pathname !== location.pathname;
  }

  function firstIntent() {
    if (core || location.hash.length > 1 || arrivedByNavigation()) return afterFirstPaint();
    return new Promise((resolve) => {
      const go = () => {
        for (const type of INTENT) window.removeEventListener(type, go, true);
        resolve();
      };
      for (const type of INTENT) window.addEventListener(type, go, { capture: true, passive: true });
    });
  }

  async function setUp() {
    const root = document.getElementById(ROOT_ID);
    if (current && current.root !== root) { current.destroy(); current = null; }
    if (!root || bound.has(root)) return;
    bound.add(root);
    let data;
    try {
      await firstIntent();
      if (!root.isConnected) return;
      root.querySelector('[data-bx="source"]').textContent = "Loading the embedding data…";
      data = await loadCore();
    } catch (err) {
      root.querySelector('[data-bx="source"]').textContent = `The embedding data could not be loaded (${err.message}). Reload the page to try again.`;
      root.dataset.failed = "true";
      return;
    }
    if (!root.isConnected) return; // the reader moved on while the data loaded
    current = new Explorer(root, data);
    // for tests and the curious: the page's own tokenizer
    const tokenize = (text) => preTokenize(normalise(text, data.manifest.tokenizer)).flatMap((w) => wordPiece(w, data));
    const pointOf = (token) => { // where a token is drawn on the map, in CSS pixels
      const i = data.ids.get(token);
      return i === undefined || !current ? null : current.map.toScreen(data.coords[2 * i], data.coords[2 * i + 1]);
    };
    window.bertstepsExplorer = Object.assign(window.bertstepsExplorer || {}, { tokenize, pointOf });
    root.dataset.ready = "true";
  }

  window.addEventListener("hashchange", () => {
    if (current && current.root.isConnected) current.showFromHash();
  });

  // Material's bundle is deferred too and comes later in the page: its document$ exists once
  // the page is parsed (on an instant navigation, at once).
  const start = () => {
    if (typeof document$ !== "undefined") document$.subscribe(() => { setUp(); });
    else setUp();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
