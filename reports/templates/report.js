/* trends report: draw every chart, make tables sortable, and tell a test when done.
   Sets on <body>: data-rendered = charts drawn; data-error = what failed (if anything);
   data-requests = resources the page loaded (0: it is self-contained). */
(function () {
  "use strict";
  var body = document.body;
  var errors = [];

  function fail(message) {
    errors.push(String(message));
    body.setAttribute("data-error", errors.join(" | "));
  }
  window.addEventListener("error", function (e) { fail(e.message || "script error"); });
  window.addEventListener("unhandledrejection", function (e) { fail(e.reason); });
  document.addEventListener("securitypolicyviolation", function (e) {
    fail("blocked request to " + e.blockedURI);
  });

  function drawCharts() {
    var charts = document.querySelectorAll("[data-spec]");
    if (typeof vegaEmbed !== "function") {
      fail("the Vega libraries did not load");
      body.setAttribute("data-rendered", "0");
      return;
    }
    var options = {
      renderer: "svg",
      actions: { export: true, source: false, compiled: false, editor: false },
      downloadFileName: "chart"
    };
    var jobs = Array.prototype.map.call(charts, function (el) {
      var spec;
      try {
        spec = JSON.parse(document.getElementById(el.getAttribute("data-spec")).textContent);
      } catch (err) {
        fail(el.id + ": " + err);
        return Promise.resolve(0);
      }
      var opts = Object.assign({}, options, { downloadFileName: el.id });
      return vegaEmbed(el, spec, opts).then(
        function () { return 1; },
        function (err) { fail(el.id + ": " + err); return 0; }
      );
    });
    Promise.all(jobs).then(function (done) {
      var drawn = done.reduce(function (a, b) { return a + b; }, 0);
      var loaded = performance.getEntriesByType ? performance.getEntriesByType("resource") : [];
      body.setAttribute("data-requests", String(loaded.length));
      body.setAttribute("data-rendered", String(drawn));
    });
  }

  function sortKey(cell) {
    var key = cell.getAttribute("data-sort");
    if (key === null) { key = cell.textContent.trim(); }
    var num = parseFloat(key);
    return isNaN(num) || !/^[-+]?[0-9.eE+-]+$/.test(key) ? { n: null, s: key } : { n: num, s: key };
  }

  function compare(a, b) {
    if (a.n !== null && b.n !== null) { return a.n - b.n; }
    if (a.n !== null) { return -1; }
    if (b.n !== null) { return 1; }
    return a.s.localeCompare(b.s);
  }

  function makeSortable(table) {
    var heads = table.querySelectorAll("thead th");
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var tbody = table.tBodies[0];
        var rows = Array.prototype.slice.call(tbody.rows);
        rows.sort(function (r1, r2) {
          var c = compare(sortKey(r1.cells[col]), sortKey(r2.cells[col]));
          return ascending ? c : -c;
        });
        rows.forEach(function (r) { tbody.appendChild(r); });
      });
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
    drawCharts();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
