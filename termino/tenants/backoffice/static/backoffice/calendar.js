// The calendar's dialogs: book a free time (customer search-or-create), open an appointment to move it
// or change its status, and the next-free-slots finder. Every action posts form data to a JSON view and
// reloads the page on success; an error (e.g. 409 "… is booked from 10:00 to 10:30") stays in the dialog.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const strings = ($("#t-strings") || { dataset: {} }).dataset;
  const services = JSON.parse(($("#cal-services") || { textContent: "[]" }).textContent);
  const cal = $(".cal");
  const bookDialog = $("#book-dialog");
  const apptDialog = $("#appt-dialog");
  const finderDialog = $("#finder-dialog");
  const SNAP = 15;

  const pad = (n) => String(n).padStart(2, "0");
  const hhmm = (minutes) => pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);

  function showError(dialog, message) {
    const box = $(".error-box", dialog);
    box.textContent = message || "";
    box.hidden = !message;
    if (message) box.scrollIntoView({ block: "nearest" });
  }

  async function post(url, body, dialog) {
    showError(dialog, "");
    let response;
    try {
      response = await fetch(url, { method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin" });
    } catch (e) {
      showError(dialog, strings.error);
      return null;
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      showError(dialog, data.detail || strings.error);
      if (data.offsets) offerOffsets(dialog, data.offsets);
      return null;
    }
    return data;
  }

  // A wall-clock time in the night the clocks go back happens twice: the server names both UTC offsets
  // and the dialog lets the user pick one, then the form is sent again with it.
  function offerOffsets(dialog, offsets) {
    const field = $("[data-offset-field]", dialog);
    if (!field) return;
    const select = $("select", field);
    select.innerHTML = "";
    offsets.forEach((offset, index) => {
      const option = document.createElement("option");
      option.value = offset;
      option.textContent = (index === 0 ? strings.first : strings.second) + " (UTC" + offset + ")";
      select.appendChild(option);
    });
    field.hidden = false;
    select.focus();
  }

  function resetOffsets(root) {
    $$("[data-offset-field]", root).forEach((field) => {
      field.hidden = true;
      $("select", field).innerHTML = '<option value=""></option>';
    });
  }

  function open(dialog) {
    showError(dialog, "");
    if (!dialog.open) dialog.showModal();
  }

  $$("[data-close]").forEach((b) => b.addEventListener("click", () => b.closest("dialog").close()));
  $$("[data-autosubmit]").forEach((el) => el.addEventListener("change", () => el.form.submit()));
  $$("[data-open]").forEach((b) => b.addEventListener("click", () => open(document.getElementById(b.dataset.open))));

  // --- Booking ------------------------------------------------------------------------------------------
  const bookForm = bookDialog && $("form", bookDialog);

  function filterServices(resourceId) {
    $$("#book-service option").forEach((option) => {
      if (!option.value) return;
      const service = services.find((s) => String(s.id) === option.value);
      option.hidden = Boolean(resourceId) && !!service && !service.resources.includes(Number(resourceId));
    });
  }

  function toggleRoom() {
    const field = $("[data-room-field]", bookDialog);
    if (!field) return;
    const service = services.find((s) => String(s.id) === $("#book-service").value);
    field.hidden = !(service && service.requires_room);
  }

  function chooseCustomer(id, name) {
    $("#book-customer").value = id || "";
    $("[data-chosen-name]", bookDialog).textContent = name || "";
    $(".chosen", bookDialog).hidden = !id;
    $(".search-box", bookDialog).hidden = Boolean(id);
  }

  function openBooking({ date, time, resource, kind, service }) {
    bookForm.reset();
    chooseCustomer(null);
    $(".search-results", bookDialog).innerHTML = "";
    resetOffsets(bookDialog);
    // The business's today, from the server: the device's clock or zone may differ.
    $("#book-date").value = date || strings.today;
    $("#book-time").value = time || "";
    const staffSelect = $("#book-staff");
    if (kind === "room") {
      const room = $("#book-room");
      if (room) room.value = resource;
    } else if (resource && $$("option", staffSelect).some((o) => o.value === String(resource))) {
      staffSelect.value = String(resource);
    }
    filterServices(kind === "room" ? null : staffSelect.value);
    if (service) $("#book-service").value = String(service);
    toggleRoom();
    open(bookDialog);
    ($("#book-service").value ? $("#book-customer-q") : $("#book-service")).focus();
  }

  $$("input[name=date], input[name=time]").forEach((input) =>
    input.addEventListener("change", () => resetOffsets(input.closest("dialog")))
  );

  if (bookForm) {
    $("#book-staff").addEventListener("change", (e) => filterServices(e.target.value));
    $("#book-service").addEventListener("change", toggleRoom);
    $("[data-unchoose]", bookDialog).addEventListener("click", () => {
      chooseCustomer(null);
      $("#book-customer-q").focus();
    });
    const search = $("#book-customer-q");
    const results = $(".search-results", bookDialog);
    let timer = null;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      const q = search.value.trim();
      if (q.length < 2 || !search.dataset.searchUrl) {
        results.innerHTML = "";
        return;
      }
      timer = setTimeout(async () => {
        const url = search.dataset.searchUrl + "?q=" + encodeURIComponent(q);
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        const data = response.ok ? await response.json() : { results: [] };
        results.innerHTML = "";
        if (!data.results.length) {
          const li = document.createElement("li");
          li.className = "muted";
          li.textContent = strings.none;
          results.appendChild(li);
        }
        data.results.forEach((c) => {
          const li = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          button.setAttribute("role", "option");
          button.textContent = c.name + (c.phone ? " · " + c.phone : "") + (c.email ? " · " + c.email : "");
          button.addEventListener("click", () => chooseCustomer(c.id, c.name));
          li.appendChild(button);
          results.appendChild(li);
        });
      }, 200);
    });
    bookForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = await post(bookForm.action, new FormData(bookForm), bookDialog);
      if (data) window.location.reload();
    });
  }

  if (cal) {
    cal.addEventListener("click", (event) => {
      const appointment = event.target.closest(".cal-appt");
      if (appointment) {
        openAppointment(appointment.dataset);
        return;
      }
      const column = event.target.closest(".cal-col");
      if (!column || !bookForm) return;
      const ppm = parseFloat(getComputedStyle(cal).getPropertyValue("--ppm")) || 1;
      const y = event.clientY - column.getBoundingClientRect().top;
      const minute = Number(cal.dataset.firstMinute) + Math.floor(y / ppm / SNAP) * SNAP;
      openBooking({ date: column.dataset.date, time: hhmm(minute), resource: column.dataset.resource, kind: column.dataset.kind });
    });
  }
  $$("[data-new-appointment]").forEach((b) =>
    b.addEventListener("click", () => {
      const first = $(".cal-col");
      openBooking({ date: first ? first.dataset.date : null, resource: first && first.dataset.kind === "staff" ? first.dataset.resource : null });
    })
  );

  // --- One appointment ----------------------------------------------------------------------------------
  let current = null;

  function openAppointment(data) {
    current = data;
    $("#appt-title").textContent = data.service;
    $("[data-f=when]", apptDialog).textContent = data.date + ", " + data.start + "–" + data.end;
    const customer = $("[data-f=customer]", apptDialog);
    customer.textContent = data.customer || "—";
    if (data.customerUrl) customer.href = data.customerUrl;
    else customer.removeAttribute("href");
    $("[data-f=phone]", apptDialog).textContent = data.phone || "—";
    $("[data-f=resources]", apptDialog).textContent = data.resources;
    $("[data-f=status]", apptDialog).textContent = data.statusLabel;
    $("[data-f=source]", apptDialog).textContent = data.source;
    $("[data-f=notes]", apptDialog).textContent = data.notes || "—";
    $$("[data-when]", apptDialog).forEach(
      (b) => (b.hidden = !b.dataset.when.split(" ").includes(data.status) || ("afterStart" in b.dataset && !("begun" in data)))
    );
    resetOffsets(apptDialog);
    $("#move-date").value = data.date;
    $("#move-time").value = data.start;
    if (data.staff) $("#move-staff").value = data.staff;
    $$("details", apptDialog).forEach((d) => (d.open = false));
    $(".cancel-box", apptDialog).hidden = data.status === "cancelled";
    open(apptDialog);
  }

  if (apptDialog) {
    $$("[data-status-form]", apptDialog).forEach((form) =>
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const body = new FormData(form);
        if (event.submitter && event.submitter.name) body.set(event.submitter.name, event.submitter.value);
        const data = await post("/calendar/appointments/" + current.id + "/status/", body, apptDialog);
        if (data) window.location.reload();
      })
    );
    $("[data-move-form]", apptDialog).addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = await post("/calendar/appointments/" + current.id + "/move/", new FormData(event.target), apptDialog);
      if (data) {
        const date = $("#move-date").value;
        const url = new URL(window.location.href);
        url.searchParams.set("date", date);
        window.location.assign(url.toString());
      }
    });
  }

  // --- Next free slots ----------------------------------------------------------------------------------
  if (finderDialog && cal) {
    const list = $(".finder-results", finderDialog);
    $("#finder-service").addEventListener("change", async (event) => {
      list.innerHTML = "";
      $(".finder-empty", finderDialog).hidden = true;
      showError(finderDialog, "");
      if (!event.target.value) return;
      const response = await fetch(cal.dataset.freeUrl + "?service=" + event.target.value, { credentials: "same-origin" });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        showError(finderDialog, data.detail || strings.error);
        return;
      }
      $(".finder-empty", finderDialog).hidden = data.slots.length > 0;
      data.slots.forEach((slot) => {
        const li = document.createElement("li");
        const when = new Date(slot.date + "T00:00:00");
        const label = document.createElement("span");
        label.textContent = when.toLocaleDateString(document.documentElement.lang, { weekday: "short", day: "numeric", month: "short" }) +
          ", " + slot.time + " " + strings.with + " " + slot.staff.map((s) => s.name).join(", ");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-small";
        button.textContent = strings.book;
        button.addEventListener("click", () => {
          finderDialog.close();
          openBooking({ date: slot.date, time: slot.time, resource: slot.staff.length ? slot.staff[0].id : null, kind: "staff", service: event.target.value });
        });
        li.append(label, button);
        list.appendChild(li);
      });
    });
  }
})();
