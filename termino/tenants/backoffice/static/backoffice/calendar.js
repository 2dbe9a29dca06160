// The calendar page: the vendored EventCalendar component (day, week, month; a column per staff member or
// room) fed from events.json, and the dialogs. Dragging an appointment moves it (also to another staff
// member), dragging its lower edge changes its length, dragging over free time books or blocks it. Each
// change is posted as form data to a JSON view; the component shows it at once, and a refusal (e.g. 409
// "… is already booked from 10:00 to 10:30") puts the appointment back and shows the server's reason.
// Every drag has a dialog alternative for keyboards and touch screens: Move, Change length, Block time.
//
// Times are the business's wall-clock time throughout ("2027-01-18T10:00:00", no offset). The component
// runs at a fixed offset: the business's offset now, corrected by how far the device's clock is from the
// server's, so the current-time line shows the server's "now" in the business's zone.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const strings = ($("#t-strings") || { dataset: {} }).dataset;
  const services = JSON.parse(($("#cal-services") || { textContent: "[]" }).textContent);
  const configNode = $("#cal-config");
  const config = configNode ? JSON.parse(configNode.textContent) : null;
  const bookDialog = $("#book-dialog");
  const apptDialog = $("#appt-dialog");
  const blockDialog = $("#block-dialog");
  const blockedDialog = $("#blocked-dialog");
  const finderDialog = $("#finder-dialog");
  const notice = $("[data-notice]");
  const lang = document.documentElement.lang || "en";
  const locale = lang === "en" ? "en-GB" : lang;

  const pad = (n) => String(n).padStart(2, "0");
  const ymd = (d) => d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  const hm = (d) => pad(d.getHours()) + ":" + pad(d.getMinutes());
  // Minutes on the wall clock between two of the component's dates (its dates carry wall-clock fields).
  const wallMinutes = (d) => Date.UTC(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()) / 60000;
  const addMinutes = (time, minutes) => {
    const [h, m] = time.split(":").map(Number);
    const total = Math.min(h * 60 + m + minutes, 24 * 60 - 5);
    return pad(Math.floor(total / 60)) + ":" + pad(total % 60);
  };
  // "Di., 8. Dez. 2026" / "Tue 8 Dec 2026": a date in the page's language.
  const dateFormat = new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  const longDate = (iso) => {
    const [y, m, d] = iso.split("-").map(Number);
    return dateFormat.format(new Date(Date.UTC(y, m - 1, d)));
  };
  const span = (p) =>
    p.date === p.endDate
      ? longDate(p.date) + ", " + p.from + "–" + p.until
      : longDate(p.date) + ", " + p.from + " – " + longDate(p.endDate) + ", " + p.until;

  function csrfToken() {
    const field = $("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // --- Messages ------------------------------------------------------------------------------------------
  function showError(dialog, message) {
    const box = $(".error-box", dialog);
    box.textContent = message || "";
    box.hidden = !message;
    if (message) box.scrollIntoView({ block: "nearest" });
  }

  let noticeTimer = null;
  function showNotice(message, kind) {
    if (!notice) return;
    clearTimeout(noticeTimer);
    notice.textContent = message || "";
    notice.className = "cal-notice " + (kind === "error" ? "alert-error" : "alert-info");
    notice.hidden = !message;
    if (message && kind !== "error") noticeTimer = setTimeout(() => (notice.hidden = true), 5000);
  }

  // Posts form data; the answer's JSON, or null with the server's message shown (in `dialog` or above the
  // calendar).
  async function post(url, body, dialog) {
    if (dialog) showError(dialog, "");
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        body,
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      });
    } catch (e) {
      dialog ? showError(dialog, strings.error) : showNotice(strings.error, "error");
      return null;
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = data.detail || strings.error;
      dialog ? showError(dialog, message) : showNotice(message, "error");
      if (dialog && data.offsets) offerOffsets(dialog, data.offsets);
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
  $$("input[name=date], input[name=time]").forEach((input) =>
    input.addEventListener("change", () => resetOffsets(input.closest("dialog")))
  );

  // --- The calendar component ----------------------------------------------------------------------------
  let ec = null;
  const single = config && (config.resource || (config.resources.length === 1 ? config.resources[0].id : null));
  const refresh = () => ec && ec.refetchEvents();

  function fixedOffset() {
    const skew = Math.round((Date.parse(config.now) - Date.now()) / 60000);
    const minutes = config.offset + skew;
    const abs = Math.abs(minutes);
    return (minutes < 0 ? "-" : "+") + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }

  function viewName() {
    if (config.view === "month") return "dayGridMonth";
    if (config.view === "week") return single ? "timeGridWeek" : "resourceTimeGridWeek";
    return "resourceTimeGridDay";
  }

  function text(tag, className, value) {
    const el = document.createElement(tag);
    el.className = className;
    el.textContent = value;
    return el;
  }

  const narrow = window.matchMedia("(max-width: 640px)");

  function eventContent(info) {
    const event = info.event;
    const p = event.extendedProps;
    if (p.kind !== "appointment" && p.kind !== "block") return undefined; // shading, the selection
    if (p.kind === "block") {
      return { domNodes: [text("span", "t", p.from + "–" + p.until), text("span", "c", event.title)] };
    }
    if (config.view === "month") {
      // A day of a month on a phone is narrow: the name tells more than the time.
      if (narrow.matches) return { domNodes: [text("span", "c", event.title)] };
      return { domNodes: [text("span", "t", p.from), text("span", "c", event.title)] };
    }
    const label = p.service + (p.status !== "confirmed" ? " · " + p.statusLabel : "");
    const nodes = [text("span", "t", p.from + "–" + p.until), text("span", "c", event.title), text("span", "s", label)];
    if (p.processing) {
      // The pale band (calendar.css) says where; this line says when, for those who cannot see it.
      nodes.push(text("span", "s g", strings.processing + " " + p.processing.from + "–" + p.processing.until));
    }
    return { domNodes: nodes };
  }

  async function dropped(info) {
    const event = info.event;
    const body = new FormData();
    body.set("date", ymd(event.start));
    body.set("time", hm(event.start));
    if (info.newResource && config.by === "staff") body.set("staff", info.newResource.id);
    showNotice(strings.saving);
    const data = await post(config.urls.appointment + event.id + "/move/", body, null);
    if (!data) {
      info.revert();
      return;
    }
    showNotice(data.message);
    refresh();
  }

  async function resized(info) {
    const event = info.event;
    const body = new FormData();
    body.set("minutes", String(wallMinutes(event.end) - wallMinutes(event.start)));
    showNotice(strings.saving);
    const data = await post(config.urls.appointment + event.id + "/resize/", body, null);
    if (!data) {
      info.revert();
      return;
    }
    showNotice(data.message);
    refresh();
  }

  function resourceOf(info) {
    return info.resource ? Number(info.resource.id) : single;
  }

  function setDate(day) {
    $$("[data-date-field], [data-goto]").forEach((input) => (input.value = day));
    const url = new URL(window.location.href);
    url.searchParams.set("date", day);
    history.replaceState(null, "", url.toString());
  }

  if (config && $("#cal")) {
    const timeFormat = { hour: "2-digit", minute: "2-digit", hour12: false };
    ec = EventCalendar.create($("#cal"), {
      view: viewName(),
      date: config.date,
      locale,
      timeZone: fixedOffset(),
      firstDay: 1,
      nowIndicator: true,
      height: "auto",
      resources: config.resource ? config.resources.filter((r) => r.id === config.resource) : config.resources,
      allDaySlot: false,
      headerToolbar: { start: "prev,next today", center: "title", end: "" },
      buttonText: (defaults) => ({ ...defaults, today: strings.todayButton, prev: strings.prev, next: strings.next }),
      slotMinTime: config.slotMin,
      slotMaxTime: config.slotMax,
      flexibleSlotTimeLimits: true,
      slotDuration: "00:30",
      snapDuration: "00:15",
      slotHeight: 44,
      slotLabelFormat: timeFormat,
      eventTimeFormat: timeFormat,
      dayMaxEvents: true,
      editable: config.editable,
      selectable: config.editable && config.view !== "month",
      eventDurationEditable: config.view !== "month",
      longPressDelay: 400,
      pointer: true,
      views: {
        resourceTimeGridWeek: { datesAboveResources: true, dayHeaderFormat: { weekday: "short", day: "numeric", month: "numeric" } },
        timeGridWeek: { dayHeaderFormat: { weekday: "short", day: "numeric", month: "numeric" } },
      },
      eventSources: [
        {
          events: async (info) => {
            const params = new URLSearchParams({ start: ymd(info.start), end: ymd(info.end), by: config.by });
            if (config.resource) params.set("resource", config.resource);
            const response = await fetch(config.urls.feed + "?" + params, { headers: { Accept: "application/json" }, credentials: "same-origin" });
            if (!response.ok) {
              showNotice(strings.error, "error");
              return [];
            }
            return (await response.json()).events;
          },
        },
      ],
      eventContent,
      eventClick: (info) => {
        // Opened with Enter: keep its keypress from pressing the dialog's first button (Close).
        if (info.jsEvent && info.jsEvent.type === "keydown") info.jsEvent.preventDefault();
        const p = info.event.extendedProps;
        if (p.kind === "appointment") openAppointment(info.event.id, p);
        else if (p.kind === "block") openBlocked(p);
      },
      // Rooms are given by the service; only staff columns can be changed by dragging.
      dragConstraint: (info) => !(info.newResource && config.by !== "staff"),
      eventDrop: dropped,
      eventResize: resized,
      dateClick: (info) => {
        if (config.view === "month") {
          const url = new URL(window.location.href);
          url.searchParams.set("view", "day");
          url.searchParams.set("date", ymd(info.date));
          window.location.assign(url.toString());
          return;
        }
        if (!config.editable) return;
        openBooking({ date: ymd(info.date), time: hm(info.date), until: addMinutes(hm(info.date), 30), resource: resourceOf(info) });
      },
      select: (info) => {
        if (info.allDay) return;
        openBooking({ date: ymd(info.start), time: hm(info.start), until: ymd(info.end) === ymd(info.start) ? hm(info.end) : "00:00", resource: resourceOf(info) });
      },
      datesSet: (info) => setDate(ymd(config.view === "month" ? info.view.currentStart : info.start)),
    });
    const goto = $("[data-goto]");
    if (goto) goto.addEventListener("change", () => goto.value && ec.setOption("date", goto.value));
    $$("dialog").forEach((dialog) => dialog.addEventListener("close", () => ec.unselect()));
  }

  // --- Booking -------------------------------------------------------------------------------------------
  const bookForm = bookDialog && $("form", bookDialog);
  let selection = null; // the time last chosen on the calendar, for "block this time instead"

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

  function openBooking({ date, time, until, resource, service }) {
    if (!bookForm) return;
    selection = { date, time, until, resource };
    bookForm.reset();
    chooseCustomer(null);
    if (config && config.customer) chooseCustomer(config.customer.id, config.customer.name);
    $(".search-results", bookDialog).innerHTML = "";
    resetOffsets(bookDialog);
    // The business's today, from the server: the device's clock or zone may differ.
    $("#book-date").value = date || config.date;
    $("#book-time").value = time || "";
    const staffSelect = $("#book-staff");
    if (config && config.by === "room") {
      const room = $("#book-room");
      if (room && resource) room.value = String(resource);
    } else if (resource && $$("option", staffSelect).some((o) => o.value === String(resource))) {
      staffSelect.value = String(resource);
    }
    filterServices(config && config.by === "room" ? null : staffSelect.value);
    if (service) $("#book-service").value = String(service);
    toggleRoom();
    open(bookDialog);
    ($("#book-service").value ? ($("#book-customer").value ? $("#book-notes") : $("#book-customer-q")) : $("#book-service")).focus();
  }

  function stopBookingForCustomer() {
    if (!config || !config.customer) return;
    config.customer = null;
    const banner = $("[data-booking-for]");
    if (banner) banner.hidden = true;
    const url = new URL(window.location.href);
    url.searchParams.delete("customer");
    history.replaceState(null, "", url.toString());
    $$("input[name=customer]", $(".cal-toolbar")).forEach((input) => input.remove());
  }

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
      if (!data) return;
      bookDialog.close();
      stopBookingForCustomer();
      showNotice(data.message);
      const day = $("#book-date").value;
      if (ec && day) ec.setOption("date", day);
      refresh();
    });
    $("[data-switch-to-block]", bookDialog).addEventListener("click", () => {
      bookDialog.close();
      openBlock({ ...selection, date: $("#book-date").value || selection.date, time: $("#book-time").value || selection.time });
    });
  }
  $$("[data-new-appointment]").forEach((b) =>
    b.addEventListener("click", () => openBooking({ date: config && config.date, resource: single }))
  );

  // --- Blocking time -------------------------------------------------------------------------------------
  const blockForm = blockDialog && $("form", blockDialog);

  function openBlock({ date, time, until, resource }) {
    if (!blockForm) return;
    blockForm.reset();
    resetOffsets(blockDialog);
    $("#block-date").value = date || (config && config.date) || "";
    $("#block-time").value = time || "";
    $("#block-until").value = until || (time ? addMinutes(time, 60) : "");
    const select = $("#block-resource");
    if (resource && $$("option", select).some((o) => o.value === String(resource))) select.value = String(resource);
    open(blockDialog);
    $("#block-reason").focus();
  }

  if (blockForm) {
    blockForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = await post(config.urls.block, new FormData(blockForm), blockDialog);
      if (!data) return;
      blockDialog.close();
      showNotice(data.message);
      const day = $("#block-date").value;
      if (ec && day) ec.setOption("date", day);
      refresh();
    });
  }
  $$("[data-new-block]").forEach((b) => b.addEventListener("click", () => openBlock({ date: config && config.date, resource: single })));

  let currentBlock = null;
  function openBlocked(p) {
    currentBlock = p;
    $("[data-f=when]", blockedDialog).textContent = span(p);
    $("[data-f=reason]", blockedDialog).textContent = p.reason || "—";
    open(blockedDialog);
  }
  if (blockedDialog) {
    $("[data-unblock-form]", blockedDialog).addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = await post(config.urls.blocks + currentBlock.closure + "/delete/", new FormData(event.target), blockedDialog);
      if (!data) return;
      blockedDialog.close();
      showNotice(data.message);
      refresh();
    });
  }

  // --- One appointment -----------------------------------------------------------------------------------
  let current = null;

  function openAppointment(id, data) {
    current = { id, ...data };
    $("#appt-title").textContent = data.service;
    const payments = $("[data-payments-link]", apptDialog); // payments of this appointment (owners, managers)
    if (payments) payments.href = payments.dataset.href.replace(/\/0\/$/, "/" + id + "/");
    $("[data-f=when]", apptDialog).textContent = span(data);
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
      (b) => (b.hidden = !b.dataset.when.split(" ").includes(data.status) || ("afterStart" in b.dataset && !data.begun))
    );
    resetOffsets(apptDialog);
    $("#move-date").value = data.date;
    $("#move-time").value = data.from.slice(0, 5);
    if (data.staff) $("#move-staff").value = data.staff;
    $("#resize-minutes").value = data.minutes;
    $$("details", apptDialog).forEach((d) => (d.open = false));
    $(".cancel-box", apptDialog).hidden = data.status === "cancelled";
    open(apptDialog);
    apptDialog.dispatchEvent(new CustomEvent("appointment-open", { detail: current }));
  }

  async function changed(data) {
    if (!data) return;
    apptDialog.close();
    showNotice(data.message);
    refresh();
  }

  if (apptDialog) {
    $$("[data-status-form]", apptDialog).forEach((form) =>
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const body = new FormData(form);
        if (event.submitter && event.submitter.name) body.set(event.submitter.name, event.submitter.value);
        changed(await post(config.urls.appointment + current.id + "/status/", body, apptDialog));
      })
    );
    $("[data-move-form]", apptDialog).addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = await post(config.urls.appointment + current.id + "/move/", new FormData(event.target), apptDialog);
      if (data && ec) ec.setOption("date", $("#move-date").value);
      changed(data);
    });
    $("[data-resize-form]", apptDialog).addEventListener("submit", async (event) => {
      event.preventDefault();
      changed(await post(config.urls.appointment + current.id + "/resize/", new FormData(event.target), apptDialog));
    });
  }

  // What calendar_series.js (the booking dialog's "Repeat" section, series moves and cancellations) uses.
  window.terminoCalendar = { post, showNotice, refresh, goTo: (day) => ec && day && ec.setOption("date", day) };

  // --- Next free slots -----------------------------------------------------------------------------------
  if (finderDialog && config) {
    const list = $(".finder-results", finderDialog);
    $("#finder-service").addEventListener("change", async (event) => {
      list.innerHTML = "";
      $(".finder-empty", finderDialog).hidden = true;
      showError(finderDialog, "");
      if (!event.target.value) return;
      const response = await fetch(config.urls.free + "?service=" + event.target.value, { credentials: "same-origin" });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        showError(finderDialog, data.detail || strings.error);
        return;
      }
      $(".finder-empty", finderDialog).hidden = data.slots.length > 0;
      data.slots.forEach((slot) => {
        const li = document.createElement("li");
        const label = document.createElement("span");
        label.textContent = longDate(slot.date) + ", " + slot.time + " " + strings.with + " " + slot.staff.map((s) => s.name).join(", ");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-small";
        button.textContent = strings.book;
        button.addEventListener("click", () => {
          finderDialog.close();
          openBooking({ date: slot.date, time: slot.time, resource: slot.staff.length ? slot.staff[0].id : null, service: event.target.value });
        });
        li.append(label, button);
        list.appendChild(li);
      });
    });
  }
})();
