/*
 * The checkout page's bridge to the two provider scripts (Cardinal Songbird and verifone.js), as promises
 * the Leptos code awaits. The card number and CVV go from the form to verifone.js only; what comes back is
 * ciphertext for the provider.
 */
window.checkoutBridge = (function () {
  'use strict';
  var challenge = null;
  var scripts = {};

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

  return {
    /** Loads Songbird and runs Cardinal.setup with the JWT; resolves to the device session id. */
    setup: function (songbirdUrl, jwt) {
      return loaded(songbirdUrl, 'Cardinal').then(function (Cardinal) {
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
              c.resolve(JSON.stringify({ data: data, jwt: jwt || '' }));
            } else if (!ready) {
              reject(new Error(data.ErrorDescription || 'the 3-D Secure service could not start'));
            }
          });
          Cardinal.setup('init', { jwt: jwt });
        });
      });
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

    /** Cardinal.continue into #challenge-host; resolves to JSON {data, jwt} of payments.validated. */
    challenge: function (acsUrl, payload, transactionId) {
      return new Promise(function (resolve, reject) {
        challenge = { resolve: resolve, reject: reject };
        window.Cardinal.continue('cca', { AcsUrl: acsUrl, Payload: payload }, { OrderDetails: { TransactionId: transactionId } });
      });
    },
  };
})();
