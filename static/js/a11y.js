/* Accessibility glue (issue 23), run on load and after htmx swaps:
   - a table wrapper or a <pre> that scrolls sideways (phones) becomes a focusable, named region,
     so a keyboard user can scroll it (axe scrollable-region-focusable); when it fits again it
     leaves the tab order (also on resize);
   - every chart (<script class="plot-data">) gets a "Show the data as a table" toggle, the table
     built from the figure's own data;
   - the phone menu (the topbar's link to #sidebar) is a disclosure: aria-expanded, Escape or a
     click outside closes it and the focus returns to the menu button; closed, its links are out
     of the tab order;
   - the strategy map's tree (ul.tree-root) follows the ARIA tree pattern: role tree/treeitem/
     group, aria-expanded, one tab stop (roving tabindex), arrow keys, Home/End, Enter/Space;
   - an htmx swap with no message of its own says what changed in the live region (#toast). */
(function () {
  "use strict";
  var _ = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (fmt, args) {
    var i = 0;
    return fmt.replace(/%s/g, function () { return String(args[i++]); });
  };

  function nameFor(wrap) {
    if (wrap.dataset.label) return wrap.dataset.label;
    if (wrap.tagName === "PRE") return _("Code (scrolls sideways)");
    var table = wrap.querySelector("table");
    var caption = table && table.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    var section = wrap.closest("section, .card, main");
    var heading = section && section.querySelector("h1, h2, h3");
    if (!heading) return _("Table");
    return _("%(heading)s (table)").replace("%(heading)s", heading.textContent.trim());
  }

  function markScrollable(root) {
    (root || document).querySelectorAll(".table-wrap, pre").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) wrap.setAttribute("aria-label", nameFor(wrap));
      } else if (wrap.getAttribute("role") === "region") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }

  var pending = null;
  function later() {
    if (pending) return;
    pending = window.requestAnimationFrame(function () { pending = null; markScrollable(); });
  }

  /* ---- Charts: a data table toggle ---------------------------------------------------- */
  var numberFormat = (window.Intl && Intl.NumberFormat) ?
    new Intl.NumberFormat(document.documentElement.lang || undefined, { maximumFractionDigits: 4 }) : null;

  var dateFormat = (window.Intl && Intl.DateTimeFormat) ?
    new Intl.DateTimeFormat(document.documentElement.lang || undefined, { dateStyle: "medium", timeZone: "UTC" }) : null;

  function cell(value) {
    if (value === null || value === undefined || value === "") return "—";
    if (typeof value === "number" && numberFormat) return numberFormat.format(value);
    var iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?$/.exec(String(value));
    if (iso && dateFormat) return dateFormat.format(new Date(Date.UTC(+iso[1], +iso[2] - 1, +iso[3])));
    return String(value);
  }

  function buildTable(fig, caption) {
    var traces = (fig.data || []).filter(function (t) { return t && (t.y || t.x); });
    var keys = [], rows = {};
    traces.forEach(function (t, i) {
      var xs = t.x || [], ys = t.y || [];
      var n = Math.max(xs.length, ys.length);
      for (var k = 0; k < n; k++) {
        var x = xs.length ? xs[k] : k + 1;
        var key = String(x);
        if (!(key in rows)) { rows[key] = { x: x, values: {} }; keys.push(key); }
        rows[key].values[i] = ys[k];
      }
    });
    var table = document.createElement("table");
    var cap = document.createElement("caption");
    cap.textContent = caption;
    table.appendChild(cap);
    var head = table.createTHead().insertRow();
    var th = document.createElement("th");
    th.scope = "col";
    th.textContent = (fig.layout && fig.layout.xaxis && fig.layout.xaxis.title &&
                      (fig.layout.xaxis.title.text || fig.layout.xaxis.title)) || _("Period");
    head.appendChild(th);
    traces.forEach(function (t, i) {
      var h = document.createElement("th");
      h.scope = "col";
      h.className = "num";
      h.textContent = t.name || interpolate(_("Series %s"), [i + 1]);
      head.appendChild(h);
    });
    var body = table.createTBody();
    keys.forEach(function (key) {
      var tr = body.insertRow();
      var first = document.createElement("th");
      first.scope = "row";
      first.textContent = cell(rows[key].x);
      tr.appendChild(first);
      traces.forEach(function (t, i) {
        var td = tr.insertCell();
        td.className = "num";
        td.textContent = cell(rows[key].values[i]);
      });
    });
    return table;
  }

  function addChartTables(root) {
    (root || document).querySelectorAll("script.plot-data").forEach(function (node) {
      var target = document.getElementById(node.dataset.target);
      if (!target || node.dataset.tableToggle === "1") return;
      node.dataset.tableToggle = "1";
      var fig;
      try { fig = JSON.parse(node.textContent); } catch (err) { return; }
      var id = node.dataset.target + "-data";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm chart-table-toggle";
      button.setAttribute("aria-expanded", "false");
      button.setAttribute("aria-controls", id);
      button.textContent = _("Show the data as a table");
      var wrap = document.createElement("div");
      wrap.id = id;
      wrap.className = "table-wrap chart-table";
      wrap.hidden = true;
      var label = target.getAttribute("aria-label") || _("Chart data");
      wrap.dataset.label = label;
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        if (open && !wrap.firstChild) wrap.appendChild(buildTable(fig, label));
        wrap.hidden = !open;
        button.setAttribute("aria-expanded", open ? "true" : "false");
        button.textContent = open ? _("Hide the data table") : _("Show the data as a table");
        markScrollable(wrap.parentNode);
      });
      var bar = document.createElement("p");
      bar.className = "chart-table-bar";
      bar.appendChild(button);
      node.parentNode.insertBefore(wrap, node.nextSibling);
      node.parentNode.insertBefore(bar, wrap);
    });
  }

  /* ---- The phone menu: a disclosure that gives the focus back ------------------------------ */
  function setupMenu() {
    var toggle = document.querySelector(".menu-toggle[href='#sidebar']");
    var sidebar = document.getElementById("sidebar");
    if (!toggle || !sidebar) return;
    var phone = window.matchMedia("(max-width: 760px)");
    toggle.setAttribute("role", "button");
    toggle.setAttribute("aria-controls", "sidebar");
    toggle.setAttribute("aria-expanded", "false");
    function isOpen() { return sidebar.classList.contains("sidebar--open"); }
    function sync() {
      var hidden = phone.matches && !isOpen();
      sidebar.classList.toggle("sidebar--closed", hidden);  // visibility: hidden (utilities.css)
      toggle.setAttribute("aria-expanded", isOpen() ? "true" : "false");
    }
    function open() {
      sidebar.classList.add("sidebar--open", "sidebar--animate");  // closing slides out
      sync();
      var first = sidebar.querySelector("a[href], button, summary");
      if (first) first.focus();
    }
    function close(giveFocusBack) {
      if (!isOpen()) return;
      sidebar.classList.remove("sidebar--open");
      sync();
      if (giveFocusBack) toggle.focus();
    }
    if (location.hash === "#sidebar") history.replaceState(null, "", location.pathname + location.search);
    toggle.addEventListener("click", function (event) {
      event.preventDefault();
      if (isOpen()) close(true); else open();
    });
    toggle.addEventListener("keydown", function (event) {
      if (event.key === " ") { event.preventDefault(); toggle.click(); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && isOpen()) { event.preventDefault(); close(true); }
    });
    document.addEventListener("click", function (event) {
      if (isOpen() && !sidebar.contains(event.target) && !toggle.contains(event.target)) close(false);
    });
    document.addEventListener("focusin", function (event) {  // no trap: Tab out of it closes it
      if (isOpen() && !sidebar.contains(event.target) && !toggle.contains(event.target)) close(false);
    });
    if (phone.addEventListener) phone.addEventListener("change", sync);
    sync();
  }

  /* ---- The strategy map: the ARIA tree pattern --------------------------------------------- */
  // Each <li> of the tree is presentational; its tree item is the element that shows its line:
  // the <summary> of a branch (so the item's name is its own text, not its children's, and
  // aria-expanded follows the <details>), the .tree-leaf of a leaf, or the <li> itself for
  // a KPI or initiative line. The lists are groups. One tab stop (roving tabindex): the
  // item's own links leave the tab order and Enter follows the item's link ("Open").
  function itemOf(li) {
    var d = li.querySelector(":scope > details");
    return (d && d.querySelector(":scope > summary")) || li.querySelector(":scope > .tree-leaf") || li;
  }
  function detailsOf(item) {
    return item.tagName === "SUMMARY" ? item.parentElement : null;
  }
  function enhanceTree(list, level) {
    if (!list.hasAttribute("role")) list.setAttribute("role", level === 1 ? "tree" : "group");
    if (level === 1 && !list.hasAttribute("aria-label")) list.setAttribute("aria-label", _("Strategy map"));
    Array.prototype.forEach.call(list.children, function (li) {
      if (li.tagName !== "LI") return;
      var item = itemOf(li);
      if (item !== li) li.setAttribute("role", "none");
      item.setAttribute("role", "treeitem");
      item.setAttribute("aria-level", String(level));
      if (!item.dataset.treeStop) item.setAttribute("tabindex", "-1");
      li.querySelectorAll(":scope > .tree-open").forEach(function (open) {
        open.setAttribute("tabindex", "-1");
        open.setAttribute("aria-hidden", "true");  // Enter on the item follows it
      });
      item.querySelectorAll("a").forEach(function (a) { a.setAttribute("tabindex", "-1"); });
      var details = detailsOf(item);
      if (details) {
        item.setAttribute("aria-expanded", details.open ? "true" : "false");
        if (!details.dataset.treeWatched) {
          details.dataset.treeWatched = "1";
          details.addEventListener("toggle", function () {
            item.setAttribute("aria-expanded", details.open ? "true" : "false");
          });
        }
      }
      li.querySelectorAll(":scope > ul.tree, :scope > details > ul.tree").forEach(function (group) {
        enhanceTree(group, level + 1);
      });
    });
  }

  function visibleItems(tree) {
    return Array.prototype.filter.call(tree.querySelectorAll("[role=treeitem]"), function (item) {
      var d = item.closest("li").parentElement.closest("details");
      while (d && tree.contains(d)) {
        if (!d.open) return false;
        d = d.parentElement.closest("details");
      }
      return true;
    });
  }

  function parentItem(item) {
    var li = item.closest("li").parentElement.closest("li");
    return li ? itemOf(li) : null;
  }

  function setupTrees(root) {
    (root || document).querySelectorAll("ul.tree-root").forEach(function (tree) {
      enhanceTree(tree, 1);
      if (!tree.querySelector("[role=treeitem][tabindex='0']")) {
        var first = tree.querySelector("[role=treeitem]");
        if (first) { first.setAttribute("tabindex", "0"); first.dataset.treeStop = "1"; }
      }
      if (tree.dataset.treeKeys) return;
      tree.dataset.treeKeys = "1";
      tree.addEventListener("focusin", function (event) {
        var item = event.target;
        if (!item.matches || !item.matches("[role=treeitem]")) return;
        tree.querySelectorAll("[role=treeitem][tabindex='0']").forEach(function (other) {
          if (other !== item) { other.setAttribute("tabindex", "-1"); delete other.dataset.treeStop; }
        });
        item.setAttribute("tabindex", "0");
        item.dataset.treeStop = "1";
      });
      tree.addEventListener("keydown", function (event) {
        var item = event.target;
        if (!item.matches || !item.matches("[role=treeitem]") || event.altKey || event.ctrlKey || event.metaKey) return;
        var items = visibleItems(tree), i = items.indexOf(item), details = detailsOf(item);
        var li = item.closest("li"), move = null;
        function setOpen(value) {  // aria-expanded at once (the toggle event comes later)
          details.open = value;
          item.setAttribute("aria-expanded", value ? "true" : "false");
        }
        switch (event.key) {
          case "ArrowDown": move = items[i + 1]; break;
          case "ArrowUp": move = items[i - 1]; break;
          case "Home": move = items[0]; break;
          case "End": move = items[items.length - 1]; break;
          case "ArrowRight":
            if (details && !details.open) setOpen(true);
            else if (items[i + 1] && li.contains(items[i + 1])) move = items[i + 1];
            break;
          case "ArrowLeft":
            if (details && details.open) setOpen(false);
            else move = parentItem(item);
            break;
          case " ":
            if (details) setOpen(!details.open);
            break;
          case "Enter":
            var link = li.querySelector(":scope > .tree-open") || item.querySelector("a[href]");
            if (link) link.click(); else if (details) setOpen(!details.open);
            break;
          default: return;
        }
        event.preventDefault();
        if (move) move.focus();
      });
    });
  }

  /* ---- htmx swaps: the focus stays where it was, and the result is announced -------------- */
  // A swap that replaces the focused control (a check-in row, a comment thread) would drop the
  // focus to <body>: it goes to the same control in the new markup (by id, else name, else text),
  // else to the new content itself. A swap whose response brings no message of its own (no toast,
  // no role=alert error) says what it did in the live region: the element's data-announce, or
  // "Branch loaded." for the strategy map, "Results updated." for a filter (GET form).
  var lastToast = 0, focusMemo = null;
  document.addEventListener("toast", function () { lastToast = Date.now(); });
  document.addEventListener("htmx:responseError", function () { lastToast = Date.now(); });
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target, active = document.activeElement;
    focusMemo = null;
    if (target && active && active !== document.body && target.contains(active)) {
      focusMemo = { targetId: target.id, id: active.id, name: active.getAttribute("name"),
                    tag: active.tagName, text: (active.textContent || "").trim() };
    }
  });
  function restoreFocus() {
    var memo = focusMemo;
    focusMemo = null;
    if (!memo || (document.activeElement && document.activeElement !== document.body)) return;
    var root = (memo.targetId && document.getElementById(memo.targetId)) || document;
    var el = (memo.id && document.getElementById(memo.id)) ||
      (memo.name && root.querySelector(memo.tag.toLowerCase() + "[name='" + memo.name + "']"));
    if (!el && memo.text) {
      el = Array.prototype.find.call(root.querySelectorAll(memo.tag.toLowerCase()), function (c) {
        return c.textContent.trim() === memo.text;
      });
    }
    if (!el && root !== document) {
      el = root;
      if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
    }
    if (el && el.focus) el.focus();
  }
  function announce(text) {
    var toast = document.getElementById("toast");
    if (toast && text) toast.textContent = text;
  }
  // What a request will announce is read when it starts: by the time it ends, a swap may have
  // taken its element out of the page (htmx then reports the end from an ancestor).
  var pendingAnnounce = window.WeakMap ? new WeakMap() : null;
  function getMethod(form) { return (form && (form.getAttribute("method") || "get") || "").toLowerCase(); }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt, xhr = evt.detail.xhr;
    if (!pendingAnnounce || !elt || !xhr) return;
    var holder = elt.closest ? elt.closest("[data-announce]") : null;
    var text = holder ? holder.getAttribute("data-announce") : null;
    if (!text && elt.tagName === "DETAILS") text = _("Branch loaded.");
    if (!text && ((elt.tagName === "FORM" && getMethod(elt) === "get") ||
                  (elt.form && getMethod(elt.form) === "get"))) text = _("Results updated.");
    if (text) pendingAnnounce.set(xhr, { text: text, started: Date.now() });
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var xhr = evt.detail.xhr, item = pendingAnnounce && xhr && pendingAnnounce.get(xhr);
    if (!item) return;
    pendingAnnounce.delete(xhr);
    if (!evt.detail.successful) return;
    window.setTimeout(function () {
      if (lastToast >= item.started) return;  // the server's own message was announced
      if (document.querySelector("[role=alert]:not(:empty)")) return;  // an error announces itself
      announce(item.text);
    }, 250);
  });

  document.addEventListener("DOMContentLoaded", function () {
    markScrollable(document);
    addChartTables(document);
    setupMenu();
    setupTrees(document);
  });
  document.addEventListener("htmx:afterSettle", function (evt) {
    later();
    addChartTables(evt.target);
    setupTrees(document);
    restoreFocus();
  });
  window.addEventListener("resize", later);
})();
