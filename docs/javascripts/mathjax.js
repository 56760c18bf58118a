// One MathJax (2.7, served by this site) for Markdown pages and notebook pages alike.
// Markdown pages: pymdownx.arithmatex wraps math in .arithmatex with \( \) and \[ \].
// Notebook pages: markdown cells keep $...$ and $$...$$ inside .jp-RenderedMarkdown.
// The copy from jupyter-server-mathjax has the combined TeX-AMS-MML_HTMLorMML-full
// configuration and the STIX-Web fonts (woff) only.
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

// Material's instant navigation swaps page content without reloading: typeset again.
document$.subscribe(() => {
  if (window.MathJax && window.MathJax.Hub) {
    window.MathJax.Hub.Queue(["Typeset", window.MathJax.Hub]);
  }
});
