/* Sorting: click a column heading to sort (its natural direction first), again to reverse,
   a third time to restore the ranked order. Empty cells stay last. Filtering: every word typed
   in a table's filter box must appear in a row for it to stay shown. No network, no library. */
(function () {
  "use strict";
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  each(document.querySelectorAll("table.sortable"), function (table) {
    var body = table.tBodies[0], heads = table.tHead.rows[0].cells;
    each(body.rows, function (row, i) { row.setAttribute("data-order", String(i)); });
    each(heads, function (th, col) {
      if (!th.hasAttribute("data-sort")) { return; }
      th.tabIndex = 0;
      function sort() {
        var first = th.getAttribute("data-first") === "desc" ? "descending" : "ascending";
        var now = th.getAttribute("aria-sort"), dir;
        if (!now) { dir = first; }
        else if (now === first) { dir = first === "ascending" ? "descending" : "ascending"; }
        else { dir = null; }
        var sign = dir === "descending" ? -1 : 1, numeric = th.getAttribute("data-sort") === "num";
        var rows = Array.prototype.slice.call(body.rows);
        function order(r) { return parseInt(r.getAttribute("data-order"), 10); }
        rows.sort(function (a, b) {
          if (dir === null) { return order(a) - order(b); }
          var x = a.cells[col].getAttribute("data-value") || "";
          var y = b.cells[col].getAttribute("data-value") || "";
          if (x === "" || y === "") {
            return (x === "") - (y === "") || order(a) - order(b);
          }
          var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
          return sign * c || order(a) - order(b);
        });
        each(heads, function (h) { h.removeAttribute("aria-sort"); });
        if (dir) { th.setAttribute("aria-sort", dir); }
        table.classList.toggle("resorted", dir !== null);
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  });
  each(document.querySelectorAll("input.filter"), function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    var count = document.getElementById(input.getAttribute("data-count"));
    if (!table) { return; }
    var rows = table.tBodies[0].rows, noun = input.getAttribute("data-noun") || "rows";
    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
      each(rows, function (row) {
        var text = row.textContent.toLowerCase();
        var keep = words.every(function (w) { return text.indexOf(w) !== -1; });
        row.hidden = !keep;
        if (keep) { shown += 1; }
      });
      if (count) {
        count.textContent = words.length ? shown + " of " + rows.length + " " + noun + " shown" : "";
      }
    }
    input.addEventListener("input", apply);
    apply();
  });
})();
