/*
 * One Custom Checkout input, inside its iframe on the sandbox's origin (see customcheckout.js). The digits stay
 * here: the parent page gets metadata only; the CVV and expiry frames hand their values to the card-number
 * frame over a BroadcastChannel of this origin, and the card-number frame alone calls the tokenization endpoint.
 */
(function () {
  'use strict';

  var input = document.getElementById('field');
  var field = input.getAttribute('data-field');
  var params = new URLSearchParams(location.search);
  var id = params.get('id') || '';
  var parentOrigin = params.get('origin') || '';
  var TOKEN_URL = new URL('../../scripts/tokenization/tokens', location.href).href;
  var COLLECT_TIMEOUT_MS = 3000;
  var REQUEST_TIMEOUT_MS = 15000;
  var DEFAULT_PLACEHOLDERS = { 'card-number': 'Card number', cvv: 'CVV', expiry: 'MM / YY' };

  function isOrigin(value) {
    try {
      return new URL(value).origin === value;
    } catch (e) {
      return false;
    }
  }

  /* Talk only to the page that framed us, under the origin it announced (checked where the browser can). */
  var ancestors = location.ancestorOrigins;
  var framedByAnnouncedOrigin = !ancestors || !ancestors.length || ancestors[0] === parentOrigin;
  if (window.parent === window || !/^[0-9a-f]{32}$/.test(id) || !isOrigin(parentOrigin) || !framedByAnnouncedOrigin) {
    input.disabled = true;
    return;
  }

  var channel = new BroadcastChannel('customcheckout:' + id);
  var brands = null; // accepted brands (options.brands), null = all
  var cardBrand = 'unknown'; // for the CVV frame: the brand the card-number frame detected
  var state = { empty: true, complete: false, error: null, focus: false, brand: 'unknown' };

  function toParent(message) {
    message.cc = 'customcheckout';
    message.id = id;
    message.field = field;
    window.parent.postMessage(message, parentOrigin);
  }

  function emit(name, payload) {
    payload.field = field;
    toParent({ kind: 'event', name: name, payload: payload });
  }

  function digitsOf(value) {
    return value.replace(/\D/g, '');
  }

  /* Card brands: the same prefixes and lengths as the sandbox's domain rules (src/domain/card.rs). */
  var BRANDS = [
    { name: 'visa', prefix: /^4/, lengths: [13, 16, 19], cvv: 3 },
    { name: 'amex', prefix: /^3[47]/, lengths: [15], cvv: 4 },
    { name: 'mastercard', prefix: /^(5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)/, lengths: [16], cvv: 3 },
    {
      name: 'discover',
      prefix: /^(6011|6[45]|622(12[6-9]|1[3-9]\d|[2-8]\d\d|9[01]\d|92[0-5]))/,
      lengths: [16, 17, 18, 19],
      cvv: 3
    },
    { name: 'jcb', prefix: /^35(2[89]|[3-8]\d)/, lengths: [16, 17, 18, 19], cvv: 3 }
  ];

  function brandOf(digits) {
    for (var i = 0; i < BRANDS.length; i++) if (BRANDS[i].prefix.test(digits)) return BRANDS[i];
    return null;
  }

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
    }
    return digits.length > 0 && sum % 10 === 0;
  }

  /* Each field's rules: its digits as shown, and whether they are complete or wrong. `final` is true on blur
     and on tokenizing, when an unfinished value counts as an error. */
  var RULES = {
    'card-number': {
      maxDigits: function (digits) {
        var brand = brandOf(digits);
        return brand ? Math.max.apply(null, brand.lengths) : 19;
      },
      format: function (digits) {
        var groups = brandOf(digits) && brandOf(digits).name === 'amex' ? [4, 6, 5] : [4, 4, 4, 4, 3];
        var parts = [];
        var at = 0;
        for (var i = 0; i < groups.length && at < digits.length; i++) {
          parts.push(digits.slice(at, at + groups[i]));
          at += groups[i];
        }
        return parts.join(' ');
      },
      check: function (digits, final) {
        var brand = brandOf(digits);
        if (!digits) return final ? error('CardNumberInvalid', 'Enter the card number.') : pending();
        if (!brand && (digits.length >= 4 || /^[01789]/.test(digits))) {
          return error('CardNumberInvalid', 'This card number is not valid.');
        }
        if (brand && brands && brands.indexOf(brand.name) < 0) {
          return error('CardNumberInvalid', 'This card brand is not accepted.');
        }
        var fullLength = brand && brand.lengths.indexOf(digits.length) >= 0;
        if (fullLength && luhn(digits)) return complete();
        // Wrong at the brand's longest length, or at 16 digits and more (most cards' length; longer ones are
        // rare, and shorter Visa lengths would flash an error while a 16-digit number is typed).
        var longest = brand && digits.length >= Math.max.apply(null, brand.lengths);
        if (longest || (fullLength && digits.length >= 16)) {
          return error('CardNumberInvalid', 'This card number is not valid.');
        }
        if (!final) return pending();
        return error('CardNumberInvalid', fullLength ? 'This card number is not valid.' : 'This card number is incomplete.');
      }
    },
    cvv: {
      maxDigits: function () {
        return cardBrand === 'amex' ? 4 : cardBrand === 'unknown' ? 4 : 3;
      },
      format: function (digits) {
        return digits;
      },
      check: function (digits, final) {
        var ok = cardBrand === 'unknown' ? digits.length === 3 || digits.length === 4
          : digits.length === (cardBrand === 'amex' ? 4 : 3);
        if (ok) return complete();
        if (!digits) return final ? error('CvvNotSet', 'Enter the CVV.') : pending();
        return final ? error('CvvNotSet', 'The CVV is incomplete.') : pending();
      }
    },
    expiry: {
      maxDigits: function () {
        return 4;
      },
      format: function (digits) {
        if (digits.length === 1 && digits > '1') digits = '0' + digits;
        return digits.length > 2 ? digits.slice(0, 2) + ' / ' + digits.slice(2) : digits;
      },
      check: function (digits, final) {
        if (digits.length === 1 && digits > '1') digits = '0' + digits;
        if (!digits) return final ? error('ExpiryIsNotSet', 'Enter the expiry date.') : pending();
        var month = Number(digits.slice(0, 2));
        if (digits.length >= 2 && (month < 1 || month > 12)) return error('ExpiryIsNotSet', 'The expiry month is not valid.');
        if (digits.length < 4) return final ? error('ExpiryIsNotSet', 'The expiry date is incomplete.') : pending();
        var now = new Date();
        var year = 2000 + Number(digits.slice(2, 4));
        var thisYear = now.getFullYear();
        if (year < thisYear || (year === thisYear && month < now.getMonth() + 1)) {
          return error('ExpiryIsInThePast', 'The card has expired.');
        }
        if (year > thisYear + 20) return error('ExpiryIsNotSet', 'The expiry year is not valid.');
        return complete();
      }
    }
  };

  function complete() {
    return { complete: true, error: null };
  }
  function pending() {
    return { complete: false, error: null };
  }
  function error(type, message) {
    return { complete: false, error: { type: type, message: message } };
  }

  var rules = RULES[field];

  function digits() {
    var d = digitsOf(input.value);
    return field === 'expiry' && d.length === 1 && d > '1' ? '0' + d : d;
  }

  /* Reformats what was typed, keeping the caret after the same number of digits. */
  function reformat() {
    var raw = digitsOf(input.value);
    var caretDigits = digitsOf(input.value.slice(0, input.selectionStart || 0)).length;
    var atEnd = caretDigits >= raw.length;
    var shown = rules.format(raw.slice(0, rules.maxDigits(raw)));
    if (shown === input.value) return;
    input.value = shown;
    var caret = 0;
    for (var seen = 0; caret < shown.length && seen < caretDigits; caret++) if (/\d/.test(shown[caret])) seen++;
    if (atEnd) caret = shown.length;
    input.setSelectionRange(caret, caret);
  }

  /* Re-checks the value and tells the page what changed. */
  function evaluate(final) {
    var d = digits();
    var result = rules.check(d, final);
    var empty = d.length === 0;
    var before = state;
    state = { empty: empty, complete: result.complete, error: result.error, focus: before.focus, brand: before.brand };
    if (empty !== before.empty) emit('empty', { empty: empty });
    if (field === 'card-number') {
      var brand = brandOf(d) ? brandOf(d).name : 'unknown';
      if (brand !== before.brand) {
        state.brand = brand;
        emit('brand', { brand: brand });
        channel.postMessage({ kind: 'brand', brand: brand });
      }
    }
    if (result.complete !== before.complete) emit('complete', { complete: result.complete });
    var err = result.error;
    var changed = err && (!before.error || before.error.type !== err.type || before.error.message !== err.message);
    if (changed) emit('error', { type: err.type, message: err.message });
    input.setAttribute('aria-invalid', err ? 'true' : 'false');
    input.classList.toggle('is-empty', empty);
    input.classList.toggle('is-complete', result.complete);
    input.classList.toggle('is-error', !!err);
    sendState();
    return result;
  }

  function sendState() {
    toParent({
      kind: 'state',
      state: { empty: state.empty, complete: state.complete, error: !!state.error, focus: state.focus }
    });
  }

  /* Styles from options.style, limited to the documented properties; values that could escape a declaration
     are dropped. Applied as constructed stylesheets, which the frame's CSP (style-src 'none') allows. */
  var STYLE_PROPS = {
    color: 'color', fontFamily: 'font-family', fontSize: 'font-size', fontStyle: 'font-style',
    fontWeight: 'font-weight', textDecoration: 'text-decoration', padding: 'padding',
    paddingLeft: 'padding-left', paddingTop: 'padding-top', paddingRight: 'padding-right',
    paddingBottom: 'padding-bottom'
  };
  var STATE_SELECTORS = { base: '#field', complete: '#field.is-complete', empty: '#field.is-empty', error: '#field.is-error' };
  var BASE_CSS = 'html,body{margin:0;padding:0;background:transparent;overflow:hidden}' +
    '#field{box-sizing:border-box;display:block;width:100%;margin:0;border:0;outline:none;background:transparent;' +
    'font-family:inherit;font-size:16px;line-height:1.5;padding:0.4em 0;color:#222}' +
    '#field:disabled{color:#999}';

  function declarations(style) {
    var out = [];
    Object.keys(STYLE_PROPS).forEach(function (prop) {
      var value = style && style[prop];
      if ((typeof value === 'string' || typeof value === 'number') && /^[^;{}<>\\"']{1,100}$/.test(String(value)) &&
          !/url\s*\(|expression\s*\(|@/i.test(String(value))) {
        out.push(STYLE_PROPS[prop] + ':' + value);
      }
    });
    return out.join(';');
  }

  function customCss(style) {
    var css = '';
    Object.keys(STATE_SELECTORS).forEach(function (key) {
      var rule = style && style[key];
      if (!rule || typeof rule !== 'object') return;
      var selector = STATE_SELECTORS[key];
      css += selector + '{' + declarations(rule) + '}';
      if (rule[':hover']) css += selector + ':hover{' + declarations(rule[':hover']) + '}';
      if (rule[':focus']) css += selector + ':focus{' + declarations(rule[':focus']) + '}';
    });
    return css;
  }

  function applyStyles(style) {
    if (typeof CSSStyleSheet !== 'function' || !('adoptedStyleSheets' in document)) return;
    var base = new CSSStyleSheet();
    base.replaceSync(BASE_CSS);
    var custom = new CSSStyleSheet();
    custom.replaceSync(customCss(style));
    document.adoptedStyleSheets = [base, custom];
  }

  function applyOptions(options) {
    options = options || {};
    input.placeholder = typeof options.placeholder === 'string' ? options.placeholder : DEFAULT_PLACEHOLDERS[field];
    brands = Array.isArray(options.brands) ? options.brands.map(String) : null;
    applyStyles(options.style);
    if (input.value) evaluate(false);
    else sendState();
    toParent({ kind: 'size', height: Math.ceil(input.getBoundingClientRect().height) });
  }

  /* Tokenizing (card-number frame): gather the other fields' values, check all, call the endpoint. */
  function tokenize(request, fields) {
    var mine = evaluate(true);
    var key = String(Math.random()).slice(2) + String(request);
    var parts = {};
    var waiting = fields.slice();
    var done = false;

    function finish(result) {
      if (done) return;
      done = true;
      channel.removeEventListener('message', onPart);
      clearTimeout(timer);
      toParent({ kind: 'token', request: request, result: result });
    }

    function tokenFailure(code, type, message) {
      finish({ code: code, error: { field: 'token', type: type, message: message } });
    }

    function onPart(e) {
      var m = e.data;
      if (!m || m.kind !== 'part' || m.key !== key || waiting.indexOf(m.field) < 0) return;
      parts[m.field] = m;
      waiting.splice(waiting.indexOf(m.field), 1);
      if (!waiting.length) send();
    }

    function send() {
      var invalid = !mine.complete || Object.keys(parts).some(function (f) { return !parts[f].complete; });
      if (invalid) return tokenFailure(null, 'TokenizationValidationFailed', 'Some card details are missing or not valid.');
      if (!parts.expiry) return tokenFailure(null, 'TokenizationValidationFailed', 'The expiry date input is not mounted.');
      var expiry = parts.expiry.value;
      var body = { number: digits(), expiry_month: expiry.slice(0, 2), expiry_year: expiry.slice(2, 4) };
      if (parts.cvv) body.cvd = parts.cvv.value;
      var controller = new AbortController();
      var abort = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
      fetch(TOKEN_URL, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
        credentials: 'omit',
        cache: 'no-store'
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          clearTimeout(abort);
          if (response.ok && json.code === 1 && json.token) {
            finish({
              code: response.status,
              token: json.token,
              last4: body.number.slice(-4),
              expiryMonth: body.expiry_month,
              expiryYear: body.expiry_year
            });
          } else if (response.status >= 400 && response.status < 500) {
            tokenFailure(response.status, 'TokenizationValidationFailed', json.message || 'The card details were refused.');
          } else {
            tokenFailure(response.status, 'TokenizationFailed', 'The tokenization service failed.');
          }
        });
      }, function () {
        clearTimeout(abort);
        tokenFailure(null, 'TokenizationNoResponse', 'The tokenization service did not answer.');
      });
    }

    var timer = setTimeout(function () {
      tokenFailure(null, 'TokenizationValidationFailed', 'A card input did not answer.');
    }, COLLECT_TIMEOUT_MS);
    channel.addEventListener('message', onPart);
    if (waiting.length) channel.postMessage({ kind: 'collect', key: key });
    else send();
  }

  channel.addEventListener('message', function (e) {
    var m = e.data || {};
    if (m.kind === 'collect' && field !== 'card-number') {
      var result = evaluate(true);
      channel.postMessage({ kind: 'part', key: m.key, field: field, complete: result.complete, value: result.complete ? digits() : null });
    } else if (m.kind === 'brand' && field === 'cvv') {
      cardBrand = typeof m.brand === 'string' ? m.brand : 'unknown';
      reformat();
      if (input.value || state.error) evaluate(false);
    } else if (m.kind === 'brand?' && field === 'card-number') {
      channel.postMessage({ kind: 'brand', brand: state.brand });
    }
  });

  window.addEventListener('message', function (e) {
    var m = e.data;
    if (e.source !== window.parent || e.origin !== parentOrigin || !m || m.cc !== 'customcheckout' || m.id !== id) return;
    if (m.kind === 'options') applyOptions(m.options);
    else if (m.kind === 'focus') input.focus();
    else if (m.kind === 'blur') input.blur();
    else if (m.kind === 'clear') {
      input.value = '';
      evaluate(false);
    } else if (m.kind === 'tokenize' && field === 'card-number' && Array.isArray(m.fields)) {
      tokenize(m.request, m.fields.filter(function (f) { return f === 'cvv' || f === 'expiry'; }));
    }
  });

  input.addEventListener('input', function () {
    reformat();
    evaluate(false);
  });
  input.addEventListener('focus', function () {
    state.focus = true;
    emit('focus', {});
    sendState();
  });
  input.addEventListener('blur', function () {
    state.focus = false;
    emit('blur', {});
    if (input.value) evaluate(true);
    else sendState();
  });

  input.placeholder = DEFAULT_PLACEHOLDERS[field];
  applyStyles(null);
  if (field === 'cvv') channel.postMessage({ kind: 'brand?' });
  toParent({ kind: 'ready' });
})();
