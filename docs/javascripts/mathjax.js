// MathJax 2.7 (served by this site, hooks/assets.py) for the pages that have math: this
// file is added, deferred, only to those pages (hooks/pageassets.py), inside Material's
// content container, so instant navigation runs it again on every page with math.
// First run: MathJax's settings, then MathJax itself, which typesets the page when loaded.
// Later runs (instant navigation to another page with math): typeset the new content.
// Markdown pages: pymdownx.arithmatex wraps math in .arithmatex with \( \) and \[ \].
// Notebook pages: markdown cells keep $...$ and $$...$$ inside .jp-RenderedMarkdown.
// The copy from jupyter-server-mathjax has the combined TeX-AMS-MML_HTMLorMML-full
// configuration and the STIX-Web fonts (woff) only.
(() => {
  "use strict";
  if (window.MathJax && window.MathJax.Hub) {
    window.MathJax.Hub.Queue(["Typeset", window.MathJax.Hub]);
    return;
  }
  if (window.MathJax) return; // still loading: its startup typesets the page it finds then
  window.MathJax = {
    tex2jax: {
      inlineMath: [["\\(", "\\)"], ["$", "$"]],
      displayMath: [["\\[", "\\]"], ["$$", "$$"]],
      processEscapes: true,
      processEnvironments: true,
      // Skip the whole page except arithmatex output and notebook markdown. (".*|" would
      // also skip the <p> children of a notebook's markdown, which carry no class.)
      ignoreClass: "md-header|md-container|md-dialog|md-search",
      processClass: "arithmatex|jp-RenderedMarkdown",
    },
    "HTML-CSS": {
      availableFonts: ["STIX-Web"],
      preferredFont: "STIX-Web",
      webFont: "STIX-Web",
      imageFont: null,
      linebreaks: { automatic: true },
      // MathJax 2 declares a blank font at url('about:blank'), which Chromium refuses with a
      // CORS error on every page; a local() source needs no request at all.
      styles: { "@font-face": { "font-family": "MathJax_Blank", src: "local('MathJax Blank')" } },
    },
    messageStyle: "none",
    showMathMenu: false,
    skipStartupTypeset: false,
  };
  const self = document.currentScript.src; // .../javascripts/mathjax.js
  const script = document.createElement("script");
  script.src = new URL("../assets/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full", self).href;
  script.async = true;
  document.head.appendChild(script);
})();
