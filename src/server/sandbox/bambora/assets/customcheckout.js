/*
 * Custom Checkout, emulated by the card-checkout sandbox. Same global API as
 * https://libs.na.bambora.com/customcheckout/1/customcheckout.js (Custom Checkout reference):
 *
 *   var customCheckout = customcheckout();
 *   var input = customCheckout.create('card-number' | 'cvv' | 'expiry', {placeholder, style, classes, brands});
 *   input.mount('#selector'); input.update(options); input.focus(); input.blur(); input.clear(); input.unmount();
 *   customCheckout.on('brand' | 'empty' | 'complete' | 'error' | 'focus' | 'blur', function (event) {});
 *   customCheckout.createToken(function (result) {});  // {code, token, last4, expiryMonth, expiryYear} or {code, error}
 *
 * Each input is an iframe served by the sandbox; this page only ever receives metadata (field, brand, empty,
 * complete, error type and message) and the token. The card-number frame gathers the other fields over a
 * BroadcastChannel of the sandbox's origin and calls the tokenization endpoint itself.
 */
(function (global) {
  'use strict';

  var script = document.currentScript || document.querySelector('script[src*="customcheckout.js"]');
  var FIELD_URL = new URL('field', script.src);
  var PROVIDER_ORIGIN = FIELD_URL.origin;
  var TOKEN_TIMEOUT_MS = 20000;
  var FRAME_TITLES = {
    'card-number': 'Secure card number input',
    cvv: 'Secure CVV input',
    expiry: 'Secure expiry date input'
  };
  var DEFAULT_CLASSES = {
    base: 'bambora-checkoutfield',
    complete: 'bambora-checkoutfield-complete',
    empty: 'bambora-checkoutfield-empty',
    focus: 'bambora-checkoutfield-focus',
    error: 'bambora-checkoutfield-error'
  };
  var EVENTS = ['blur', 'focus', 'empty', 'complete', 'brand', 'error'];

  function randomId() {
    var bytes = new Uint8Array(16);
    global.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function later(fn, value) {
    setTimeout(function () { fn(value); }, 0);
  }

  function tokenError(code, type, message) {
    return { code: code, error: { field: 'token', type: type, message: message } };
  }

  /* Only the documented fields of an event reach the merchant's listeners. */
  function eventPayload(name, payload) {
    var event = { field: String(payload.field) };
    if (name === 'empty') event.empty = payload.empty === true;
    if (name === 'complete') event.complete = payload.complete === true;
    if (name === 'brand') event.brand = String(payload.brand);
    if (name === 'error') {
      event.type = String(payload.type);
      event.message = String(payload.message);
    }
    return event;
  }

  function Checkout() {
    var self = this;
    this.id = randomId();
    this.inputs = {};
    this.listeners = {};
    this.pending = {};
    this.requests = 0;
    global.addEventListener('message', function (e) { self.receive(e); });
  }

  Checkout.prototype.create = function (type, options) {
    if (!FRAME_TITLES.hasOwnProperty(type)) {
      throw new Error("customcheckout.create: type must be 'card-number', 'cvv' or 'expiry'");
    }
    if (this.inputs[type]) this.inputs[type].unmount();
    var input = new Input(this, type, options);
    this.inputs[type] = input;
    return input;
  };

  Checkout.prototype.on = function (event, callback) {
    if (EVENTS.indexOf(event) < 0 || typeof callback !== 'function') return;
    (this.listeners[event] = this.listeners[event] || []).push(callback);
  };

  Checkout.prototype.emit = function (name, event) {
    (this.listeners[name] || []).slice().forEach(function (fn) {
      try {
        fn(event);
      } catch (e) {
        setTimeout(function () { throw e; }, 0);
      }
    });
  };

  Checkout.prototype.createToken = function (callback) {
    if (typeof callback !== 'function') throw new TypeError('customcheckout.createToken needs a callback');
    var number = this.inputs['card-number'];
    if (!number || !number.frame) {
      later(callback, tokenError(null, 'TokenizationValidationFailed', 'The card number input is not mounted.'));
      return;
    }
    var self = this;
    var request = ++this.requests;
    var timer = setTimeout(function () {
      self.finish(request, tokenError(null, 'TokenizationNoResponse', 'The tokenization service did not answer.'));
    }, TOKEN_TIMEOUT_MS);
    this.pending[request] = { callback: callback, timer: timer };
    var others = ['cvv', 'expiry'].filter(function (type) {
      return self.inputs[type] && self.inputs[type].frame;
    });
    number.send({ kind: 'tokenize', request: request, fields: others });
  };

  Checkout.prototype.finish = function (request, result) {
    var pending = this.pending[request];
    if (!pending) return;
    delete this.pending[request];
    clearTimeout(pending.timer);
    later(pending.callback, result);
  };

  /* Messages count only from our own frames, on the sandbox's origin, for this instance. */
  Checkout.prototype.receive = function (e) {
    var data = e.data;
    if (e.origin !== PROVIDER_ORIGIN || !data || data.cc !== 'customcheckout' || data.id !== this.id) return;
    var input = this.inputs[data.field];
    if (!input || !input.frame || e.source !== input.frame.contentWindow) return;
    if (data.kind === 'ready') {
      input.ready();
    } else if (data.kind === 'size') {
      input.frame.style.height = Math.max(0, Math.min(400, Number(data.height) || 0)) + 'px';
    } else if (data.kind === 'state') {
      input.applyState(data.state || {});
    } else if (data.kind === 'event' && EVENTS.indexOf(data.name) >= 0) {
      this.emit(data.name, eventPayload(data.name, data.payload || {}));
    } else if (data.kind === 'token' && data.field === 'card-number') {
      this.finish(data.request, data.result);
    }
  };

  function Input(checkout, type, options) {
    this.checkout = checkout;
    this.type = type;
    this.options = options || {};
    this.frame = null;
    this.host = null;
    this.isReady = false;
    this.queue = [];
    this.state = { empty: true, complete: false, error: false, focus: false };
  }

  Input.prototype.classes = function () {
    var given = this.options.classes || {};
    var classes = {};
    Object.keys(DEFAULT_CLASSES).forEach(function (key) {
      classes[key] = typeof given[key] === 'string' && given[key] ? given[key] : DEFAULT_CLASSES[key];
    });
    return classes;
  };

  Input.prototype.mount = function (selector) {
    var host = null;
    try {
      host = document.querySelector(selector);
    } catch (e) {
      host = null;
    }
    if (!host) return new Error('customcheckout: no element matches ' + selector);
    if (this.frame) this.unmount();
    var url = new URL(FIELD_URL.href);
    url.searchParams.set('type', this.type);
    url.searchParams.set('id', this.checkout.id);
    url.searchParams.set('origin', global.location.origin);
    var frame = document.createElement('iframe');
    frame.src = url.href;
    frame.title = FRAME_TITLES[this.type];
    frame.setAttribute('frameborder', '0');
    frame.setAttribute('scrolling', 'no');
    frame.setAttribute('allowtransparency', 'true');
    frame.style.cssText = 'border:none;display:block;width:100%;height:2.5em;overflow:hidden;background:transparent;';
    this.host = host;
    this.frame = frame;
    this.isReady = false;
    host.appendChild(frame);
    this.applyState(this.state);
  };

  Input.prototype.unmount = function () {
    if (!this.frame) return;
    var classes = this.classes();
    var host = this.host;
    Object.keys(classes).forEach(function (key) { host.classList.remove(classes[key]); });
    if (this.frame.parentNode) this.frame.parentNode.removeChild(this.frame);
    this.frame = null;
    this.host = null;
    this.isReady = false;
    this.queue = [];
  };

  Input.prototype.update = function (options) {
    var host = this.host;
    var old = this.classes();
    if (host) Object.keys(old).forEach(function (key) { host.classList.remove(old[key]); });
    this.options = options || {};
    if (host) this.applyState(this.state);
    this.send({ kind: 'options', options: this.frameOptions() });
  };

  Input.prototype.focus = function () {
    if (this.frame) this.frame.focus();
    this.send({ kind: 'focus' });
  };

  Input.prototype.blur = function () {
    this.send({ kind: 'blur' });
  };

  Input.prototype.clear = function () {
    this.send({ kind: 'clear' });
  };

  /* What the frame needs of the options (classes stay on this page). */
  Input.prototype.frameOptions = function () {
    var o = this.options;
    return {
      placeholder: typeof o.placeholder === 'string' ? o.placeholder : null,
      style: o.style && typeof o.style === 'object' ? JSON.parse(JSON.stringify(o.style)) : null,
      brands: Array.isArray(o.brands) ? o.brands.map(String) : null
    };
  };

  Input.prototype.ready = function () {
    this.isReady = true;
    this.post({ kind: 'options', options: this.frameOptions() });
    var queue = this.queue;
    this.queue = [];
    for (var i = 0; i < queue.length; i++) this.post(queue[i]);
  };

  Input.prototype.send = function (message) {
    if (!this.frame) return;
    if (this.isReady) this.post(message);
    else this.queue.push(message);
  };

  Input.prototype.post = function (message) {
    message.cc = 'customcheckout';
    message.id = this.checkout.id;
    this.frame.contentWindow.postMessage(message, PROVIDER_ORIGIN);
  };

  Input.prototype.applyState = function (state) {
    this.state = {
      empty: state.empty === true,
      complete: state.complete === true,
      error: state.error === true,
      focus: state.focus === true
    };
    if (!this.host) return;
    var classes = this.classes();
    var list = this.host.classList;
    list.add(classes.base);
    list.toggle(classes.empty, this.state.empty);
    list.toggle(classes.complete, this.state.complete);
    list.toggle(classes.error, this.state.error);
    list.toggle(classes.focus, this.state.focus);
  };

  function customcheckout() {
    return new Checkout();
  }

  global.customcheckout = customcheckout;
})(window);
