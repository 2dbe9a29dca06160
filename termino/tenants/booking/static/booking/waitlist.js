/* The waitlist on the booking page: "no time suits? join the waitlist", and the page an offer's link opens
 * (book the offered time, or not this time). Kept apart from booking.js: it reads the service and staff
 * member chosen there (window.terminoBooking) only when the customer opens the form. No inline code (CSP). */
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function texts(id) {
    var map = {};
    var template = document.getElementById(id);
    if (template) {
      $$("[data-key]", template.content).forEach(function (span) { map[span.getAttribute("data-key")] = span.textContent; });
    }
    return function (key, values) {
      return (map[key] || key).replace(/\{(\w+)\}/g, function (all, name) {
        return values && values[name] !== undefined ? values[name] : all;
      });
    };
  }

  function request(base, method, path, body) {
    var init = { method: method, credentials: "omit", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(base.replace(/\/?$/, "/") + path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { status: response.status, data: data || {} };
      });
    });
  }

  function firstMessage(value) {
    if (Array.isArray(value)) return firstMessage(value[0]);
    if (value && typeof value === "object") return firstMessage(value[Object.keys(value)[0]]);
    return value ? String(value) : "";
  }

  // --- Joining, on the booking page -----------------------------------------------------------------------

  function Join(root, booking) {
    this.root = root;
    this.booking = booking;
    this.base = $("#booking").getAttribute("data-api") || "/api/public/v1/";
    this.t = texts("waitlist-texts");
    this.form = null; // made from its template when first opened
    var self = this;
    $("[data-waitlist-open]", root).addEventListener("click", function () { self.open(); });
    $("[data-waitlist-leave]", root).addEventListener("click", function () { self.leave(); });
  }

  Join.prototype.makeForm = function () {
    var self = this;
    var template = document.getElementById("waitlist-form-template");
    $("[data-waitlist-slot]", this.root).appendChild(template.content.cloneNode(true));
    this.form = $("[data-waitlist-form]", this.root);
    $("[data-waitlist-close]", this.form).addEventListener("click", function () { self.close(); });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submit();
    });
  };

  Join.prototype.page = function () { return window.terminoBooking; };

  Join.prototype.open = function () {
    var state = this.page().state;
    if (!state.service) return;
    if (!this.form) this.makeForm();
    this.service = state.service;
    this.staff = state.staff || null;
    $("[data-waitlist-for]", this.form).textContent = this.staff && state.staffName
      ? this.t("forWith", { service: state.service.name, staff: state.staffName })
      : this.t("for", { service: state.service.name });
    $("[data-waitlist-intro]", this.root).hidden = true;
    $("[data-waitlist-done]", this.root).hidden = true;
    this.form.hidden = false;
    $(".bk-step-title", this.form).focus();
  };

  Join.prototype.close = function () {
    this.form.hidden = true;
    $("[data-waitlist-intro]", this.root).hidden = false;
  };

  Join.prototype.error = function (text) {
    var box = $("[data-waitlist-error]", this.root);
    box.textContent = text || "";
    box.hidden = !text;
    if (text) box.focus();
  };

  Join.prototype.fieldErrors = function (errors) {
    $$("[data-wl-error-for]", this.form).forEach(function (p) {
      p.textContent = errors[p.getAttribute("data-wl-error-for")] || "";
    });
  };

  Join.prototype.values = function () {
    var form = this.form;
    function value(name) { return (form.elements[name].value || "").trim(); }
    function ticked(name) {
      return $$("input[name='" + name + "']:checked", form).map(function (box) { return box.value; });
    }
    return {
      service: this.service.id,
      resource: this.staff,
      date_from: value("date_from") || null,
      date_to: value("date_to") || null,
      weekdays: ticked("weekdays").map(Number),
      day_parts: ticked("day_parts"),
      first_name: value("first_name"),
      last_name: value("last_name"),
      email: value("email"),
      phone: value("phone"),
      privacy_consent: form.elements.privacy_consent.checked,
      sms_consent: form.elements.sms_consent.checked,
      website: form.elements.website.value,
    };
  };

  Join.prototype.validate = function (v) {
    var errors = {};
    if (!v.last_name) errors.last_name = this.t("err.last_name");
    if (!v.email && !v.phone) errors.email = this.t("err.contact");
    if (!v.privacy_consent) errors.privacy_consent = this.t("err.privacy");
    if (v.sms_consent && !v.phone) errors.phone = this.t("err.sms");
    return errors;
  };

  Join.prototype.submit = function () {
    var self = this;
    var values = this.values();
    var errors = this.validate(values);
    this.fieldErrors(errors);
    if (Object.keys(errors).length) return this.error(this.t("err.fix"));
    this.error("");
    var catalogue = this.page().catalogue || {};
    values.form_token = catalogue.formToken;
    var button = $("[data-waitlist-submit]", this.form);
    var label = button.textContent;
    button.disabled = true;
    button.textContent = this.t("sending");
    // The booking page's catalogue says how long the server wants the form to have been open (without a
    // catalogue there is no form token either, and nothing to wait for).
    var wait = Math.max(0, (catalogue.minAgeMs || 0) - (Date.now() - (catalogue.tokenAt || 0)));
    new Promise(function (resolve) { setTimeout(resolve, wait); }).then(function () {
      return request(self.base, "POST", "waitlist/", values);
    }).then(function (r) {
      if (r.status === 201) return self.joined(r.data);
      if (r.status === 400 && r.data && !r.data.detail) {
        var fields = {};
        Object.keys(r.data).forEach(function (name) { fields[name] = firstMessage(r.data[name]); });
        self.fieldErrors(fields);
        return self.error(fields.non_field_errors || fields.form_token || self.t("err.fix"));
      }
      self.error(firstMessage(r.data.detail) || self.t("err.generic"));
    }).catch(function () {
      self.error(self.t("err.network"));
    }).then(function () {
      button.disabled = false;
      button.textContent = label;
    });
  };

  Join.prototype.joined = function (data) {
    this.leaveToken = data.leave_token;
    this.form.hidden = true;
    var done = $("[data-waitlist-done]", this.root);
    $("[data-waitlist-done-text]", done).textContent = this.t("joined", { service: data.service });
    $("[data-waitlist-leave]", done).hidden = false;
    done.hidden = false;
    done.focus();
  };

  Join.prototype.leave = function () {
    var self = this;
    if (!this.leaveToken) return;
    request(this.base, "DELETE", "waitlist/" + encodeURIComponent(this.leaveToken) + "/").then(function (r) {
      if (r.status !== 204) return self.error(firstMessage(r.data.detail) || self.t("err.generic"));
      $("[data-waitlist-done-text]", self.root).textContent = self.t("left");
      $("[data-waitlist-leave]", self.root).hidden = true;
      self.leaveToken = null;
    }).catch(function () { self.error(self.t("err.network")); });
  };

  // --- The offer's page -------------------------------------------------------------------------------------

  function Offer(root) {
    this.root = root;
    this.base = root.getAttribute("data-api") || "/api/public/v1/";
    this.token = root.getAttribute("data-token");
    this.t = texts("waitlist-offer-texts");
    var self = this;
    var accept = $("[data-offer-accept]", root);
    var decline = $("[data-offer-decline]", root);
    if (accept) accept.addEventListener("click", function () { self.answer("accept", accept); });
    if (decline) decline.addEventListener("click", function () { self.answer("decline", decline); });
  }

  Offer.prototype.say = function (text, kind) {
    var box = $("[data-offer-message]", this.root);
    box.textContent = text;
    box.className = "bk-alert bk-alert-" + kind;
    box.hidden = false;
    box.focus();
  };

  Offer.prototype.answer = function (what, button) {
    var self = this;
    var buttons = $$("[data-offer-open] button", this.root);
    buttons.forEach(function (b) { b.disabled = true; });
    var label = button.textContent;
    button.textContent = this.t("sending");
    request(this.base, "POST", "waitlist/offers/" + encodeURIComponent(this.token) + "/" + what + "/").then(function (r) {
      if (r.status === 201 || r.status === 200) {
        $("[data-offer-open]", self.root).hidden = true;
        if (what === "decline") return self.say(self.t("declined"), "warn");
        self.say(self.t(r.data.status === "requested" ? "requested" : "booked"), "ok");
        if (r.data.manage_url) {
          $("[data-offer-manage-link]", self.root).href = r.data.manage_url;
          $("[data-offer-manage]", self.root).hidden = false;
        }
        return;
      }
      if (r.status === 409 || r.status === 404) {
        $("[data-offer-open]", self.root).hidden = true;
        return self.say(firstMessage(r.data.detail) || self.t("err.generic"), "warn");
      }
      self.say(firstMessage(r.data.detail) || self.t("err.generic"), "error");
      buttons.forEach(function (b) { b.disabled = false; });
      button.textContent = label;
    }).catch(function () {
      self.say(self.t("err.network"), "error");
      buttons.forEach(function (b) { b.disabled = false; });
      button.textContent = label;
    });
  };

  function start() {
    var join = $("[data-waitlist]");
    if (join && window.terminoBooking) window.terminoWaitlist = new Join(join, window.terminoBooking);
    var offer = $("#waitlist-offer");
    if (offer) window.terminoOffer = new Offer(offer);
  }

  // Deferred like booking.js, which runs after this file (perhaps still downloading now): DOMContentLoaded
  // fires only after every deferred script has run, so window.terminoBooking exists then.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
