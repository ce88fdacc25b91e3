/*
 * verifone.js emulation, served by the card-checkout sandbox. Both calls real pages use:
 *   verifone.getEncryptedCardDetails(card, key) -> Promise {encryptedCard}
 *   verifone.encryptCard(card, key)             -> Promise of the encrypted card string itself
 * The encrypted card is base64 of an ASCII-armored OpenPGP message (OpenPGP.js v4, loaded on first use)
 * encrypted to `key`, the armored public key or its base64. The plaintext is the JSON Verifone decrypts, with
 * the capture time and the tags given; a two-digit expiry year is taken as 20YY.
 */
(function () {
  'use strict';
  var src = document.currentScript && document.currentScript.src;
  var base = src.replace(/\/verifone\.js(\?.*)?$/, '');
  var loading = null;

  function loadOpenPgp() {
    if (window.openpgp) return Promise.resolve(window.openpgp);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var s = document.createElement('script');
        s.src = base + '/openpgp.min.js';
        s.onload = function () { resolve(window.openpgp); };
        s.onerror = function () { loading = null; reject(new Error('could not load OpenPGP.js')); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  function armored(key) {
    key = String(key || '').trim();
    return key.indexOf('-----BEGIN') === 0 ? key : atob(key.replace(/\s+/g, ''));
  }

  function fullYear(year) {
    var y = String(year == null ? '' : year).trim();
    return /^\d{2}$/.test(y) ? '20' + y : y;
  }

  function encrypt(card, key) {
    card = card || {};
    return loadOpenPgp().then(function (openpgp) {
      return openpgp.key.readArmored(armored(key)).then(function (read) {
        if (read.err && read.err.length) throw read.err[0];
        // Only the tags given: a stored card's CVV entered again is encrypted on its own.
        var plain = { captureTime: new Date().toISOString() };
        if (card.cardNumber != null) plain.cardNumber = String(card.cardNumber).replace(/\D/g, '');
        if (card.expiryMonth != null) plain.expiryMonth = card.expiryMonth;
        if (card.expiryYear != null) plain.expiryYear = fullYear(card.expiryYear);
        if (card.cvv != null) plain.cvv = card.cvv;
        if (card.cardholderName) plain.cardholderName = card.cardholderName;
        return openpgp.encrypt({ message: openpgp.message.fromText(JSON.stringify(plain)), publicKeys: read.keys });
      });
    }).then(function (encrypted) {
      return btoa(encrypted.data);
    });
  }

  window.verifone = {
    getEncryptedCardDetails: function (card, key) {
      return encrypt(card, key).then(function (encryptedCard) { return { encryptedCard: encryptedCard }; });
    },
    encryptCard: encrypt,
  };
})();
