/* The weekly hours editor (business opening hours and each staff member's or room's working hours).
 * Without this script every weekday shows its saved intervals plus empty rows, and that works as it is.
 * With it: empty rows go away, a day without times reads "Closed", and rows can be added, removed and
 * copied from the day before. The server accepts any row numbers (d<weekday>-<row>-start/end).
 * Time inputs cannot show 24:00, so an end of 00:00 means midnight; the note next to it follows the input. */
(function () {
  "use strict";

  function setup(editor) {
    var template = editor.querySelector("template[data-row-template]");
    var texts = editor.querySelector("[data-texts]").dataset;
    var maxRows = parseInt(editor.dataset.maxRows, 10) || 12;
    var days = Array.prototype.slice.call(editor.querySelectorAll("fieldset[data-day]"));

    function rowsOf(day) { return Array.prototype.slice.call(day.querySelectorAll("[data-row]")); }
    function dayName(day) { return day.querySelector("legend").textContent.trim(); }
    function isEmpty(row) {
      return Array.prototype.every.call(row.querySelectorAll("input"), function (input) { return !input.value; });
    }

    // 00:00 as an end, or 24:00 typed where the browser offers a plain text box, is the end of the day.
    function markMidnight(row) {
      var end = row.querySelector('input[name$="-end"]');
      var note = row.querySelector("[data-midnight]");
      if (end && note) { note.hidden = !/^(0?0:00(:00)?|24([:.]?00(:00)?)?)$/.test(end.value.trim()); }
    }

    function refresh(day) {
      var count = rowsOf(day).length;
      day.querySelector("[data-closed]").hidden = count > 0;
      day.querySelector("[data-add]").disabled = count >= maxRows;
    }

    function addRow(day, start, end) {
      var number = parseInt(day.dataset.nextRow, 10) || 0;
      day.dataset.nextRow = number + 1;
      var row = template.content.firstElementChild.cloneNode(true);
      var prefix = "d" + day.dataset.day + "-" + number + "-";
      var values = { start: start || "", end: end || "" };
      ["start", "end"].forEach(function (part) {
        var input = row.querySelector('[data-part="' + part + '"]');
        var label = row.querySelector('[data-for="' + part + '"]');
        input.name = prefix + part;
        input.id = "id_" + prefix + part;
        input.value = values[part];
        label.htmlFor = input.id;
        label.textContent = dayName(day) + ", " + (part === "start" ? texts.from : texts.until);
      });
      row.querySelector("[data-remove]").setAttribute("aria-label", texts.removeLabel + " (" + dayName(day) + ")");
      day.querySelector("[data-rows]").appendChild(row);
      markMidnight(row);
      refresh(day);
      return row;
    }

    days.forEach(function (day, index) {
      // Keep rows with content or with an error message; the empty spares are for pages without script.
      rowsOf(day).forEach(function (row) {
        if (isEmpty(row) && !row.querySelector(".errors")) { row.remove(); }
      });
      day.querySelectorAll("[data-remove]").forEach(function (button) { button.hidden = false; });
      day.querySelector("[data-tools]").hidden = false;
      refresh(day);
      rowsOf(day).forEach(markMidnight);
      ["input", "change"].forEach(function (type) {
        day.addEventListener(type, function (event) {
          var row = event.target.closest("[data-row]");
          if (row) { markMidnight(row); }
        });
      });

      day.addEventListener("click", function (event) {
        var remove = event.target.closest("[data-remove]");
        if (remove) {
          remove.closest("[data-row]").remove();
          refresh(day);
          day.querySelector("[data-add]").focus();
          return;
        }
        if (event.target.closest("[data-add]")) {
          addRow(day).querySelector("input").focus();
          return;
        }
        if (event.target.closest("[data-copy-previous]")) {
          var previous = days[index - 1];
          rowsOf(day).forEach(function (row) { row.remove(); });
          rowsOf(previous).forEach(function (row) {
            addRow(day, row.querySelector('input[name$="-start"]').value, row.querySelector('input[name$="-end"]').value);
          });
          refresh(day);
          var first = day.querySelector("input");
          (first || day.querySelector("[data-add]")).focus();
        }
      });
    });
    editor.querySelectorAll("[data-nojs-hint]").forEach(function (hint) { hint.hidden = true; });
  }

  // For a staff member or room: the editor matters only with "own working hours".
  function setupMode(group, editor) {
    function update() {
      var chosen = group.querySelector("input[type=radio]:checked");
      editor.hidden = !chosen || chosen.value !== "own";
    }
    group.addEventListener("change", update);
    group.querySelectorAll("[data-nojs-hint]").forEach(function (hint) { hint.hidden = true; });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-hours-editor]").forEach(setup);
    var mode = document.querySelector("[data-hours-mode]");
    var editor = document.querySelector("[data-hours-editor]");
    if (mode && editor) { setupMode(mode, editor); }
  });
})();
