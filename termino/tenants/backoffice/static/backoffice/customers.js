/* Customer pages: search as you type (the form works without this too) and confirmations. */
(function () {
  "use strict";

  function liveSearch(form) {
    var results = document.getElementById("cust-results");
    var exportLink = document.querySelector("[data-export-link]");
    if (!results || !window.fetch) return;
    var timer = null;
    var controller = null;
    var last = null;

    function query() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, key) {
        if (String(value).trim()) params.append(key, String(value).trim());
      });
      return params.toString();
    }

    function run(explicit) {
      var qs = query();
      if (qs === last && !explicit) return;
      last = qs;
      var url = form.getAttribute("action") + (qs ? "?" + qs : "");
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      results.setAttribute("aria-busy", "true");
      fetch(url, {
        headers: { "X-Fragment": "results" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          if (!response.ok || response.redirected) throw new Error("search failed");
          return response.text();
        })
        .then(function (html) {
          results.innerHTML = html;
          results.removeAttribute("aria-busy");
          window.history.replaceState(null, "", url);
          if (exportLink) {
            var base = exportLink.getAttribute("href").split("?")[0];
            exportLink.setAttribute("href", base + (qs ? "?" + qs : ""));
          }
        })
        .catch(function (error) {
          if (error && error.name === "AbortError") return;
          results.removeAttribute("aria-busy");
          last = null;
          // The ordinary page load shows what went wrong (e.g. the login page once the session ended).
          if (explicit) window.location.assign(url);
        });
    }

    form.addEventListener("input", function (event) {
      if (event.target.type !== "search") return;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { run(false); }, 250);
    });
    form.addEventListener("change", function (event) {
      if (event.target.tagName === "SELECT") run(false);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.clearTimeout(timer);
      run(true);
    });
    last = query();
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-live-search]").forEach(liveSearch);
    confirmations();
  });
})();
