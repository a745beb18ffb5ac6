/* @mention autocomplete for comment boxes: any <textarea data-mentions-url="…">.
   Typing "@" and a few letters lists the organisation's members (GET ?q=, JSON); a click, Enter
   or Tab inserts "@Full Name ". Event delegation, so threads loaded by htmx work too. */
(function () {
  "use strict";
  if (window.headwayMentions) return;
  window.headwayMentions = true;

  var list = null, active = null, items = [], selected = 0, timer = null, seq = 0;

  function query(textarea) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var m = /(^|[^\w.@-])@([^\s@]{0,30}(?: [^\s@]{0,30})?)$/.exec(before);
    return m ? { q: m[2], start: before.length - m[2].length - 1 } : null;
  }

  function close() {
    if (list) list.remove();
    list = null; items = []; active = null;
  }

  function choose(index) {
    if (!active || !items[index]) return;
    var ta = active.textarea, at = active.start, caret = ta.selectionStart;
    var text = "@" + items[index].name + " ";
    ta.value = ta.value.slice(0, at) + text + ta.value.slice(caret);
    var pos = at + text.length;
    ta.setSelectionRange(pos, pos);
    close();
    ta.focus();
  }

  function render(textarea, start, members) {
    close();
    if (!members.length) return;
    items = members; selected = 0; active = { textarea: textarea, start: start };
    list = document.createElement("ul");
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.id = textarea.id + "-mentions";
    members.forEach(function (m, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === 0 ? "true" : "false");
      li.textContent = m.name;
      li.addEventListener("mousedown", function (evt) { evt.preventDefault(); choose(i); });
      list.appendChild(li);
    });
    textarea.insertAdjacentElement("afterend", list);
    textarea.setAttribute("aria-controls", list.id);
  }

  function mark() {
    if (!list) return;
    Array.prototype.forEach.call(list.children, function (li, i) {
      li.setAttribute("aria-selected", i === selected ? "true" : "false");
    });
  }

  document.addEventListener("input", function (evt) {
    var ta = evt.target;
    if (!(ta instanceof HTMLTextAreaElement) || !ta.dataset.mentionsUrl) return;
    var found = query(ta);
    if (!found) { close(); return; }
    clearTimeout(timer);
    timer = setTimeout(function () {
      var mine = ++seq;
      fetch(ta.dataset.mentionsUrl + "?q=" + encodeURIComponent(found.q),
            { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { members: [] }; })
        .then(function (data) { if (mine === seq) render(ta, found.start, data.members || []); })
        .catch(function () { close(); });
    }, 120);
  });

  document.addEventListener("keydown", function (evt) {
    if (!list || !active || evt.target !== active.textarea) return;
    if (evt.key === "ArrowDown") { selected = (selected + 1) % items.length; mark(); evt.preventDefault(); }
    else if (evt.key === "ArrowUp") { selected = (selected - 1 + items.length) % items.length; mark(); evt.preventDefault(); }
    else if (evt.key === "Enter" || evt.key === "Tab") { choose(selected); evt.preventDefault(); }
    else if (evt.key === "Escape") { close(); }
  });

  document.addEventListener("focusout", function (evt) {
    if (active && evt.target === active.textarea) setTimeout(close, 150);
  });
})();
