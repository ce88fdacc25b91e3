/*
 * The checkout page's bridge to the provider scripts (Cardinal Songbird, verifone.js, Bambora's Custom
 * Checkout) and the browser, as promises the Leptos code awaits. The card number and CVV go from the form to
 * verifone.js or the acquirer's tokenization only (or are typed into the acquirer's own frames); what comes back
 * is ciphertext or a single-use token.
 */
window.checkoutBridge = (function () {
  'use strict';
  var challenge = null;
  var scripts = {};
  var fields = null;
  var setups = {};

  /** Loads a provider script once (scripts in streamed HTML would not run) and resolves to its global. */
  function loaded(url, name) {
    if (!scripts[url]) {
      scripts[url] = new Promise(function (resolve, reject) {
        var s = document.createElement('script');
        s.src = url;
        s.onload = function () { window[name] ? resolve(window[name]) : reject(new Error(name + ' is missing')); };
        s.onerror = function () { delete scripts[url]; reject(new Error(url + ' did not load')); };
        document.head.appendChild(s);
      });
    }
    return scripts[url];
  }

  /** Resolves to `value` once <body> exists: the set-up starts while <head> is parsed, and an SDK may add its
   *  frames to the body. */
  function withBody(value) {
    if (document.body) return Promise.resolve(value);
    return new Promise(function (resolve) {
      document.addEventListener('DOMContentLoaded', function () { resolve(value); });
    });
  }

  /** Custom Checkout's brand names: as the page shows them, and as our server codes them. */
  var BRANDS = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover', jcb: 'JCB' };
  var CODES = { visa: 'VISA', mastercard: 'MASTERCARD', amex: 'AMEX', discover: 'DISCOVER', jcb: 'JCB' };

  return {
    /** Loads Songbird and runs Cardinal.setup with the JWT, once per JWT (the page starts it before the form
     *  hydrates, the form then awaits the same set-up); resolves to the device session id. */
    setup: function (songbirdUrl, jwt) {
      setups[jwt] = setups[jwt] || loaded(songbirdUrl, 'Cardinal').then(withBody).then(function (Cardinal) {
        return new Promise(function (resolve, reject) {
          var ready = false;
          Cardinal.configure({
            timeout: 8000, maxRequestRetries: 2, logging: { level: 'off' },
            payment: { view: 'modal', framework: 'inline', displayLoading: false },
          });
          Cardinal.on('payments.setupComplete', function (d) { ready = true; resolve(d.sessionId); });
          Cardinal.on('ui.inline.setup', function (html, details, done) {
            document.getElementById('challenge-host').innerHTML = html;
            done();
          });
          Cardinal.on('payments.validated', function (data, jwt) {
            if (challenge) {
              var c = challenge;
              challenge = null;
              document.getElementById('challenge-host').innerHTML = '';
              c.resolve(jwt || '');
            } else if (!ready) {
              reject(new Error(data.ErrorDescription || 'the 3-D Secure service could not start'));
            }
          });
          Cardinal.setup('init', { jwt: jwt });
        });
      });
      return setups[jwt];
    },

    /** BIN profiling with the first digits of the card (9 or more). */
    bin: function (digits) {
      return Promise.resolve(window.Cardinal.trigger('bin.process', digits))
        .then(function (r) { return !!(r && r.Status); });
    },

    /** verifone.getEncryptedCardDetails (loaded on first use); `card` is JSON {cardNumber, expiryMonth,
     *  expiryYear, cvv, cardholderName}. */
    encrypt: function (verifoneUrl, card, key) {
      return loaded(verifoneUrl, 'verifone').then(function (verifone) {
        return verifone.getEncryptedCardDetails(JSON.parse(card), key);
      }).then(function (r) { return r.encryptedCard; });
    },

    /** Mounts the acquirer's card fields (Custom Checkout's iframes) into #cc-number, #cc-expiry and #cc-cvv;
     *  the brand it reports is written to #card-brand. Resolves once they are mounted. */
    fields: function (scriptUrl) {
      return loaded(scriptUrl, 'customcheckout').then(function (customcheckout) {
        var checkout = customcheckout();
        fields = { checkout: checkout, brand: '' };
        checkout.on('brand', function (e) {
          fields.brand = e.brand || '';
          var shown = document.getElementById('card-brand');
          if (shown) shown.textContent = BRANDS[fields.brand] || '';
        });
        checkout.create('card-number', { placeholder: '1234 1234 1234 1234' }).mount('#cc-number');
        checkout.create('expiry', { placeholder: 'MM / YY' }).mount('#cc-expiry');
        checkout.create('cvv', { placeholder: 'CVC' }).mount('#cc-cvv');
        return 'mounted';
      });
    },

    /** Tokenizes what the shopper typed into the acquirer's fields; resolves to {token, last4, expiry_month,
     *  expiry_year, brand} (strings), or fails with the fields' own message. */
    tokenize: function () {
      if (!fields) return Promise.reject(new Error('the card fields are not ready'));
      return new Promise(function (resolve, reject) {
        fields.checkout.createToken(function (r) {
          if (r.error || !r.token) return reject(new Error((r.error && r.error.message) || 'the card was not accepted'));
          resolve({ token: r.token, last4: r.last4, expiry_month: r.expiryMonth, expiry_year: r.expiryYear,
                    brand: CODES[fields.brand] || '' });
        });
      });
    },

    /** Exchanges a card our page holds (it is also encrypted for the authenticator) for the acquirer's single-use
     *  token; `card` is JSON {number, expiry_month, expiry_year, cvd}. */
    tokenizeCard: function (url, card) {
      return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: card, credentials: 'omit' })
        .then(function (res) { return res.json(); })
        .then(function (r) {
          if (!r.token) throw new Error(r.message || 'the card was not accepted');
          return r.token;
        });
    },

    /** Opens our page that posts the browser on to the bank in #challenge-host; resolves to the result page's
     *  path once the bank has sent the frame back to us (our origin: its location is readable again). */
    bank: function (url) {
      return new Promise(function (resolve) {
        var frame = document.createElement('iframe');
        frame.name = 'bank';
        frame.title = "Your bank's page";
        frame.className = 'bank-frame';
        frame.addEventListener('load', function () {
          var path;
          try { path = frame.contentWindow.location.pathname; } catch (e) { return; } // at the bank
          if (/^\/checkout\/[^/]+$/.test(path)) resolve(path);
        });
        frame.src = url;
        var host = document.getElementById('challenge-host');
        host.innerHTML = '';
        host.appendChild(frame);
      });
    },

    /** Cardinal.continue into #challenge-host; resolves to the JWT of payments.validated (empty if it had
     *  none), which the server has the 3DS service validate. */
    challenge: function (acsUrl, payload, transactionId) {
      return new Promise(function (resolve, reject) {
        challenge = { resolve: resolve, reject: reject };
        window.Cardinal.continue('cca', { AcsUrl: acsUrl, Payload: payload }, { OrderDetails: { TransactionId: transactionId } });
      });
    },
  };
})();

// The SDK's set-up does not wait for the page or the form: the page puts it in <head> before this script, which
// starts it right away, while the rest of the page is parsed and the wasm loads (the form awaits the same
// promise, and shows its failure).
(function () {
  var meta = function (name) {
    var m = document.querySelector('meta[name="' + name + '"]');
    return m && m.content;
  };
  var url = meta('checkout-sdk-url'), jwt = meta('checkout-sdk-jwt');
  if (url && jwt) window.checkoutBridge.setup(url, jwt).catch(function () {});
})();
