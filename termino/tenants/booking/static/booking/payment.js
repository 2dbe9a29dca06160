/* The booking page's payment step (no inline script: the booking page's CSP forbids it).
 *
 * - Booking page: a booking that must be paid first (the API answers with `payment`) goes to Stripe
 *   Checkout: a full-page redirect on the page of its own; inside the embed, the frame shows the payment
 *   page, whose "Pay now" opens Checkout in a new tab (Checkout cannot run inside a frame).
 * - Payment page (/book/payment/<token>/): while the payment is open, ask every few seconds how it stands
 *   and show the result once Stripe's word is in.
 */
(function () {
  "use strict";

  window.terminoPayment = {
    start: function (payment, root) {
      var embedded = root && root.getAttribute("data-embedded") === "1";
      if (embedded) window.location.assign(payment.page_url + "?embed=1");
      else window.location.assign(payment.checkout_url);
      return new Promise(function () {}); // the page is going away: the form stays busy
    },
  };

  function poll(box) {
    var url = box.getAttribute("data-status-url");
    var tries = 0;
    function again() {
      tries += 1;
      if (tries > 400) return; // about 40 minutes: longer than any Checkout session
      fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && (data.status !== "pending" || (data.booking_status && data.booking_status !== "held"))) {
            window.location.replace(window.location.pathname + (box.getAttribute("data-embedded") === "1" ? "?embed=1" : ""));
            return;
          }
          setTimeout(again, tries < 30 ? 2000 : 6000);
        }, function () { setTimeout(again, 6000); });
    }
    setTimeout(again, 1500);
  }

  function start() {
    var box = document.getElementById("payment");
    if (box && box.getAttribute("data-payment-status") === "pending") poll(box);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
