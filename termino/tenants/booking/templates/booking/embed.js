/* Termino booking widget loader. Put on your website:
 *   <script src="https://<your-address>/embed.js" data-mode="inline"></script>
 *   <script src="https://<your-address>/embed.js" data-mode="button" data-label="Book now"></script>
 * The booking page runs in an iframe on the business's own domain and needs no cookies.
 *
 * Browsers refuse to show the booking page in a frame on a website the business has not listed
 * (CSP frame-ancestors) and show a grey broken box, telling this page nothing. So the loader first asks
 * the server whether this website's origin is listed, and if not shows a notice instead: for visitors a
 * link to the booking page itself, for the owner what to add where. If the question cannot be answered
 * (network), the frame is made as before. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = {{ book_url_json|safe }};
  var pageUrl = {{ page_url_json|safe }};
  var checkUrl = {{ check_url_json|safe }};
  var texts = {{ texts_json|safe }};
  var origin = new URL(url).origin;
  var mode = (script && script.dataset.mode) || "inline";

  function notice() {
    var lang = (document.documentElement.lang || navigator.language || "en").slice(0, 2).toLowerCase();
    var t = texts[lang] || texts.en;
    var box = document.createElement("div");
    box.setAttribute("role", "note");
    box.className = "termino-embed-notice";
    box.style.cssText = "font:15px/1.5 system-ui,sans-serif;color:#1f2933;background:#fff7e6;border:1px solid #f0b429;border-radius:10px;padding:1rem 1.25rem;max-width:40rem";
    var title = document.createElement("strong");
    title.textContent = t.title;
    var link = document.createElement("a");
    link.href = pageUrl;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = t.link;
    link.style.cssText = "display:inline-block;margin:.5rem 0;color:#1d4ed8;font-weight:600";
    var owner = document.createElement("p");
    owner.textContent = t.owner.replace("{origin}", window.location.origin);
    owner.style.cssText = "margin:.25rem 0 0;font-size:13px;color:#52606d";
    box.appendChild(title);
    box.appendChild(document.createElement("br"));
    box.appendChild(link);
    box.appendChild(owner);
    return box;
  }

  function frame() {
    var iframe = document.createElement("iframe");
    iframe.src = url;
    iframe.title = (script && script.dataset.title) || "Online booking";
    iframe.style.cssText = "width:100%;border:0;min-height:480px;display:block;background:transparent";
    iframe.setAttribute("loading", "lazy");
    window.addEventListener("message", function (event) {
      if (event.origin !== origin || event.source !== iframe.contentWindow) return;
      if (event.data && event.data.type === "termino:height") {
        iframe.style.height = Math.ceil(event.data.height) + "px";
      }
    });
    return iframe;
  }

  function modal() {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = (script && script.dataset.label) || "Termin buchen";
    button.className = "termino-book-button";
    button.style.cssText = "font:inherit;padding:.7em 1.2em;border:0;border-radius:8px;background:#1d4ed8;color:#fff;cursor:pointer";
    button.addEventListener("click", function () {
      var overlay = document.createElement("div");
      overlay.setAttribute("role", "dialog");
      overlay.setAttribute("aria-modal", "true");
      overlay.style.cssText = "position:fixed;inset:0;background:rgba(15,23,42,.6);z-index:2147483000;display:flex;align-items:flex-start;justify-content:center;overflow:auto;padding:2vh 1vw";
      var box = document.createElement("div");
      box.style.cssText = "background:#fff;border-radius:12px;width:min(720px,100%);position:relative;padding-top:2.5rem";
      var close = document.createElement("button");
      close.type = "button";
      close.setAttribute("aria-label", "Close");
      close.textContent = "\u00d7";
      close.style.cssText = "position:absolute;top:.25rem;right:.5rem;font-size:1.8rem;border:0;background:none;cursor:pointer";
      function shut() { overlay.remove(); document.removeEventListener("keydown", onKey); button.focus(); }
      function onKey(e) { if (e.key === "Escape") shut(); }
      close.addEventListener("click", shut);
      overlay.addEventListener("click", function (e) { if (e.target === overlay) shut(); });
      document.addEventListener("keydown", onKey);
      box.appendChild(close);
      box.appendChild(frame());
      overlay.appendChild(box);
      document.body.appendChild(overlay);
      close.focus();
    });
    return button;
  }

  function place(node) {
    if (script && script.parentNode) script.parentNode.insertBefore(node, script.nextSibling);
    else document.body.appendChild(node);
  }

  function widget() { return mode === "button" ? modal() : frame(); }

  fetch(checkUrl + "?origin=" + encodeURIComponent(window.location.origin), { credentials: "omit", cache: "no-store" })
    .then(function (response) { return response.json(); })
    .then(function (answer) { place(answer.allowed ? widget() : notice()); })
    .catch(function () { place(widget()); });
})();
