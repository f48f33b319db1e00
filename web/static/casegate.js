// casegate: small enhancements. Every page works without this file.
(function () {
  "use strict";

  // A signed-in page must never come back from the browser's back/forward
  // cache after sign-out: some browsers keep pages there despite
  // Cache-Control: no-store. Reloading asks the server, which sends a
  // signed-out person to the start.
  if (document.getElementById("signout-form")) {
    window.addEventListener("pageshow", function (e) {
      if (e.persisted) {
        window.location.reload();
      }
    });
  }

  // Move focus to the error summary, so that screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }

  function secondsUntil(iso) {
    var t = Date.parse(iso);
    if (isNaN(t)) {
      return -1;
    }
    return Math.ceil((t - Date.now()) / 1000);
  }

  function clock(s) {
    var m = Math.floor(s / 60);
    var r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }

  // Count down the time left on the code.
  var left = document.querySelector("#time-left time");
  if (left) {
    var box = document.getElementById("time-left");
    var tickLeft = function () {
      var s = secondsUntil(left.getAttribute("datetime"));
      if (s <= 0) {
        box.textContent = box.getAttribute("data-expired");
        return;
      }
      left.textContent = clock(s);
      window.setTimeout(tickLeft, 1000);
    };
    if (secondsUntil(left.getAttribute("datetime")) > 0) {
      tickLeft();
    }
  }

  // Hold the resend button until its cooldown is over.
  var resend = document.getElementById("resend-submit");
  if (resend && resend.getAttribute("data-until")) {
    var tickResend = function () {
      var s = secondsUntil(resend.getAttribute("data-until"));
      if (s <= 0) {
        resend.disabled = false;
        resend.textContent = resend.getAttribute("data-ready");
        return;
      }
      resend.disabled = true;
      resend.textContent = resend.getAttribute("data-wait").replace("{time}", clock(s));
      window.setTimeout(tickResend, 1000);
    };
    tickResend();
  }

  // WebOTP: fill the code from the text message when the browser offers it.
  var code = document.getElementById("code") || document.getElementById("contact_code");
  if (code && "OTPCredential" in window && navigator.credentials) {
    var ac = new AbortController();
    var form = code.form;
    if (form) {
      form.addEventListener("submit", function () { ac.abort(); });
    }
    navigator.credentials.get({ otp: { transport: ["sms"] }, signal: ac.signal })
      .then(function (otp) {
        if (otp && otp.code && !code.value) {
          code.value = otp.code;
        }
      })
      .catch(function () { /* no code offered: the person types it */ });
  }
})();
