/* Settings pages: copy buttons, colour and logo previews, the message text editor with live preview,
 * a confirmation before a message is sent again, and a filter box in front of the long time zone list.
 * Everything works without it, only less comfortably. */
(function () {
  "use strict";

  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var label = button.textContent;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        if (!source) return;
        var text = source.value !== undefined && source.tagName === "INPUT" ? source.value : source.textContent;
        var done = function () {
          button.textContent = button.dataset.copied || label;
          button.classList.add("is-copied");
          setTimeout(function () { button.textContent = label; button.classList.remove("is-copied"); }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
        } else {
          selectText(source);
          try { if (document.execCommand("copy")) done(); } catch (e) { /* the text stays selected */ }
        }
      });
    });
  }

  function selectText(node) {
    if (node.select) { node.focus(); node.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function colourPreview() {
    var box = document.querySelector("[data-colour-preview]");
    if (!box) return;
    var input = box.querySelector("input[type=color]");
    var sample = box.querySelector(".colour-button");
    if (!input || !sample) return;
    input.addEventListener("input", function () { sample.style.background = input.value; });
  }

  function logoPreview() {
    var input = document.querySelector("input[type=file][name=logo]");
    var image = document.querySelector("[data-logo-preview]");
    if (!input || !image) return;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file || !/^image\/(png|jpeg|webp)$/.test(file.type)) return;
      image.src = URL.createObjectURL(file);
      image.hidden = false;
      var placeholder = document.querySelector("[data-logo-placeholder]");
      if (placeholder) placeholder.hidden = true;
    });
  }

  function templateEditor() {
    var form = document.querySelector("[data-template-editor]");
    if (!form) return;
    var subject = form.querySelector("[name=subject]");
    var body = form.querySelector("[name=body]");
    var lastField = body;
    [subject, body].forEach(function (field) {
      if (field) field.addEventListener("focus", function () { lastField = field; });
    });

    form.querySelectorAll("[data-insert]").forEach(function (chip) {
      chip.addEventListener("click", function () {
        var field = lastField || body;
        var text = chip.dataset.insert;
        var start = field.selectionStart != null ? field.selectionStart : field.value.length;
        var end = field.selectionEnd != null ? field.selectionEnd : field.value.length;
        field.value = field.value.slice(0, start) + text + field.value.slice(end);
        field.focus();
        field.setSelectionRange(start + text.length, start + text.length);
        schedule();
      });
    });

    var preview = document.querySelector("[data-preview]");
    var subjectOut = preview && preview.querySelector("[data-preview-subject]");
    var bodyOut = preview && preview.querySelector("[data-preview-body]");
    var countOut = preview && preview.querySelector("[data-preview-count]");
    var unicodeOut = preview && preview.querySelector("[data-preview-unicode]");
    var errorsOut = preview && preview.querySelector("[data-preview-errors]");
    var timer = null;
    var latest = 0;

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    }

    function refresh() {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      if (subject) data.append("subject", subject.value);
      data.append("body", body.value);
      var ticket = ++latest;
      fetch(form.dataset.previewUrl, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (result) {
          if (ticket !== latest) return; // an older answer arriving late
          if (subjectOut) subjectOut.textContent = result.subject || "";
          if (bodyOut) bodyOut.textContent = result.body || "";
          if (countOut && result.segments !== undefined) {
            countOut.textContent = countOut.dataset.template
              .replace("{n}", result.segments).replace("{chars}", result.chars);
          }
          if (unicodeOut) unicodeOut.hidden = result.encoding !== "ucs2";
          if (errorsOut) {
            errorsOut.textContent = "";
            (result.errors || []).forEach(function (message) {
              var item = document.createElement("li");
              item.textContent = message;
              errorsOut.appendChild(item);
            });
          }
        })
        .catch(function () { /* the preview stays as it was; saving still checks everything */ });
    }

    [subject, body].forEach(function (field) {
      if (field) field.addEventListener("input", schedule);
    });
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  // "sao paulo", "São Paulo", "Sao_Paulo" and "+05:30" all find what they mean.
  function folded(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/_/g, " ").toLowerCase();
  }

  // Every IANA zone is in the list (grouped: common ones first). Options are taken out and put back rather
  // than hidden, since phones show hidden options in their pickers. The chosen zone always stays in.
  function zoneFilter() {
    var select = document.querySelector("select[data-zone-select]");
    if (!select) return;
    var texts = select.dataset;
    var groups = Array.prototype.map.call(select.querySelectorAll("optgroup"), function (group) {
      return {
        node: group,
        options: Array.prototype.map.call(group.querySelectorAll("option"), function (option) {
          return { node: option, text: folded(option.value + " " + option.textContent) };
        }),
      };
    });
    var box = document.createElement("input");
    box.type = "search";
    box.id = select.id + "_filter";
    box.className = "zone-filter";
    box.autocomplete = "off";
    box.spellcheck = false;
    box.placeholder = texts.filterPlaceholder || "";
    box.setAttribute("aria-label", texts.filterLabel || "");
    box.setAttribute("aria-controls", select.id);
    var count = document.createElement("p");
    count.className = "help zone-count";
    count.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(count, select.nextSibling);

    function words() { return folded(box.value).split(/\s+/).filter(Boolean); }
    function matches(option, query) {
      return query.every(function (word) { return option.text.indexOf(word) !== -1; });
    }

    function apply() {
      var query = words();
      var chosen = select.value;
      var shown = 0;
      groups.forEach(function (group) {
        group.node.textContent = "";
        group.options.forEach(function (option) {
          var match = matches(option, query);
          if (match) shown += 1;
          if (match || option.node.value === chosen) group.node.appendChild(option.node);
        });
        if (group.node.children.length) select.appendChild(group.node);
        else if (group.node.parentNode) group.node.remove();
      });
      select.value = chosen;
      if (!query.length) count.textContent = "";
      else if (shown === 0) count.textContent = texts.countNone || "";
      else if (shown === 1) count.textContent = texts.countOne || "";
      else count.textContent = (texts.countMany || "").replace("{n}", shown);
    }

    box.addEventListener("input", apply);
    // Enter in the box must not send the form: it chooses the first match instead.
    box.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      var query = words();
      if (!query.length) return;
      for (var g = 0; g < groups.length; g += 1) {
        for (var o = 0; o < groups[g].options.length; o += 1) {
          if (matches(groups[g].options[o], query)) {
            select.value = groups[g].options[o].node.value;
            select.focus();
            return;
          }
        }
      }
    });
  }

  function start() {
    zoneFilter();
    copyButtons();
    colourPreview();
    logoPreview();
    templateEditor();
    confirmations();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
