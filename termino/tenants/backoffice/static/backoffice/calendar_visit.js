// Visits in the calendar: the booking dialog's "+ Add another service to this visit" adds services that
// follow the first one back to back (each with its own staff member, or whoever is free); "Book visit"
// books them all at once or none (a 409 names what is taken). An appointment of a visit lists the visit's
// services and is cancelled together with the rest of the visit unless the box is unticked.
// Runs after calendar.js, whose small API (window.terminoCalendar) posts, shows notices and refreshes.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const configNode = $("#cal-config");
  const config = configNode ? JSON.parse(configNode.textContent) : null;
  const services = JSON.parse(($("#cal-services") || { textContent: "[]" }).textContent);
  const bookDialog = $("#book-dialog");
  const apptDialog = $("#appt-dialog");
  const box = bookDialog && $("[data-visit]", bookDialog);
  const template = $("#visit-part-template");
  const strings = ($("#t-visit") || { dataset: {} }).dataset;
  const calendar = () => window.terminoCalendar;
  if (!config || !box || !template) return;

  const form = $("form", bookDialog);
  const list = $("[data-visit-parts]", box);
  const add = $("[data-visit-add]", box);
  const repeat = $("[data-repeat]", bookDialog);
  const submit = $("button[type=submit]", form);
  const bookLabel = submit.textContent;
  const max = Number(box.dataset.max || 5);
  let serial = 0;

  const parts = () => $$(".visit-part", list);

  // A staff member offers only some services: the others are hidden in that part's list.
  function filterServices(part) {
    const staff = $("[data-part-staff]", part).value;
    const select = $("[data-part-service]", part);
    $$("option", select).forEach((option) => {
      if (!option.value) return;
      const service = services.find((s) => String(s.id) === option.value);
      option.hidden = Boolean(staff) && !!service && !service.resources.includes(Number(staff));
    });
    if (select.selectedOptions.length && select.selectedOptions[0].hidden) select.value = "";
  }

  function update() {
    const count = parts().length;
    $("[data-visit-hint]", box).hidden = count === 0;
    add.hidden = count + 1 >= max;
    if (repeat) {
      if (count) repeat.open = false;
      repeat.hidden = count > 0; // a visit is booked once, not repeated
    }
    submit.textContent = count ? strings.book : bookLabel;
  }

  function addPart() {
    const part = template.content.firstElementChild.cloneNode(true);
    serial += 1;
    ["service", "staff"].forEach((name) => {
      const label = $("label[data-for=" + name + "]", part);
      const select = $("[data-part-" + name + "]", part);
      select.id = "visit-" + name + "-" + serial;
      label.htmlFor = select.id;
    });
    // The same staff member as the first service, unless the dialog leaves it to whoever is free.
    const staff = $("[data-part-staff]", part);
    const first = $("#book-staff").value;
    if ($$("option", staff).some((o) => o.value === first)) staff.value = first;
    staff.addEventListener("change", () => filterServices(part));
    $("[data-visit-remove]", part).addEventListener("click", () => {
      part.remove();
      update();
      add.focus();
    });
    list.append(part);
    filterServices(part);
    update();
    $("[data-part-service]", part).focus();
  }

  add.addEventListener("click", addPart);
  form.addEventListener("reset", () => {
    list.innerHTML = "";
    setTimeout(update);
  });
  update();

  // Caught before calendar.js books one appointment: with further services the dialog books a visit.
  bookDialog.addEventListener(
    "submit",
    async (event) => {
      if (!parts().length) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const data = await calendar().post(config.urls.visitBook, new FormData(form), bookDialog);
      if (!data) return;
      bookDialog.close();
      calendar().showNotice(data.message);
      calendar().goTo($("#book-date").value);
      calendar().refresh();
    },
    true
  );

  // --- An appointment of a visit --------------------------------------------------------------------------
  if (!apptDialog) return;
  let current = null;
  apptDialog.addEventListener("appointment-open", (event) => {
    current = event.detail;
    const visitParts = (current.visit && current.visitParts) || [];
    const shown = visitParts.length > 1;
    $$("[data-visit-only]", apptDialog).forEach((el) => (el.hidden = !shown));
    const summary = $("[data-f=visit]", apptDialog);
    summary.innerHTML = "";
    visitParts.forEach((part) => {
      const li = document.createElement("li");
      li.textContent = part.from + "–" + part.until + " " + part.service;
      if (String(part.id) === String(current.id)) li.setAttribute("aria-current", "true");
      if (part.status === "cancelled") li.className = "cancelled";
      summary.append(li);
    });
    const whole = $("[data-whole-visit]", apptDialog);
    whole.checked = true;
    const active = visitParts.filter((p) => p.status !== "cancelled").length;
    $("[data-whole-visit-label]", apptDialog).textContent = strings.whole + " (" + active + ")";
  });
  apptDialog.addEventListener(
    "submit",
    async (event) => {
      const whole = $("[data-whole-visit]", event.target);
      const cancelling = event.submitter && event.submitter.value === "cancel";
      if (!current || !current.visit || !whole || !whole.checked || !cancelling) return;
      if ($("[data-whole-visit]", apptDialog).closest("[data-visit-only]").hidden) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const url = config.urls.appointment + current.id + "/visit-cancel/";
      const data = await calendar().post(url, new FormData(event.target), apptDialog);
      if (!data) return;
      apptDialog.close();
      calendar().showNotice(data.message);
      calendar().refresh();
    },
    true
  );
})();
