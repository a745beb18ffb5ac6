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

  // A comment that cannot be posted says why in the form, the typed text kept:
  // - 422 (too long, empty): the thread view's answer is the thread with the form's message:
  //   htmx swaps only 2xx by default, so it is told to swap this one;
  // - 400 (a NUL byte or other unstorable text, refused by core's middleware before any view):
  //   its page's reasons go into the form's error list and nothing is swapped.
  var _ = window.gettext || function (text) { return text; };

  function showError(form, messages) {
    var ta = form.querySelector("textarea");
    var id = (ta ? ta.id : "comment") + "-error";
    var ul = form.querySelector("ul.errorlist");
    if (!ul) {
      ul = document.createElement("ul");
      ul.className = "errorlist";
      ul.setAttribute("role", "alert");
      if (ta) ta.insertAdjacentElement("afterend", ul); else form.prepend(ul);
    }
    ul.id = ul.id || id;
    ul.textContent = "";
    messages.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      ul.appendChild(li);
    });
    if (ta) {
      ta.setAttribute("aria-invalid", "true");
      ta.setAttribute("aria-describedby", ul.id);
      ta.focus();
    }
  }

  document.addEventListener("htmx:beforeSwap", function (evt) {
    var elt = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    var form = elt && elt.closest ? elt.closest("form.comment-form") : null;
    if (!form) return;
    var status = evt.detail.xhr.status;
    if (status === 422) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    } else if (status === 400 || status === 413) {
      evt.detail.shouldSwap = false;
      evt.detail.isError = false;
      var doc = new DOMParser().parseFromString(evt.detail.xhr.responseText || "", "text/html");
      var found = Array.prototype.map.call(
        doc.querySelectorAll("main .list li, main .errorlist li"),
        function (li) { return li.textContent.trim(); }).filter(Boolean);
      var lead = doc.querySelector("main .empty p");
      if (lead) found.unshift(lead.textContent.trim());
      showError(form, found.length ? found : [_("This comment could not be saved. Nothing was changed.")]);
    }
  });

  document.addEventListener("focusout", function (evt) {
    if (active && evt.target === active.textarea) setTimeout(close, 150);
  });
})();
