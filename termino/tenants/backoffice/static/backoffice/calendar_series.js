// Appointment series in the calendar. The booking dialog's "Repeat" section: "Check dates" lists each date
// of the rule as free or taken (with the reason and, where there is one, the nearest free time to use
// instead); "Book" then books the chosen dates at once (the free ones, plus the alternatives picked; taken
// dates without one are left out). Nothing is stored before that, and the server books all chosen dates or
// none. An occurrence's dialog offers "this and all following" for moving and cancelling.
// Runs after calendar.js, whose small API (window.terminoCalendar) posts, shows notices and refreshes.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const configNode = $("#cal-config");
  const config = configNode ? JSON.parse(configNode.textContent) : null;
  const bookDialog = $("#book-dialog");
  const apptDialog = $("#appt-dialog");
  const repeat = bookDialog && $("[data-repeat]", bookDialog);
  const strings = ($("#t-series") || { dataset: {} }).dataset;
  const calendar = () => window.terminoCalendar;
  if (!config || !repeat) return;

  const form = $("form", bookDialog);
  const list = $("[data-series-dates]", repeat);
  const summary = $("[data-series-summary]", repeat);
  const submit = $("button[type=submit]", form);
  const bookLabel = submit.textContent;
  const lang = document.documentElement.lang || "en";
  const dateFormat = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : lang, {
    weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
  });
  const longDate = (iso) => {
    const [y, m, d] = iso.split("-").map(Number);
    return dateFormat.format(new Date(Date.UTC(y, m - 1, d)));
  };
  let checked = false; // the list shows the dates of the rule as it is now

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function forget() {
    checked = false;
    list.innerHTML = "";
    summary.hidden = true;
    submit.textContent = repeat.open ? strings.book : bookLabel;
  }

  function showEnds() {
    const ends = $("#repeat-ends").value;
    $$("[data-ends]", repeat).forEach((field) => (field.hidden = field.dataset.ends !== ends));
    $("[data-weekly-only]", repeat).hidden = $("#repeat-frequency").value !== "weekly";
  }

  // The weekday of the chosen date is ticked when the section opens with none ticked.
  function tickWeekday() {
    const day = $("#book-date").value;
    if (!day || $$("input[name=weekdays]:checked", repeat).length) return;
    const [y, m, d] = day.split("-").map(Number);
    const weekday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7; // 0 = Monday
    const box = $("input[name=weekdays][value='" + weekday + "']", repeat);
    if (box) box.checked = true;
  }

  function countChosen() {
    const chosen = $$("input[name=occurrence]", list).length;
    summary.textContent = strings.summary + " " + chosen + " / " + list.children.length;
    summary.hidden = false;
  }

  function row(occurrence) {
    const li = element("li", occurrence.free ? "free" : "taken");
    li.append(element("span", "when", longDate(occurrence.date) + ", " + occurrence.time));
    li.append(element("span", "state", occurrence.free ? strings.free : strings.taken));
    if (occurrence.free) {
      const input = element("input");
      input.type = "hidden";
      input.name = "occurrence";
      input.value = occurrence.start;
      li.append(input);
      return li;
    }
    li.append(element("span", "reason", occurrence.reason));
    const alternative = occurrence.alternative;
    if (!alternative) {
      li.append(element("span", "reason", strings.none + " " + strings.skipped));
      return li;
    }
    const label = longDate(alternative.date) + ", " + alternative.time + (alternative.staff ? " (" + alternative.staff + ")" : "");
    const use = element("button", "btn btn-secondary btn-small use", strings.use + " " + label);
    use.type = "button";
    use.addEventListener("click", () => {
      const input = element("input");
      input.type = "hidden";
      input.name = "occurrence";
      input.value = alternative.start;
      li.classList.add("chosen-alternative");
      $(".when", li).textContent = label;
      $(".state", li).textContent = strings.alternative;
      use.replaceWith(input);
      countChosen();
    });
    li.append(use);
    return li;
  }

  async function check() {
    const body = new FormData(form);
    body.delete("occurrence");
    const data = await calendar().post(config.urls.seriesPreview, body, bookDialog);
    if (!data) return false;
    list.innerHTML = "";
    data.occurrences.forEach((occurrence) => list.append(row(occurrence)));
    checked = true;
    countChosen();
    list.scrollIntoView({ block: "nearest" });
    return true;
  }

  async function book() {
    const data = await calendar().post(config.urls.seriesBook, new FormData(form), bookDialog);
    if (!data) return;
    bookDialog.close();
    calendar().showNotice(data.message);
    calendar().goTo($("#book-date").value);
    calendar().refresh();
  }

  $("[data-series-check]", repeat).addEventListener("click", check);
  repeat.addEventListener("toggle", () => {
    if (repeat.open) tickWeekday();
    showEnds();
    forget();
  });
  $$("select, input", repeat).forEach((input) => input.addEventListener("change", () => {
    showEnds();
    forget();
  }));
  ["#book-date", "#book-time", "#book-service", "#book-staff", "#book-room"].forEach((sel) => {
    const input = $(sel, form);
    if (input) input.addEventListener("change", forget);
  });
  form.addEventListener("reset", () => {
    repeat.open = false;
    setTimeout(() => {
      showEnds();
      forget();
    });
  });
  // Caught before calendar.js books one appointment: with "Repeat" open the dialog books the series, once
  // its dates have been checked (the first click checks them).
  bookDialog.addEventListener(
    "submit",
    async (event) => {
      if (!repeat.open) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      if (!checked) {
        await check();
        return;
      }
      await book();
    },
    true
  );

  // --- An occurrence: this one, or this and all following -------------------------------------------------
  if (!apptDialog) return;
  let current = null;
  apptDialog.addEventListener("appointment-open", (event) => {
    current = event.detail;
    $$("[data-series-scope]", apptDialog).forEach((field) => {
      field.hidden = !current.series;
      $("select", field).value = "this";
    });
  });
  apptDialog.addEventListener(
    "submit",
    async (event) => {
      const scope = $("select[name=scope]", event.target);
      if (!current || !current.series || !scope || scope.value !== "following") return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const path = event.target.matches("[data-move-form]") ? "/series-move/" : "/series-cancel/";
      const data = await calendar().post(config.urls.appointment + current.id + path, new FormData(event.target), apptDialog);
      if (!data) return;
      apptDialog.close();
      calendar().showNotice(data.message);
      calendar().refresh();
    },
    true
  );
})();
