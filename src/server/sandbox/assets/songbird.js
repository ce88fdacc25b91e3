/*
 * Cardinal Songbird emulation, served by the card-checkout sandbox. It defines the same global `Cardinal` API
 * as songbird.js: configure, on, off, setup('init', {jwt}), trigger('bin.process', digits) -> Promise,
 * continue('cca', {AcsUrl, Payload}, {OrderDetails: {TransactionId}}), start. With payment.framework 'inline'
 * and a 'ui.inline.setup' listener, the challenge iframe is handed to the page to place in its own container.
 */
(function () {
  'use strict';
  var src = document.currentScript && document.currentScript.src;
  var base = src.replace(/\/cardinal\/songbird\.js(\?.*)?$/, '');
  var origin = new URL(base).origin;
  var handlers = {};
  var config = { timeout: 8000, maxRequestRetries: 1, logging: { level: 'off' }, payment: { framework: 'cardinal' } };
  var sessionId = null;
  var setupJwt = null;
  var ready = false;
  var queued = [];
  var modal = null;

  function log() {
    if (config.logging && config.logging.level !== 'off') console.log.apply(console, ['[Cardinal sandbox]'].concat([].slice.call(arguments)));
  }

  function emit(name) {
    var args = [].slice.call(arguments, 1);
    (handlers[name] || []).forEach(function (h) { h.apply(null, args); });
  }

  function post(path, body, attempt) {
    attempt = attempt || 0;
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, config.timeout || 8000);
    return fetch(base + path, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctl.signal,
    }).then(function (r) {
      clearTimeout(timer);
      return r.json().then(function (j) {
        if (!r.ok) { var e = new Error(j.message || ('HTTP ' + r.status)); e.status = r.status; throw e; }
        return j;
      });
    }, function (err) {
      clearTimeout(timer);
      if (attempt < (config.maxRequestRetries || 0)) return post(path, body, attempt + 1);
      throw err;
    });
  }

  function whenReady(fn) { if (ready) fn(); else queued.push(fn); }

  function validatedError(number, description) {
    emit('payments.validated', { Validated: false, ActionCode: 'ERROR', ErrorNumber: number, ErrorDescription: description }, null);
  }

  function browserInfo() {
    return {
      userAgent: navigator.userAgent, language: navigator.language, colorDepth: screen.colorDepth,
      screenHeight: screen.height, screenWidth: screen.width, timeZone: new Date().getTimezoneOffset(), javaEnabled: false,
    };
  }

  function closeChallenge() {
    if (modal) { modal.remove(); modal = null; }
    emit('ui.close');
  }

  function onMessage(event) {
    if (event.origin !== origin || !event.data || event.data.type !== 'cardinal.acs.complete') return;
    post('/cardinal/result', { transactionId: event.data.transactionId, sessionId: sessionId }).then(function (r) {
      closeChallenge();
      emit('payments.validated', r.data, r.jwt);
    }, function (e) {
      closeChallenge();
      validatedError(1021, 'Could not read the authentication result: ' + e.message);
    });
  }
  window.addEventListener('message', onMessage);

  function challenge(acsUrl, payload) {
    var url = acsUrl + (acsUrl.indexOf('?') < 0 ? '?' : '&') + 'creq=' + encodeURIComponent(payload);
    var html = '<iframe id="Cardinal-CCA-IFrame" name="Cardinal-CCA-IFrame" title="Bank verification" src="' + url +
      '" class="cardinal-challenge-frame" width="100%" height="420" frameborder="0"></iframe>';
    var inline = config.payment && config.payment.framework === 'inline' && (handlers['ui.inline.setup'] || []).length;
    if (inline) {
      emit('ui.inline.setup', html, { paymentType: 'CCA', data: { mode: 'static', challengeWindowSize: '02' } },
        function () { log('inline challenge placed'); }, function () { validatedError(1022, 'The page refused the challenge'); });
      return;
    }
    // Cardinal's own modal when the page does not host the challenge.
    modal = document.createElement('div');
    modal.setAttribute('role', 'dialog');
    modal.setAttribute('aria-modal', 'true');
    modal.setAttribute('aria-label', 'Bank verification');
    modal.style.cssText = 'position:fixed;inset:0;background:rgba(0,0,0,.5);display:flex;align-items:center;justify-content:center;z-index:99999';
    modal.innerHTML = '<div style="background:#fff;width:min(480px,95vw);border-radius:8px;overflow:hidden">' + html + '</div>';
    document.body.appendChild(modal);
  }

  window.Cardinal = {
    configure: function (options) {
      options = options || {};
      var payment = Object.assign({}, config.payment, options.payment || {});
      config = Object.assign({}, config, options, { payment: payment });
    },
    on: function (name, fn) { (handlers[name] = handlers[name] || []).push(fn); },
    off: function (name) { delete handlers[name]; },
    setup: function (kind, data) {
      if (kind !== 'init') throw new Error('Cardinal.setup: only "init" is supported');
      var jwt = data && (data.JWT || data.jwt);
      if (jwt && jwt === setupJwt) {
        // The same JWT again in this page (pages repeat setup before continue): the session it set up stands.
        whenReady(function () {
          emit('payments.setupComplete', { sessionId: sessionId, modules: [{ module: 'CCA', loaded: true }] });
        });
        return;
      }
      setupJwt = jwt;
      ready = false;
      post('/cardinal/setup', { jwt: jwt })
        .then(function (r) {
          sessionId = r.sessionId;
          return post('/cardinal/device-data', { sessionId: sessionId, browser: browserInfo() });
        })
        .then(function () {
          ready = true;
          emit('payments.setupComplete', { sessionId: sessionId, modules: [{ module: 'CCA', loaded: true }] });
          queued.splice(0).forEach(function (fn) { fn(); });
        }, function (e) { setupJwt = null; validatedError(1010, 'Cardinal setup failed: ' + e.message); });
    },
    trigger: function (event, data) {
      if (event !== 'bin.process') return Promise.reject(new Error('Cardinal.trigger: unsupported event ' + event));
      return new Promise(function (resolve, reject) {
        whenReady(function () {
          post('/cardinal/bin', { sessionId: sessionId, bin: String(data || '') })
            .then(function (r) { resolve({ Status: !!r.Status }); }, reject);
        });
      });
    },
    start: function () {
      validatedError(1030, 'Cardinal.start is not emulated: run the 3DS lookup on the server, then Cardinal.continue');
    },
    continue: function (kind, acs, order) {
      if (kind !== 'cca' || !acs || !acs.AcsUrl || !acs.Payload) {
        validatedError(1031, 'Cardinal.continue needs ("cca", {AcsUrl, Payload}, {OrderDetails: {TransactionId}})');
        return;
      }
      whenReady(function () { challenge(acs.AcsUrl, acs.Payload, order && order.OrderDetails && order.OrderDetails.TransactionId); });
    },
  };
})();
