// Records what goes wrong on a page (script errors, resources that fail to
// load, console.error) in <html data-errors>, so anyone looking at a page's
// DOM, a headless browser's dump included, can tell a page that worked from
// one that did not. Loaded first, before every other script.
(function () {
  'use strict';
  var errors = [];
  var root = document.documentElement;
  function note(msg) {
    errors.push(String(msg));
    root.setAttribute('data-errors', JSON.stringify(errors));
  }
  root.setAttribute('data-errors', '[]');
  window.addEventListener('error', function (e) {
    if (e.target && e.target !== window && (e.target.src || e.target.href)) {
      note('failed to load ' + (e.target.src || e.target.href));
    } else {
      note((e.message || 'error') + (e.filename ? ' at ' + e.filename + ':' + e.lineno : ''));
    }
  }, true);
  window.addEventListener('unhandledrejection', function (e) { note('unhandled rejection: ' + e.reason); });
  var consoleError = console.error;
  console.error = function () {
    note(Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };
  window.addEventListener('load', function () { root.setAttribute('data-loaded', '1'); });
})();
