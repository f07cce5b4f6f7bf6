/* trialsupp: provenance popups for traceable numbers.
 *
 * Every displayed statistic is <span class="ts-stat" data-ard="ID [ID ...]"
 * tabindex="0">. On hover or keyboard focus a popup lists, for each ARD row,
 * the statistic, method, population, groups, code, notebook + cell and input
 * hashes, read from <script type="application/json" id="ts-ard"> in the page.
 * No network access; Escape hides the popup.
 */
(function () {
  "use strict";

  function readRows() {
    var node = document.getElementById("ts-ard");
    if (!node) { return {}; }
    var data;
    try { data = JSON.parse(node.textContent || "{}"); } catch (e) { return {}; }
    var rows = Array.isArray(data) ? data : (data.rows || []);
    var index = {};
    for (var i = 0; i < rows.length; i++) {
      if (rows[i] && rows[i].id) { index[rows[i].id] = rows[i]; }
    }
    return index;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function groups(row) {
    var parts = [];
    if (row.group1) { parts.push(row.group1 + " = " + row.group1_level); }
    if (row.group2) { parts.push(row.group2 + " = " + row.group2_level); }
    return parts.join("; ");
  }

  function variable(row) {
    if (!row.variable) { return ""; }
    return row.variable_level !== null && row.variable_level !== undefined && row.variable_level !== ""
      ? row.variable + " = " + row.variable_level : row.variable;
  }

  function describe(id, row) {
    var box = el("div", "ts-pop-row");
    if (!row) {
      box.appendChild(el("h4", null, "Unknown ARD row"));
      box.appendChild(el("code", null, id));
      return box;
    }
    var title = (row.stat_label || row.stat_name || "statistic") + ": " +
      (row.stat_fmt !== null && row.stat_fmt !== undefined ? row.stat_fmt : "NE");
    box.appendChild(el("h4", null, title));
    var dl = el("dl");
    function add(label, value, asCode) {
      if (value === null || value === undefined || value === "") { return; }
      dl.appendChild(el("dt", null, label));
      var dd = el("dd");
      if (asCode) { dd.appendChild(el("code", null, value)); } else { dd.textContent = String(value); }
      dl.appendChild(dd);
    }
    add("Output", row.output_id);
    add("Raw value", row.stat);
    add("Method", row.method);
    add("Population", row.population);
    add("Groups", groups(row));
    add("Variable", variable(row));
    add("Code", row.code, true);
    if (row.notebook) {
      var dt = el("dt", null, "Notebook");
      var dd = el("dd");
      var link = el("a", null, row.notebook + (row.cell_id ? " (cell " + row.cell_id + ")" : ""));
      // the rendered preview published beside the supplement: notebooks/<name>.html#<cell id>
      var preview = "notebooks/" + String(row.notebook).split("/").pop().replace(/\.ipynb$/, ".html");
      link.setAttribute("href", preview + (row.cell_id ? "#" + row.cell_id : ""));
      dd.appendChild(link);
      dl.appendChild(dt);
      dl.appendChild(dd);
    }
    if (row.inputs && typeof row.inputs === "object") {
      var keys = Object.keys(row.inputs).sort();
      for (var k = 0; k < keys.length; k++) {
        add("Input " + keys[k], "sha256:" + String(row.inputs[keys[k]]).slice(0, 16) + "…", true);
      }
    }
    add("Warning", row.warning);
    add("Not estimable", row.error);
    add("ARD id", id, true);
    box.appendChild(dl);
    return box;
  }

  function init() {
    var rows = readRows();
    var pop = el("div", "ts-pop");
    pop.id = "ts-pop";
    pop.setAttribute("role", "tooltip");
    pop.hidden = true;
    document.body.appendChild(pop);
    var current = null;

    function show(target) {
      var ids = (target.getAttribute("data-ard") || "").split(/\s+/).filter(Boolean);
      while (pop.firstChild) { pop.removeChild(pop.firstChild); }
      for (var i = 0; i < ids.length; i++) { pop.appendChild(describe(ids[i], rows[ids[i]])); }
      pop.hidden = false;
      var r = target.getBoundingClientRect();
      var left = window.scrollX + r.left;
      var maxLeft = window.scrollX + document.documentElement.clientWidth - pop.offsetWidth - 8;
      pop.style.left = Math.max(window.scrollX + 4, Math.min(left, maxLeft)) + "px";
      pop.style.top = (window.scrollY + r.bottom + 6) + "px";
      target.setAttribute("aria-describedby", "ts-pop");
      current = target;
    }

    function hide() {
      pop.hidden = true;
      if (current) { current.removeAttribute("aria-describedby"); }
      current = null;
    }

    function statOf(node) {
      while (node && node !== document) {
        if (node.classList && node.classList.contains("ts-stat")) { return node; }
        node = node.parentNode;
      }
      return null;
    }

    document.addEventListener("mouseover", function (ev) {
      var t = statOf(ev.target);
      if (t && t !== current) { show(t); }
    });
    document.addEventListener("mouseout", function (ev) {
      var t = statOf(ev.target);
      if (t && t === current && !pop.contains(ev.relatedTarget) && statOf(ev.relatedTarget) !== t &&
          document.activeElement !== t) { hide(); }
    });
    pop.addEventListener("mouseleave", function () {
      if (current && document.activeElement !== current) { hide(); }
    });
    document.addEventListener("focusin", function (ev) {
      var t = statOf(ev.target);
      if (t) { show(t); } else if (!pop.contains(ev.target)) { hide(); }
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" || ev.key === "Esc") { hide(); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
