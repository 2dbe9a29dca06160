/* Termino booking page and manage page. Plain JS, no build step, no cookies, no storage.
 *
 * The templates render every text (translated) and the static markup; this script fills in what comes
 * from the public API (/api/public/v1/): staff, free times, holds, the booking and its confirmation.
 * Dates and times are always shown in the business's time zone (data-tz), whatever the device's zone.
 */
(function () {
  "use strict";

  // --- Small helpers -------------------------------------------------------------------------------------

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  /** Texts from <template id="booking-texts">: t("key", {placeholder: value}). */
  function loadTexts() {
    var texts = {};
    var tpl = document.getElementById("booking-texts");
    if (tpl) {
      $$("[data-key]", tpl.content || tpl).forEach(function (node) {
        texts[node.getAttribute("data-key")] = node.textContent.trim();
      });
    }
    return function t(key, vars) {
      var text = texts[key] !== undefined ? texts[key] : key;
      return text.replace(/\{(\w+)\}/g, function (match, name) {
        return vars && vars[name] !== undefined ? String(vars[name]) : match;
      });
    };
  }

  // --- The public API ------------------------------------------------------------------------------------

  /** fetch() in JSON; resolves to {status, data, retryAfter}, rejects only when the network fails. */
  function Api(base) {
    this.base = base.replace(/\/?$/, "/");
  }
  Api.prototype.request = function (method, path, body, headers) {
    var init = {
      method: method,
      credentials: "omit",
      headers: Object.assign({ Accept: "application/json" }, headers || {}),
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method === "DELETE") init.keepalive = true;
    return fetch(this.base + path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return {
          status: response.status,
          data: data || {},
          retryAfter: parseInt(response.headers.get("Retry-After") || "0", 10) || 0,
        };
      });
    });
  };
  Api.prototype.get = function (path) { return this.request("GET", path); };
  Api.prototype.post = function (path, body, headers) { return this.request("POST", path, body || {}, headers); };
  Api.prototype.del = function (path) { return this.request("DELETE", path); };

  // --- Dates in the business's time zone -----------------------------------------------------------------

  /** Calendar dates are "YYYY-MM-DD" strings; arithmetic happens on UTC midnights, so no zone can shift them. */
  function ymdToUtc(ymd) {
    var p = ymd.split("-");
    return new Date(Date.UTC(+p[0], +p[1] - 1, +p[2]));
  }
  function utcToYmd(date) { return date.toISOString().slice(0, 10); }
  function addDays(ymd, n) {
    var d = ymdToUtc(ymd);
    d.setUTCDate(d.getUTCDate() + n);
    return utcToYmd(d);
  }
  function mondayOf(ymd) {
    var weekday = (ymdToUtc(ymd).getUTCDay() + 6) % 7; // Monday = 0
    return addDays(ymd, -weekday);
  }

  function Format(lang, zone, serverNow, priceLocale) {
    this.locale = lang === "de" ? "de-DE" : lang === "en" ? "en-GB" : lang || "de-DE";
    this.zone = zone;
    var server = serverNow ? Date.parse(serverNow) : NaN;
    this.clockOffset = isNaN(server) ? 0 : server - Date.now();
    var loc = this.locale;
    function dtf(options) { return new Intl.DateTimeFormat(loc, options); }
    this._ymd = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
    this._time = dtf({ timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    this._zoneName = dtf({ timeZone: zone, hour: "2-digit", timeZoneName: "short" });
    this._dayLong = dtf({ timeZone: "UTC", weekday: "long", day: "numeric", month: "long", year: "numeric" });
    this._dayMedium = dtf({ timeZone: "UTC", weekday: "short", day: "numeric", month: "short" });
    this._weekday = dtf({ timeZone: "UTC", weekday: "short" });
    this._dayNum = dtf({ timeZone: "UTC", day: "numeric" });
    this._range = dtf({ timeZone: "UTC", day: "numeric", month: "short", year: "numeric" });
    this._minutes = new Intl.NumberFormat(loc, { style: "unit", unit: "minute", unitDisplay: "short" });
    // Prices as the server writes them: the page's language as written in the business's country.
    this._money = new Intl.NumberFormat(priceLocale || loc, { style: "currency", currency: "EUR" });
  }
  /** The calendar date of an instant in the business's zone. */
  Format.prototype.ymd = function (date) {
    var parts = {};
    this._ymd.formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  };
  /** Now, by the server's clock: the page's notion of today must not depend on the device's clock. */
  Format.prototype.now = function () { return new Date(Date.now() + this.clockOffset); };
  Format.prototype.today = function () { return this.ymd(this.now()); };
  Format.prototype.time = function (date) { return this._time.format(date); };
  Format.prototype.zoneAbbr = function (date) {
    var part = this._zoneName.formatToParts(date).filter(function (p) { return p.type === "timeZoneName"; })[0];
    return part ? part.value : this.zone;
  };
  Format.prototype.dayLong = function (ymd) { return this._dayLong.format(ymdToUtc(ymd)); };
  Format.prototype.dayMedium = function (ymd) { return this._dayMedium.format(ymdToUtc(ymd)); };
  Format.prototype.weekday = function (ymd) { return this._weekday.format(ymdToUtc(ymd)); };
  Format.prototype.dayNum = function (ymd) { return this._dayNum.format(ymdToUtc(ymd)); };
  /** "30 Nov – 6 Dec 2026" */
  Format.prototype.weekLabel = function (monday) {
    var a = ymdToUtc(monday);
    var b = ymdToUtc(addDays(monday, 6));
    return this._range.formatRange ? this._range.formatRange(a, b) : this._range.format(a) + " – " + this._range.format(b);
  };
  Format.prototype.minutes = function (n) { return this._minutes.format(n); };
  Format.prototype.money = function (amount) { return this._money.format(Number(amount)); };
  /** "Monday, 30 November 2026, 09:00–09:30 CET" */
  Format.prototype.span = function (start, end) {
    var s = new Date(start);
    var text = this.dayLong(this.ymd(s)) + ", " + this.time(s);
    if (end) text += "–" + this.time(new Date(end));
    return text + " " + this.zoneAbbr(s);
  };
  Format.prototype.slotShort = function (start) {
    var s = new Date(start);
    return this.dayMedium(this.ymd(s)) + ", " + this.time(s);
  };

  // --- Accent colour with enough contrast ----------------------------------------------------------------

  function luminance(hex) {
    var m = /^#?([0-9a-f]{6})$/i.exec((hex || "").trim());
    if (!m) return null;
    var n = parseInt(m[1], 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    }).reduce(function (sum, c, i) { return sum + c * [0.2126, 0.7152, 0.0722][i]; }, 0);
  }
  function contrast(l1, l2) { return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05); }
  function darken(hex, factor) {
    var n = parseInt(hex.replace("#", ""), 16);
    return "#" + [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(function (c) {
      return Math.round(c * factor).toString(16).padStart(2, "0");
    }).join("");
  }
  /** Text on the accent is white or near-black, whichever reads better; text in the accent on white
   *  is darkened until it reaches 4.5:1. */
  function applyBrand() {
    var root = document.documentElement;
    var brand = getComputedStyle(root).getPropertyValue("--brand").trim();
    var lum = luminance(brand);
    if (lum === null) return;
    root.style.setProperty("--brand-ink", contrast(lum, 1) >= contrast(lum, luminance("#111827")) ? "#ffffff" : "#111827");
    var text = brand;
    for (var i = 0; i < 12 && contrast(luminance(text), 1) < 4.5; i++) text = darken(text, 0.85);
    root.style.setProperty("--brand-text", text);
  }

  // --- Embedded in an iframe: tell the parent how tall we are --------------------------------------------

  function reportHeight() {
    if (window.parent === window) return;
    var last = 0;
    function post() {
      // The body's own height (not the document's, which never drops below the iframe's height),
      // so the frame shrinks again when a step gets shorter.
      var height = Math.ceil(document.body.getBoundingClientRect().height);
      if (height === last) return;
      last = height;
      window.parent.postMessage({ type: "termino:height", height: height }, "*");
    }
    post();
    window.addEventListener("load", post);
    if (window.ResizeObserver) new ResizeObserver(post).observe(document.body);
    else setInterval(post, 500);
  }

  /** Links to #bk-impressum / #bk-privacy open the <details> they point at. */
  function openDetailsLinks() {
    function open(hash) {
      var target = hash && hash.length > 1 ? document.getElementById(hash.slice(1)) : null;
      if (target && target.tagName === "DETAILS") {
        target.open = true;
        return target;
      }
      return null;
    }
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-open-details]");
      if (!link) return;
      var target = open(link.getAttribute("href"));
      if (target) {
        event.preventDefault();
        target.scrollIntoView({ behavior: "smooth", block: "start" });
        $("summary", target).focus();
      }
    });
    open(location.hash);
  }

  // --- Day and time picker (booking page and manage page) -------------------------------------------------

  /**
   * Week strip with prev/next, days without free times disabled, free times as buttons.
   * opts: api, fmt, t, live(text), onChoose(slot) ; call picker.load(serviceId, resourceId).
   */
  function Picker(root, opts) {
    this.root = root;
    this.opts = opts;
    this.cache = {};
    this.weekStart = null;
    this.day = null;
    this.chosen = null;
    this.serviceId = null;
    this.resourceId = null;
    this.daysBox = $("[data-days]", root);
    this.timesBox = $("[data-times]", root);
    this.timesStatus = $("[data-times-status]", root);
    this.timesLabel = $("[data-times-label]", root);
    this.weekLabel = $("[data-week-label]", root);
    this.prev = $("[data-prev]", root);
    this.next = $("[data-next]", root);
    this.conflict = $("[data-conflict]", root);
    this.defaultTimesLabel = this.timesLabel.textContent;
    var self = this;
    this.prev.addEventListener("click", function () { self.showWeek(addDays(self.weekStart, -7), false); });
    this.next.addEventListener("click", function () { self.showWeek(addDays(self.weekStart, 7), false); });
  }
  Picker.MAX_WEEKS_AHEAD = 26;

  Picker.prototype.load = function (serviceId, resourceId, preferredDay) {
    var changed = serviceId !== this.serviceId || resourceId !== this.resourceId;
    this.serviceId = serviceId;
    this.resourceId = resourceId;
    if (changed) {
      this.cache = {};
      this.day = null;
      this.chosen = null;
    }
    this.hideConflict();
    var thisWeek = mondayOf(this.opts.fmt.today());
    var start = preferredDay ? mondayOf(preferredDay) : this.weekStart && !changed ? this.weekStart : thisWeek;
    if (start < thisWeek) start = thisWeek;
    if (preferredDay) this.day = preferredDay;
    return this.showWeek(start, changed || !this.weekStart);
  };

  Picker.prototype.fetchWeek = function (monday) {
    var key = this.serviceId + ":" + (this.resourceId || "") + ":" + monday;
    if (!this.cache[key]) {
      var query = "availability/?service=" + encodeURIComponent(this.serviceId) + "&start=" + monday + "&end=" + addDays(monday, 6);
      // A visit ("visit:3,5"): when the services can be had back to back.
      var visit = String(this.serviceId).split("visit:")[1];
      if (visit) query = "visits/availability/?services=" + encodeURIComponent(visit) + "&start=" + monday + "&end=" + addDays(monday, 6);
      if (this.resourceId) query += "&resource=" + encodeURIComponent(this.resourceId);
      var cache = this.cache;
      cache[key] = this.opts.api.get(query).then(function (r) {
        if (r.status !== 200) throw new Error("availability " + r.status);
        return r.data.slots || [];
      }).catch(function (err) { delete cache[key]; throw err; });
    }
    return this.cache[key];
  };

  Picker.prototype.invalidate = function () { this.cache = {}; };

  /** Shows the week starting `monday`; with `seek`, moves on to the first week that has free times. */
  Picker.prototype.showWeek = function (monday, seek) {
    var self = this;
    var fmt = this.opts.fmt;
    var t = this.opts.t;
    var thisWeek = mondayOf(fmt.today());
    this.weekStart = monday;
    // Busy until this week (or the first later one with free times) is shown: tests and screen readers
    // wait for it instead of racing the seek.
    this.root.setAttribute("aria-busy", "true");
    this.weekLabel.textContent = fmt.weekLabel(monday);
    this.prev.disabled = monday <= thisWeek;
    this.next.disabled = monday >= addDays(thisWeek, 7 * Picker.MAX_WEEKS_AHEAD);
    this.renderDays(monday, null);
    this.setTimesMessage(t("loading"), true);
    var token = (this.loadToken = {});
    return this.fetchWeek(monday).then(function (slots) {
      if (token !== self.loadToken) return;
      var byDay = {};
      slots.forEach(function (slot) {
        var day = fmt.ymd(new Date(slot.start));
        (byDay[day] = byDay[day] || []).push(slot);
      });
      var days = Object.keys(byDay).sort();
      if (!days.length && seek && monday < addDays(thisWeek, 7 * 8)) {
        return self.showWeek(addDays(monday, 7), true);
      }
      self.byDay = byDay;
      self.renderDays(monday, byDay);
      self.root.setAttribute("aria-busy", "false");
      if (!days.length) {
        self.setTimesMessage(seek ? t("noSlotsAhead") : t("noSlotsWeek"));
        self.opts.live(self.weekLabel.textContent + ": " + (seek ? t("noSlotsAhead") : t("noSlotsWeek")));
        return;
      }
      var day = self.day && byDay[self.day] ? self.day : days[0];
      self.selectDay(day, false);
      // Warm the next week so "next" answers at once.
      if (!self.next.disabled) self.fetchWeek(addDays(monday, 7)).catch(function () {});
    }).catch(function () {
      if (token !== self.loadToken) return;
      self.root.setAttribute("aria-busy", "false");
      self.renderDays(monday, {});
      self.setTimesMessage(t("loadFailed"));
      self.timesBox.appendChild(el("button", {
        type: "button", className: "btn btn-secondary", text: t("retry"),
        onclick: function () { self.showWeek(monday, seek); },
      }));
    });
  };

  Picker.prototype.renderDays = function (monday, byDay) {
    var self = this;
    var fmt = this.opts.fmt;
    var t = this.opts.t;
    var today = fmt.today();
    this.daysBox.textContent = "";
    for (var i = 0; i < 7; i++) {
      (function (day) {
        var slots = byDay ? byDay[day] || [] : [];
        var free = slots.length > 0;
        var label = !byDay ? fmt.dayLong(day)
          : free ? t("slotsCount", { date: fmt.dayLong(day), count: slots.length })
          : t("dayFull", { date: fmt.dayLong(day) });
        var button = el("button", {
          type: "button",
          className: "bk-day" + (day === today ? " is-today" : "") + (free ? "" : " is-empty"),
          "data-day": day,
          "aria-label": label,
          "aria-pressed": day === self.day && free ? "true" : "false",
          disabled: !free,
          onclick: function () { self.selectDay(day, true); },
        }, [
          el("span", { className: "bk-day-name", text: fmt.weekday(day) }),
          el("span", { className: "bk-day-num", text: fmt.dayNum(day) }),
          el("span", { className: "bk-day-dot", "aria-hidden": "true" }),
        ]);
        self.daysBox.appendChild(button);
      })(addDays(monday, i));
    }
  };

  Picker.prototype.setTimesMessage = function (text, busy) {
    this.timesLabel.textContent = this.defaultTimesLabel;
    this.timesStatus.textContent = text || "";
    this.timesStatus.hidden = !text;
    this.timesBox.textContent = "";
    this.timesBox.setAttribute("aria-busy", busy ? "true" : "false");
    if (busy) {
      var skeleton = el("div", { className: "bk-times-grid", "aria-hidden": "true" });
      for (var i = 0; i < 8; i++) skeleton.appendChild(el("span", { className: "bk-skeleton" }));
      this.timesBox.appendChild(skeleton);
    }
  };

  Picker.prototype.selectDay = function (day, announce) {
    var self = this;
    var fmt = this.opts.fmt;
    var t = this.opts.t;
    this.day = day;
    $$("[data-day]", this.daysBox).forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-day") === day ? "true" : "false");
    });
    var slots = (this.byDay && this.byDay[day]) || [];
    this.setTimesMessage("");
    this.timesLabel.textContent = t("timesOn", { date: fmt.dayLong(day) });
    var groups = [[], [], []];
    slots.forEach(function (slot) {
      var hour = parseInt(fmt.time(new Date(slot.start)).slice(0, 2), 10);
      groups[hour < 12 ? 0 : hour < 17 ? 1 : 2].push(slot);
    });
    var names = [t("morning"), t("afternoon"), t("evening")];
    var useGroups = slots.length > 8 && groups.filter(function (g) { return g.length; }).length > 1;
    groups.forEach(function (group, index) {
      if (!group.length) return;
      if (useGroups) self.timesBox.appendChild(el("p", { className: "bk-times-group", text: names[index] }));
      var grid = el("div", { className: "bk-times-grid" });
      group.forEach(function (slot) {
        var isChosen = self.chosen && self.chosen.start === slot.start;
        grid.appendChild(el("button", {
          type: "button",
          className: "bk-time",
          "data-start": slot.start,
          "aria-pressed": isChosen ? "true" : "false",
          text: fmt.time(new Date(slot.start)),
          onclick: function () { self.choose(slot); },
        }));
      });
      self.timesBox.appendChild(grid);
    });
    if (announce) this.opts.live(this.timesLabel.textContent + " (" + slots.length + ")");
  };

  Picker.prototype.choose = function (slot) {
    this.chosen = slot;
    $$(".bk-time", this.timesBox).forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-start") === slot.start ? "true" : "false");
    });
    this.opts.onChoose(slot);
  };

  /** A time was taken meanwhile: say so, list the nearest free times, reload the week. */
  Picker.prototype.showConflict = function (message, nearest) {
    renderConflict(this.conflict, message, nearest, this.opts, this.choose.bind(this));
    this.invalidate();
    this.chosen = null;
    var focusTarget = $("[data-conflict-slots] button", this.conflict) || this.conflict;
    this.showWeek(this.weekStart, false).then(function () {
      if (focusTarget.tabIndex < 0 && focusTarget.tagName !== "BUTTON") focusTarget.setAttribute("tabindex", "-1");
      focusTarget.focus();
    });
  };
  Picker.prototype.hideConflict = function () { if (this.conflict) this.conflict.hidden = true; };

  /** Fills a [data-conflict] box: message plus buttons for the nearest free slots. */
  function renderConflict(box, message, nearest, opts, onChoose) {
    var t = opts.t;
    var fmt = opts.fmt;
    $("[data-conflict-msg]", box).textContent = message || t("taken");
    var slotsBox = $("[data-conflict-slots]", box);
    var lead = $("[data-conflict-lead]", box);
    slotsBox.textContent = "";
    (nearest || []).forEach(function (slot) {
      slotsBox.appendChild(el("button", {
        type: "button",
        className: "bk-time bk-time-wide",
        "data-start": slot.start,
        text: fmt.slotShort(slot.start),
        onclick: function () { onChoose(slot); },
      }));
    });
    if (!lead.hasAttribute("data-default")) lead.setAttribute("data-default", lead.textContent);
    lead.textContent = nearest && nearest.length ? lead.getAttribute("data-default") : t("noNearest");
    box.hidden = false;
  }

  // --- The booking page ----------------------------------------------------------------------------------

  var STEPS = ["service", "staff", "time", "details"];
  // The server refuses forms sent sooner than `form_min_seconds` (services/) after it handed out the token;
  // the page waits that long, and a little more for the clocks' difference.
  var FORM_AGE_MARGIN_MS = 300;

  function BookingPage(root) {
    this.root = root;
    this.t = loadTexts();
    this.api = new Api(root.getAttribute("data-api") || "/api/public/v1/");
    this.fmt = new Format(document.documentElement.lang, root.getAttribute("data-tz") || "Europe/Berlin", root.getAttribute("data-now"), root.getAttribute("data-price-locale"));
    this.icsBase = root.getAttribute("data-ics") || "/book/ics/";
    this.liveRegion = $("[data-live]", root);
    this.state = { service: null, staff: null, slot: null, hold: null };
    this.catalogue = null; // from services/: {services: {id: service}, formToken, tokenAt, minAgeMs}
    this.steps = {};
    var self = this;
    $$("[data-step]", root).forEach(function (section) { self.steps[section.getAttribute("data-step")] = section; });
    this.picker = new Picker($("[data-picker]", root), {
      api: this.api, fmt: this.fmt, t: this.t,
      live: this.live.bind(this),
      onChoose: this.chooseSlot.bind(this),
    });
    this.form = $("[data-form]", root);
    this.bind();
    this.show("service", false);
    $("[data-tz-note]", root).textContent = this.t("tzNote", { zone: this.fmt.zone });
    this.ready = this.loadCatalogue();
  }

  BookingPage.prototype.live = function (text) {
    var region = this.liveRegion;
    region.textContent = "";
    setTimeout(function () { region.textContent = text; }, 50);
  };

  BookingPage.prototype.loadCatalogue = function () {
    var self = this;
    return this.api.get("services/").then(function (r) {
      if (r.status !== 200) throw new Error("services " + r.status);
      var byId = {};
      (r.data.services || []).forEach(function (s) { byId[String(s.id)] = s; });
      var minAge = typeof r.data.form_min_seconds === "number" ? r.data.form_min_seconds : 3;
      self.catalogue = {
        services: byId, formToken: r.data.form_token, tokenAt: Date.now(),
        minAgeMs: minAge * 1000 + FORM_AGE_MARGIN_MS,
      };
      // A service the page shows but the API no longer offers cannot be chosen.
      $$("[data-service]", self.root).forEach(function (card) {
        if (!byId[card.getAttribute("data-service")]) card.disabled = true;
      });
      self.pageError("");
    }).catch(function () {
      self.pageError(self.t("err.load"));
    });
  };

  /** A new form token, e.g. after the form sat open for hours. */
  BookingPage.prototype.refreshToken = function () {
    var self = this;
    return this.api.get("services/").then(function (r) {
      if (r.status === 200 && r.data.form_token) {
        self.catalogue.formToken = r.data.form_token;
        self.catalogue.tokenAt = Date.now();
      }
    });
  };

  BookingPage.prototype.pageError = function (text) {
    var box = $("[data-page-error]", this.root);
    box.textContent = text;
    box.hidden = !text;
  };

  BookingPage.prototype.bind = function () {
    var self = this;
    this.root.addEventListener("click", function (event) {
      var card = event.target.closest("[data-service]");
      if (card && !card.disabled) return self.chooseService(card);
      var staff = event.target.closest("[data-staff]");
      if (staff) return self.chooseStaff(staff.getAttribute("data-staff") || null);
      if (event.target.closest("[data-visit-go]")) return self.chooseVisit();
      if (event.target.closest("[data-back]")) return self.back();
      if (event.target.closest("[data-restart]")) return self.restart();
    });
    this.root.addEventListener("change", function (event) {
      var box = event.target.closest("[data-visit-service]");
      if (!box) return;
      self.visitOrder = (self.visitOrder || []).filter(function (id) { return id !== box.value; });
      if (box.checked) self.visitOrder.push(box.value);
    });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submit();
    });
    this.form.addEventListener("input", function (event) {
      var field = event.target.name;
      if (field) self.fieldError(field === "email" || field === "phone" ? ["email", "phone"] : [field], "");
    });
    window.addEventListener("pagehide", function () { self.releaseHold(); });
  };

  BookingPage.prototype.show = function (name, focus) {
    var self = this;
    Object.keys(this.steps).forEach(function (key) { self.steps[key].hidden = key !== name; });
    var index = STEPS.indexOf(name);
    $$("[data-progress-step]", this.root).forEach(function (item) {
      var i = STEPS.indexOf(item.getAttribute("data-progress-step"));
      item.classList.toggle("is-done", index === -1 || i < index);
      item.classList.toggle("is-current", i === index);
      if (i === index) item.setAttribute("aria-current", "step");
      else item.removeAttribute("aria-current");
      item.hidden = item.getAttribute("data-progress-step") === "staff" && self.skipStaff;
    });
    $("[data-progress]", this.root).hidden = name === "done";
    var first = !this.current;
    this.current = name;
    var visible = STEPS.filter(function (s) { return !(s === "staff" && self.skipStaff); });
    if (index >= 0 && !first) {
      this.live(this.t("stepOf", { n: visible.indexOf(name) + 1, total: visible.length, name: this.t("step." + name) }));
    }
    this.updateSummary();
    if (focus !== false) {
      var heading = $(".bk-step-title", this.steps[name]);
      if (heading) heading.focus({ preventScroll: true });
      var top = this.root.getBoundingClientRect().top + window.scrollY - 8;
      if (window.scrollY > top) window.scrollTo({ top: top });
    }
  };

  BookingPage.prototype.chooseService = function (card) {
    var self = this;
    if (!this.catalogue) {
      // Chosen before the list of services arrived: carry on once it has.
      this.ready.then(function () { if (self.catalogue) self.chooseService(card); });
      return;
    }
    var service = this.catalogue.services[card.getAttribute("data-service")];
    if (!service) return;
    this.state.visit = null;
    this.state.series = service.series || null; // a course: booked only as a whole series
    $$("[data-service]", this.root).forEach(function (c) { c.setAttribute("aria-pressed", c === card ? "true" : "false"); });
    if (!this.state.service || this.state.service.id !== service.id) {
      this.state.staff = null;
      this.state.staffChosen = false;
    }
    this.state.service = service;
    var staff = service.staff || [];
    this.skipStaff = staff.length <= 1;
    if (this.skipStaff) {
      this.state.staff = null;
      this.state.staffName = staff.length === 1 ? staff[0].name : "";
      return this.openPicker();
    }
    var list = $("[data-staff-list]", this.root);
    $$("[data-staff]:not([data-staff=''])", list).forEach(function (b) { b.remove(); });
    staff.forEach(function (person) {
      var initials = person.name.split(/\s+/).map(function (w) { return w.charAt(0); }).join("").slice(0, 2).toUpperCase();
      list.appendChild(el("button", { type: "button", className: "bk-card bk-staff", "data-staff": String(person.id) }, [
        el("span", { className: "bk-avatar", "aria-hidden": "true", text: initials }),
        el("span", { className: "bk-card-title", text: person.name }),
      ]));
    });
    $$("[data-staff]", list).forEach(function (b) {
      var id = b.getAttribute("data-staff") || null;
      b.setAttribute("aria-pressed", self.state.staffChosen && String(self.state.staff) === String(id) ? "true" : "false");
    });
    this.show("staff");
  };

  /** Several services in one visit, back to back in the order listed, with whoever is free for each. */
  BookingPage.prototype.chooseVisit = function () {
    var self = this;
    if (!this.catalogue) {
      this.ready.then(function () { if (self.catalogue) self.chooseVisit(); });
      return;
    }
    // In the order the customer ticked them.
    var ticked = $$("[data-visit-service]:checked", this.root).map(function (box) { return box.value; });
    var order = (this.visitOrder || []).filter(function (id) { return ticked.indexOf(id) >= 0; });
    var chosen = order.map(function (id) { return self.catalogue.services[id]; }).filter(Boolean);
    var error = $("[data-visit-error]", this.root);
    error.hidden = chosen.length >= 2;
    if (chosen.length < 2) return error.focus && error.focus();
    $$("[data-service]", this.root).forEach(function (c) { c.setAttribute("aria-pressed", "false"); });
    this.state.series = null;
    this.state.visit = chosen.map(function (s) { return s.id; });
    this.state.service = {
      id: "visit:" + this.state.visit.join(","),
      name: chosen.map(function (s) { return s.name; }).join(" + "),
      price: chosen.reduce(function (sum, s) { return sum + Number(s.price); }, 0),
      staff: [],
    };
    this.state.staff = null;
    this.state.staffName = "";
    this.skipStaff = true;
    this.openPicker();
  };

  BookingPage.prototype.chooseStaff = function (id) {
    var service = this.state.service;
    this.state.staff = id ? Number(id) : null;
    this.state.staffChosen = true;
    var person = (service.staff || []).filter(function (p) { return String(p.id) === String(id); })[0];
    this.state.staffName = person ? person.name : "";
    this.openPicker();
  };

  BookingPage.prototype.openPicker = function () {
    var series = this.state.series;
    var note = $("[data-course-note]", this.root);
    note.textContent = series ? this.t("course.note", { course: series.label }) : "";
    note.hidden = !series;
    // A course has no waitlist: its times are the starts of a whole series.
    var waitlist = $("[data-waitlist]", this.root);
    if (waitlist) waitlist.hidden = !!series;
    this.show("time");
    this.picker.load(this.state.service.id, this.state.staff, this.state.slot ? this.fmt.ymd(new Date(this.state.slot.start)) : null);
  };

  /** A time was chosen: hold it while the customer types, then ask for the details. */
  BookingPage.prototype.chooseSlot = function (slot) {
    var self = this;
    var t = this.t;
    if (this.holding) return;
    if (this.state.visit || this.state.series) {
      // A visit or a course is booked without a hold; the booking itself checks every time.
      this.picker.hideConflict();
      $("[data-form-conflict]", this.root).hidden = true;
      this.state.hold = null;
      this.state.slot = slot;
      return this.showDetails();
    }
    this.holding = true;
    this.picker.hideConflict();
    $("[data-form-conflict]", this.root).hidden = true;
    var body = { service: this.state.service.id, start: slot.start, form_token: this.catalogue.formToken };
    if (this.state.staff) body.resource = this.state.staff;
    this.live(t("placingHold"));
    this.holdPromise = this.releaseHold().then(function () {
      return self.api.post("holds/", body);
    }).then(function (r) {
      if (r.status === 201) {
        self.state.hold = { token: r.data.hold, expiresAt: new Date(r.data.expires_at) };
        slot = Object.assign({}, slot, { start: r.data.start || slot.start, end: r.data.end || slot.end });
      } else if (r.status === 409) {
        return self.slotTaken(r.data);
      } else if (r.status === 429 && !(r.data && r.data.code === "hold_limit")) {
        self.pageError((r.data && r.data.detail) || t("err.tooMany", { seconds: r.retryAfter || 60 }));
        return;
      } else {
        // Holding is a courtesy (and one visitor holds only a few times at once): without a hold the
        // booking is still checked.
        self.state.hold = null;
      }
      self.state.slot = slot;
      self.showDetails();
    }, function () {
      self.state.hold = null;
      self.state.slot = slot;
      self.showDetails();
    }).then(function () { self.holding = false; }, function () { self.holding = false; });
    return this.holdPromise;
  };

  BookingPage.prototype.slotTaken = function (data) {
    this.state.slot = null;
    this.state.hold = null;
    if (this.current !== "time") this.show("time", false);
    this.picker.showConflict(data.detail, data.nearest);
  };

  BookingPage.prototype.releaseHold = function () {
    var hold = this.state.hold;
    this.state.hold = null;
    this.stopHoldTimer();
    if (!hold) return Promise.resolve();
    return this.api.del("holds/" + encodeURIComponent(hold.token) + "/").catch(function () {});
  };

  BookingPage.prototype.stopHoldTimer = function () {
    if (this.holdTimer) clearInterval(this.holdTimer);
    this.holdTimer = null;
  };

  /** Lists a course's dates (each "Monday, 1 March 2027, 10:00–11:00 CET") in a [data-course-dates] box;
   *  hides the box when there are none. */
  function renderCourseDates(box, occurrences, fmt, t) {
    if (!box) return;
    var list = $("ol", box);
    list.textContent = "";
    box.hidden = !(occurrences && occurrences.length);
    if (box.hidden) return;
    $("[data-course-dates-title]", box).textContent = t("course.dates", { count: occurrences.length });
    occurrences.forEach(function (o) {
      var item = el("li", { "data-occurrence": o.start, text: fmt.span(o.start, o.end) });
      if (o.status && o.status !== "confirmed") {
        item.className = "is-" + o.status;
        item.appendChild(document.createTextNode(" – " + t("status." + o.status)));
      }
      list.appendChild(item);
    });
  }

  BookingPage.prototype.courseDates = function (box, occurrences) {
    renderCourseDates(box, occurrences, this.fmt, this.t);
  };

  BookingPage.prototype.showDetails = function () {
    var self = this;
    var slot = this.state.slot;
    var recap = this.state.service.name + " · " + this.fmt.span(slot.start, slot.end);
    if (this.state.staffName) recap += " · " + this.t("withStaff", { name: this.state.staffName });
    if (this.state.series) recap = recap.replace(this.state.service.name, this.state.service.name + " · " + this.state.series.label);
    $("[data-recap]", this.root).textContent = recap;
    this.courseDates($("[data-course-dates]", this.root), this.state.series ? slot.occurrences : null);
    var submit = $("[data-submit]", this.form);
    if (!submit.getAttribute("data-plain")) submit.setAttribute("data-plain", submit.textContent);
    var label = this.state.series
      ? this.t(this.root.getAttribute("data-approval") === "1" ? "course.request" : "course.book", { count: (slot.occurrences || []).length })
      : submit.getAttribute("data-plain");
    submit.textContent = label;
    submit.setAttribute("data-label", label);
    var holdBox = $("[data-hold]", this.root);
    this.stopHoldTimer();
    if (this.state.hold) {
      holdBox.textContent = this.t("holding", { time: this.fmt.time(this.state.hold.expiresAt) });
      holdBox.classList.remove("is-expired");
      holdBox.hidden = false;
      this.holdTimer = setInterval(function () {
        if (self.state.hold && self.fmt.now() > self.state.hold.expiresAt) {
          self.state.hold = null;
          self.stopHoldTimer();
          holdBox.textContent = self.t("holdExpired");
          holdBox.classList.add("is-expired");
        }
      }, 5000);
    } else {
      holdBox.hidden = true;
    }
    this.formError("");
    this.show("details");
  };

  BookingPage.prototype.back = function () {
    var current = this.current;
    if (current === "details") {
      this.releaseHold();
      this.picker.chosen = null;
      $("[data-form-conflict]", this.root).hidden = true;
      this.openPicker();
    } else if (current === "time") {
      this.show(this.skipStaff ? "service" : "staff");
    } else if (current === "staff") {
      this.show("service");
    }
  };

  BookingPage.prototype.restart = function () {
    this.state = { service: null, staff: null, slot: null, hold: null };
    this.form.reset();
    this.picker.serviceId = null;
    $$("[data-service]", this.root).forEach(function (c) { c.setAttribute("aria-pressed", "false"); });
    var self = this;
    this.refreshToken().finally(function () { self.show("service"); });
  };

  BookingPage.prototype.updateSummary = function () {
    var box = $("[data-summary]", this.root);
    var s = this.state;
    var fmt = this.fmt;
    function set(key, value) {
      var row = $('[data-sum="' + key + '"]', box);
      row.hidden = !value;
      $("dd", row).textContent = value || "";
    }
    var showing = this.current !== "done" && !!s.service;
    box.hidden = !showing;
    this.root.classList.toggle("has-summary", showing);
    if (!showing) return;
    set("service", s.service.name + " (" + fmt.minutes(s.service.duration_minutes) + ")");
    set("staff", this.current === "service" || this.current === "staff" ? "" : s.staffName || this.t("anyStaff"));
    set("when", s.slot && this.current === "details" ? fmt.span(s.slot.start, s.slot.end) : "");
    set("price", Number(s.service.price) > 0 ? fmt.money(s.service.price) : this.t("price.free"));
  };

  // Form ------------------------------------------------------------------------------------------------

  BookingPage.prototype.fieldError = function (names, message) {
    var form = this.form;
    names.forEach(function (name) {
      var holder = $('[data-field="' + name + '"]', form);
      var out = $('[data-error-for="' + name + '"]', form);
      if (!holder || !out) return;
      out.textContent = message || "";
      holder.classList.toggle("has-error", !!message);
      var input = $("[name=" + name + "]", holder);
      if (input) {
        if (message) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
    });
  };

  BookingPage.prototype.formError = function (text) {
    var box = $("[data-form-error]", this.root);
    box.textContent = text || "";
    box.hidden = !text;
  };

  BookingPage.prototype.values = function () {
    var f = this.form.elements;
    return {
      first_name: f.first_name.value.trim(),
      last_name: f.last_name.value.trim(),
      email: f.email.value.trim(),
      phone: f.phone.value.trim(),
      note: f.note.value.trim(),
      privacy_consent: f.privacy_consent.checked,
      sms_consent: f.sms_consent.checked,
      website: f.website.value,
    };
  };

  BookingPage.prototype.validate = function (v) {
    var t = this.t;
    var errors = {};
    if (!v.first_name) errors.first_name = t("err.first_name");
    if (!v.last_name) errors.last_name = t("err.last_name");
    if (!v.email && !v.phone) errors.email = t("err.contact");
    else if (v.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.email)) errors.email = t("err.email");
    if (v.sms_consent && !v.phone) errors.phone = t("err.sms");
    if (!v.privacy_consent) errors.privacy_consent = t("err.privacy");
    return errors;
  };

  BookingPage.prototype.showErrors = function (errors) {
    var self = this;
    ["first_name", "last_name", "email", "phone", "note", "privacy_consent", "sms_consent"].forEach(function (name) {
      self.fieldError([name], errors[name] || "");
    });
    var first = $(".has-error input, .has-error textarea", this.form);
    if (first) first.focus();
  };

  BookingPage.prototype.setSending = function (sending) {
    var button = $("[data-submit]", this.form);
    if (!button.getAttribute("data-label")) button.setAttribute("data-label", button.textContent);
    button.disabled = sending;
    button.textContent = sending ? this.t("sending") : button.getAttribute("data-label");
    this.form.setAttribute("aria-busy", sending ? "true" : "false");
  };

  BookingPage.prototype.submit = function () {
    var self = this;
    var t = this.t;
    if (this.holding && this.holdPromise) {
      // A new time is being held right now: send once it is, with that time and its hold.
      this.setSending(true);
      this.holdPromise.then(function () {
        self.setSending(false);
        self.submit();
      });
      return;
    }
    if (this.sending || !this.state.slot) return;
    var values = this.values();
    var errors = this.validate(values);
    this.formError("");
    if (Object.keys(errors).length) {
      this.showErrors(errors);
      this.live(t("err.fix"));
      return;
    }
    this.showErrors({});
    this.sending = true;
    this.setSending(true);
    this.send(values, 0).then(function () {
      self.sending = false;
      self.setSending(false);
    }, function () {
      self.sending = false;
      self.setSending(false);
      self.formError(t("err.generic"));
    });
  };

  /** One submit attempt: one Idempotency-Key, reused when the network drops and we send again. */
  BookingPage.prototype.send = function (values, retries) {
    var self = this;
    var t = this.t;
    var s = this.state;
    var body = Object.assign({}, values, {
      service: s.service.id,
      start: s.slot.start,
      form_token: this.catalogue.formToken,
    });
    if (s.staff) body.resource = s.staff;
    if (s.hold) body.hold = s.hold.token;
    var path = "bookings/";
    if (s.visit) {
      path = "visits/";
      delete body.service;
      body.services = s.visit.map(function (id) { return { service: id }; });
    }
    var key = uuid();
    var wait = Math.max(0, this.catalogue.tokenAt + this.catalogue.minAgeMs - Date.now());

    function attempt(n) {
      return self.api.post(path, body, { "Idempotency-Key": key }).catch(function (err) {
        if (n >= 2) throw err;
        return sleep(800 * (n + 1)).then(function () { return attempt(n + 1); });
      });
    }

    return sleep(wait).then(function () { return attempt(0); }).then(function (r) {
      // A booking to be paid first goes on to the payment (payment.js); the rest is confirmed here.
      if (r.status === 201 && r.data.payment && window.terminoPayment) return window.terminoPayment.start(r.data.payment, self.root);
      if (r.status === 201) return self.done(r.data, values);
      if (r.status === 409) {
        self.stopHoldTimer();
        s.hold = null;
        $("[data-hold]", self.root).hidden = true;
        self.picker.invalidate();
        var box = $("[data-form-conflict]", self.root);
        renderConflict(box, r.data.detail, r.data.nearest, { t: t, fmt: self.fmt }, function (slot) {
          box.hidden = true;
          self.chooseSlot(slot);
        });
        var first = $("[data-conflict-slots] button", box);
        box.scrollIntoView({ block: "center" });
        if (first) first.focus();
        return;
      }
      // The server says why in words (e.g. too many bookings for one phone number within an hour).
      if (r.status === 429) return self.formError((r.data && r.data.detail) || t("err.tooMany", { seconds: r.retryAfter || 60 }));
      if (r.status === 400) {
        var data = r.data || {};
        if ((data.form_token || data.hold) && retries < 1) {
          // The form sat open too long, or the hold lapsed: fetch a fresh token, drop the hold, send again.
          if (data.hold) s.hold = null;
          return self.refreshToken().then(function () { return self.send(values, retries + 1); });
        }
        var fieldErrors = {};
        var general = [];
        Object.keys(data).forEach(function (name) {
          var messages = [].concat(data[name]).join(" ");
          if (self.form.querySelector('[data-error-for="' + name + '"]')) fieldErrors[name] = messages;
          else general.push(messages);
        });
        self.showErrors(fieldErrors);
        self.formError(general.join(" ") || (Object.keys(fieldErrors).length ? t("err.fix") : t("err.generic")));
        if (!Object.keys(fieldErrors).length) $("[data-form-error]", self.root).focus();
        return;
      }
      self.formError((r.data && r.data.detail) || t("err.generic"));
      $("[data-form-error]", self.root).focus();
    }, function () {
      self.formError(t("err.network"));
      $("[data-form-error]", self.root).focus();
    });
  };

  BookingPage.prototype.done = function (booking, values) {
    var t = this.t;
    var fmt = this.fmt;
    var s = this.state;
    this.stopHoldTimer();
    s.hold = null;
    var requested = booking.status === "requested";
    var section = this.steps.done;
    section.classList.toggle("is-requested", requested);
    $("[data-done-title]", section).textContent = t(requested ? "done.requested" : "done.confirmed");
    var status = t(requested ? "done.requestedText" : "done.confirmedText");
    if (values.email) status += " " + t("done.email", { email: values.email });
    $("[data-done-status]", section).textContent = status;
    var start = new Date(booking.start);
    var facts = $("[data-done-facts]", section);
    facts.textContent = "";
    [
      [t("label.service"), s.visit ? s.service.name : booking.service || s.service.name],
      [t("label.date"), fmt.dayLong(fmt.ymd(start))],
      [t("label.time"), fmt.time(start) + "–" + fmt.time(new Date(booking.end)) + " " + fmt.zoneAbbr(start)],
      [t("label.staff"), s.staffName],
      [t("label.where"), t("where")],
      [t("label.price"), Number(s.service.price) > 0 ? fmt.money(s.service.price) : t("price.free")],
    ].forEach(function (row) {
      if (!row[1]) return;
      facts.appendChild(el("div", {}, [el("dt", { text: row[0] }), el("dd", { text: row[1] })]));
    });
    if (s.series && booking.occurrences && booking.occurrences.length) {
      $("[data-done-title]", section).textContent = t(requested ? "course.doneRequested" : "course.done");
    }
    this.courseDates($("[data-done-dates]", section), s.series ? booking.occurrences : null);
    $("[data-done-tz]", section).textContent = t("tzNote", { zone: fmt.zone });
    var ics = $("[data-ics-link]", section);
    ics.href = this.icsBase + encodeURIComponent(booking.manage_token) + ".ics";
    var manage = $("[data-manage-link]", section);
    manage.href = booking.manage_url || "/book/manage/" + encodeURIComponent(booking.manage_token) + "/";
    if (this.root.getAttribute("data-embedded") === "1") {
      manage.target = "_blank";
      manage.rel = "noopener";
    }
    this.form.reset();
    this.show("done");
  };

  // --- The manage page -----------------------------------------------------------------------------------

  function ManagePage(root) {
    this.root = root;
    this.t = loadTexts();
    this.api = new Api(root.getAttribute("data-api") || "/api/public/v1/");
    this.fmt = new Format(document.documentElement.lang, root.getAttribute("data-tz") || "Europe/Berlin", root.getAttribute("data-now"), root.getAttribute("data-price-locale"));
    this.token = root.getAttribute("data-token");
    this.icsBase = root.getAttribute("data-ics") || "/book/ics/";
    this.liveRegion = $("[data-live]", root);
    var self = this;
    this.picker = new Picker($("[data-picker]", root), {
      api: this.api, fmt: this.fmt, t: this.t,
      live: this.live.bind(this),
      onChoose: this.chooseSlot.bind(this),
    });
    root.addEventListener("click", function (event) {
      var action = event.target.closest("[data-action]");
      if (action) self[action.getAttribute("data-action")]();
    });
    this.load();
  }

  ManagePage.prototype.live = BookingPage.prototype.live;

  ManagePage.prototype.path = function (suffix) {
    return "bookings/" + encodeURIComponent(this.token) + "/" + (suffix || "");
  };

  ManagePage.prototype.part = function (name) { return $('[data-part="' + name + '"]', this.root); };

  ManagePage.prototype.message = function (text, kind) {
    var box = this.part("message");
    box.textContent = text || "";
    box.className = "bk-alert " + (kind === "error" ? "bk-alert-error" : "bk-alert-ok");
    box.hidden = !text;
    if (text) {
      box.setAttribute("tabindex", "-1");
      box.focus();
    }
  };

  ManagePage.prototype.load = function () {
    var self = this;
    return this.api.get(this.path()).then(function (r) {
      self.part("loading").hidden = true;
      if (r.status === 404) return self.message(self.t("invalid"), "error");
      if (r.status !== 200) return self.message(self.t("err.load"), "error");
      self.render(r.data);
    }, function () {
      self.part("loading").hidden = true;
      self.message(self.t("err.network"), "error");
    });
  };

  ManagePage.prototype.render = function (booking) {
    var t = this.t;
    var fmt = this.fmt;
    this.booking = booking;
    var start = new Date(booking.start);
    var facts = this.part("facts");
    facts.textContent = "";
    // A course: every appointment listed with its status; the link cancels those still to come.
    var occurrences = booking.occurrences || [];
    var course = occurrences.length > 0;
    this.course = course;
    renderCourseDates(this.part("dates"), course ? occurrences : null, fmt, t);
    (course ? [
      [t("label.service"), booking.service],
      [t("label.where"), t("where")],
    ] : [
      [t("label.service"), booking.service],
      [t("label.date"), fmt.dayLong(fmt.ymd(start))],
      [t("label.time"), fmt.time(start) + "–" + fmt.time(new Date(booking.end)) + " " + fmt.zoneAbbr(start)],
      [t("label.status"), t("status." + booking.status)],
      [t("label.where"), t("where")],
    ]).forEach(function (row) {
      var dd = el("dd", { text: row[1] });
      if (row[0] === t("label.status")) dd.appendChild(el("span", { className: "bk-badge bk-badge-" + booking.status, "aria-hidden": "true" }));
      facts.appendChild(el("div", {}, [el("dt", { text: row[0] }), dd]));
    });
    this.part("card").hidden = false;
    var now = fmt.now();
    var active = course
      ? occurrences.some(function (o) { return (o.status === "confirmed" || o.status === "requested") && new Date(o.end) > now; })
      : booking.status === "confirmed" || booking.status === "requested";
    var root = this.root;
    $("[data-action=startReschedule]", root).hidden = course; // a course is not moved online
    $$("[data-course-text]", root).forEach(function (node) {
      if (!node.hasAttribute("data-plain-text")) node.setAttribute("data-plain-text", node.textContent);
      node.textContent = course ? node.getAttribute("data-course-text") : node.getAttribute("data-plain-text");
    });
    this.part("ics").hidden = !active;
    this.part("ics-link").href = this.icsBase + encodeURIComponent(booking.manage_token || this.token) + ".ics";
    this.part("actions").hidden = !(active && booking.changeable);
    this.part("locked").hidden = !(active && !booking.changeable);
    var ended = this.part("ended");
    ended.hidden = active;
    ended.textContent = active ? "" : t(course ? "ended.course" : "ended." + booking.status);
    this.part("tz").textContent = t("tzNote", { zone: fmt.zone });
    if (!active || !booking.changeable) {
      this.part("reschedule").hidden = true;
      this.part("cancel-confirm").hidden = true;
    }
  };

  ManagePage.prototype.askCancel = function () {
    this.part("cancel-confirm").hidden = false;
    this.part("reschedule").hidden = true;
    this.part("actions").hidden = true;
    $("[data-action=cancel]", this.root).focus();
  };

  ManagePage.prototype.keep = function () {
    this.part("cancel-confirm").hidden = true;
    this.part("reschedule").hidden = true;
    this.part("actions").hidden = false;
    $("[data-action=askCancel]", this.root).focus();
  };

  ManagePage.prototype.cancel = function () {
    var self = this;
    var button = $("[data-action=cancel]", this.root);
    button.disabled = true;
    this.api.post(this.path("cancel/")).then(function (r) {
      button.disabled = false;
      self.part("cancel-confirm").hidden = true;
      if (r.status === 200) {
        self.render(Object.assign({}, self.booking, r.data, { changeable: false }));
        self.message(self.t(self.course ? "course.cancelled" : "cancelled"), "ok");
      } else {
        self.part("actions").hidden = false;
        self.message((r.data && r.data.detail) || self.t("err.generic"), "error");
        self.reload();
      }
    }, function () {
      button.disabled = false;
      self.message(self.t("err.network"), "error");
    });
  };

  ManagePage.prototype.reload = function () {
    var self = this;
    this.api.get(this.path()).then(function (r) { if (r.status === 200) self.render(r.data); });
  };

  /** The booking answer names its service; find its id for the free times. */
  ManagePage.prototype.serviceId = function () {
    var booking = this.booking;
    if (booking.service_id) return Promise.resolve(booking.service_id);
    var minutes = Math.round((new Date(booking.end) - new Date(booking.start)) / 60000);
    return this.api.get("services/").then(function (r) {
      var list = (r.data && r.data.services) || [];
      var same = list.filter(function (s) { return s.name === booking.service; });
      var exact = same.filter(function (s) { return s.duration_minutes === minutes; });
      var match = exact[0] || same[0];
      return match ? match.id : null;
    });
  };

  ManagePage.prototype.startReschedule = function () {
    var self = this;
    this.message("");
    this.part("actions").hidden = true;
    this.part("cancel-confirm").hidden = true;
    var panel = this.part("reschedule");
    panel.hidden = false;
    this.part("move-confirm").hidden = true;
    $("h2", panel).focus();
    this.serviceId().then(function (id) {
      if (!id) {
        self.part("reschedule").hidden = true;
        self.part("locked").hidden = false;
        return;
      }
      self.picker.load(id, null, self.fmt.ymd(new Date(self.booking.start)));
    }, function () {
      self.message(self.t("err.network"), "error");
    });
  };

  ManagePage.prototype.chooseSlot = function (slot) {
    this.newSlot = slot;
    this.picker.hideConflict();
    var box = this.part("move-confirm");
    $("[data-move-text]", box).textContent = this.t("moveTo", { when: this.fmt.span(slot.start, slot.end) });
    box.hidden = false;
    $("[data-action=move]", box).focus();
  };

  ManagePage.prototype.move = function () {
    var self = this;
    var slot = this.newSlot;
    if (!slot) return;
    var button = $("[data-action=move]", this.root);
    button.disabled = true;
    this.api.post(this.path("reschedule/"), { start: slot.start }).then(function (r) {
      button.disabled = false;
      self.part("move-confirm").hidden = true;
      if (r.status === 200) {
        self.part("reschedule").hidden = true;
        self.render(Object.assign({}, self.booking, r.data));
        self.message(self.t("moved", { when: self.fmt.span(r.data.start, r.data.end) }), "ok");
        self.reload();
      } else if (r.status === 409) {
        self.picker.showConflict(r.data.detail, r.data.nearest);
      } else if (r.status === 429) {
        self.message((r.data && r.data.detail) || self.t("err.tooMany", { seconds: r.retryAfter || 60 }), "error");
      } else {
        self.message((r.data && r.data.detail) || self.t("err.generic"), "error");
        self.reload();
      }
    }, function () {
      button.disabled = false;
      self.message(self.t("err.network"), "error");
    });
  };

  ManagePage.prototype.pickAgain = function () {
    this.newSlot = null;
    this.part("move-confirm").hidden = true;
    this.picker.chosen = null;
    var pressed = $(".bk-time[aria-pressed=true]", this.root);
    if (pressed) {
      pressed.setAttribute("aria-pressed", "false");
      pressed.focus();
    }
  };

  ManagePage.prototype.stopReschedule = function () {
    this.part("reschedule").hidden = true;
    this.part("actions").hidden = false;
    $("[data-action=startReschedule]", this.root).focus();
  };

  // --- Start ---------------------------------------------------------------------------------------------

  function start() {
    applyBrand();
    openDetailsLinks();
    var booking = document.getElementById("booking");
    var manage = document.getElementById("manage");
    if (booking) window.terminoBooking = new BookingPage(booking);
    if (manage) window.terminoManage = new ManagePage(manage);
    if ((booking || manage || {}).getAttribute && (booking || manage).getAttribute("data-embedded") === "1") reportHeight();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
