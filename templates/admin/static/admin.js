// crmgen admin: the little behaviour htmx does not cover. Confirmation of deletes, "select all", the
// phone's top bar (menu, search and user buttons), the relation picker (choose from the type-ahead list,
// keyboard included) and kanban moves (drag and drop, or the arrow keys on a focused card). No inline
// handlers: the page's CSP allows only this file.
(function () {
  'use strict';

  // Forms with data-confirm ask before they submit; a submit button's own data-confirm (empty: no
  // question) overrides its form's, so the list's bulk bar does not ask the delete question.
  document.addEventListener('submit', function (ev) {
    var src = ev.submitter && ev.submitter.hasAttribute('data-confirm') ? ev.submitter : ev.target;
    var msg = src.getAttribute && src.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) ev.preventDefault();
  }, true);

  // The list's filter button (shown on phones) unfolds and folds the filters.
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest && ev.target.closest('#filter-toggle');
    if (!b) return;
    var open = b.closest('form').classList.toggle('open');
    b.setAttribute('aria-expanded', open ? 'true' : 'false');
  });

  // The phone's top bar: the menu, search and user buttons (.top-toggle) each open the panel they control
  // (aria-controls) and close the others; Escape, or a click or focus elsewhere, closes it again.
  function topToggles() { return Array.prototype.slice.call(document.querySelectorAll('.top-toggle[aria-controls]')); }
  function panelOf(btn) { return document.getElementById(btn.getAttribute('aria-controls')); }
  function isOpen(btn) { return btn.getAttribute('aria-expanded') === 'true'; }
  function setOpen(btn, open) {
    var panel = panelOf(btn);
    if (!panel) return;
    topToggles().forEach(function (b) { if (b !== btn && open && isOpen(b)) setOpen(b, false); });
    panel.classList.toggle('open', open);
    btn.setAttribute('aria-expanded', open ? 'true' : 'false');
    var backdrop = document.getElementById('nav-backdrop');
    if (backdrop && panel.id === 'side-nav') backdrop.hidden = !open;
    if (!open) return;
    // The search box takes the cursor; the navigation, a drawer far from its button in the page's order,
    // gives it to its current link. The user menu follows its button: Tab goes on into it.
    var first = panel.querySelector('input[type=search]') ||
      (panel.id === 'side-nav' && (panel.querySelector('[aria-current=page]') || panel.querySelector('a')));
    if (first) first.focus();
  }
  function openToggle() { return topToggles().filter(isOpen)[0]; }
  document.addEventListener('click', function (ev) {
    var btn = ev.target.closest && ev.target.closest('.top-toggle[aria-controls]');
    if (btn) { setOpen(btn, !isOpen(btn)); return; }
    var open = openToggle();
    if (open && !panelOf(open).contains(ev.target)) setOpen(open, false);
  });
  document.addEventListener('focusin', function (ev) {
    var open = openToggle();
    if (open && ev.target !== open && !panelOf(open).contains(ev.target)) setOpen(open, false);
  });

  document.addEventListener('change', function (ev) {
    var t = ev.target;
    if (t.matches && t.matches('[data-select-all]')) {
      var form = t.closest('form');
      form.querySelectorAll('input[type=checkbox][name=id]').forEach(function (c) { c.checked = t.checked; });
    }
  });

  // Relation picker: a hidden input with the id, a text box whose typing asks the server (htmx) for
  // matching records, and a list of them to choose from.
  function pickerOf(el) { return el.closest && el.closest('[data-picker]'); }
  function closeList(p) {
    var list = p.querySelector('.options');
    list.innerHTML = '';
    p.querySelector('[role=combobox]').setAttribute('aria-expanded', 'false');
  }
  function choose(p, btn) {
    p.querySelector('input[type=hidden]').value = btn.getAttribute('data-id');
    var box = p.querySelector('[role=combobox]');
    box.value = btn.getAttribute('data-label');
    box.setAttribute('data-chosen', box.value);
    closeList(p);
    box.focus();
  }
  document.addEventListener('click', function (ev) {
    var btn = ev.target.closest && ev.target.closest('[data-picker] .options button');
    if (btn) { ev.preventDefault(); choose(pickerOf(btn), btn); }
  });
  document.addEventListener('input', function (ev) {
    var p = pickerOf(ev.target);
    if (p && ev.target.getAttribute('role') === 'combobox') {
      // Typing over a chosen record unchooses it; an empty box clears the relation.
      if (ev.target.value !== ev.target.getAttribute('data-chosen')) p.querySelector('input[type=hidden]').value = '';
    }
  });
  document.addEventListener('keydown', function (ev) {
    // Ctrl+K (⌘K) goes to the header's search box, from anywhere.
    if ((ev.ctrlKey || ev.metaKey) && (ev.key === 'k' || ev.key === 'K')) {
      var box = document.getElementById('global-q');
      if (box) {
        ev.preventDefault();
        var opener = document.getElementById('search-toggle');
        if (!box.offsetWidth && opener) setOpen(opener, true); // a phone: the box is behind its button
        box.focus(); box.select(); return;
      }
    }
    var open = ev.key === 'Escape' && openToggle();
    if (open) { ev.preventDefault(); setOpen(open, false); open.focus(); return; }
    // While the navigation drawer covers the page, Tab cycles through its button and its links only.
    var menu = document.getElementById('nav-toggle');
    if (ev.key === 'Tab' && menu && isOpen(menu)) {
      var ring = [menu].concat(Array.prototype.slice.call(panelOf(menu).querySelectorAll('a[href]')));
      var at = ring.indexOf(document.activeElement);
      ev.preventDefault();
      ring[(at + (ev.shiftKey ? -1 : 1) + ring.length) % ring.length].focus();
      return;
    }
    var p = pickerOf(ev.target);
    if (p) {
      var buttons = Array.prototype.slice.call(p.querySelectorAll('.options button'));
      var i = buttons.indexOf(ev.target);
      if (ev.key === 'ArrowDown' && buttons.length) { ev.preventDefault(); buttons[Math.min(i + 1, buttons.length - 1)].focus(); }
      else if (ev.key === 'ArrowUp' && i >= 0) { ev.preventDefault(); if (i === 0) p.querySelector('[role=combobox]').focus(); else buttons[i - 1].focus(); }
      else if (ev.key === 'Escape') { closeList(p); p.querySelector('[role=combobox]').focus(); }
      else if (ev.key === 'Enter' && ev.target.getAttribute('role') === 'combobox') {
        ev.preventDefault(); // Enter in the box chooses the only match rather than submitting
        if (buttons.length === 1) choose(p, buttons[0]);
      }
      return;
    }
    var card = ev.target.closest && ev.target.closest('.kcard');
    if (card && (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft')) {
      var cols = Array.prototype.slice.call(document.querySelectorAll('.kanban .column'));
      var at = cols.indexOf(card.closest('.column'));
      for (var j = at + (ev.key === 'ArrowRight' ? 1 : -1); j >= 0 && j < cols.length; j += (ev.key === 'ArrowRight' ? 1 : -1)) {
        if (allowed(card, cols[j].getAttribute('data-column'))) { ev.preventDefault(); move(card, cols[j]); break; }
      }
    }
  });
  // A list's results that failed to load are hidden behind a message rather than left looking like the
  // answer to the new search; the next load that succeeds shows them again.
  function listFailed(ev) {
    var t = ev.detail && ev.detail.target;
    var msg = document.getElementById('list-error');
    if (!msg || !t || t.id !== 'results') return;
    msg.textContent = msg.getAttribute('data-message');
    msg.hidden = false;
    t.hidden = true;
  }
  document.addEventListener('htmx:responseError', listFailed);
  document.addEventListener('htmx:sendError', listFailed);
  document.addEventListener('htmx:afterSwap', function (ev) {
    var msg = document.getElementById('list-error');
    if (msg && ev.detail.target && ev.detail.target.id === 'results') msg.hidden = true;
    var p = pickerOf(ev.detail.target);
    if (p) p.querySelector('[role=combobox]').setAttribute('aria-expanded', 'true');
  });
  document.addEventListener('focusout', function (ev) {
    var p = pickerOf(ev.target);
    if (p && !(ev.relatedTarget && p.contains(ev.relatedTarget))) {
      setTimeout(function () { if (!p.contains(document.activeElement)) closeList(p); }, 150);
    }
  });

  // Kanban: a card lists in data-moves the columns it may go to (a trailing "!" asks for a comment).
  var dragged = null;
  function allowed(card, key) {
    var moves = (card.getAttribute('data-moves') || '').split(' ');
    if (moves.indexOf(key) >= 0) return 'plain';
    if (moves.indexOf(key + '!') >= 0) return 'comment';
    return '';
  }
  function showError(msg) {
    var el = document.getElementById('kanban-error');
    if (!el) return;
    el.textContent = msg;
    el.hidden = !msg;
  }
  function askComment() {
    var dlg = document.getElementById('move-comment');
    return new Promise(function (resolve) {
      var text = document.getElementById('move-comment-text');
      text.value = '';
      dlg.addEventListener('close', function onClose() {
        dlg.removeEventListener('close', onClose);
        resolve(dlg.returnValue === 'ok' && text.value.trim() ? text.value : null);
      });
      dlg.showModal();
    });
  }
  function move(card, column) {
    var key = column.getAttribute('data-column');
    var kind = allowed(card, key);
    if (!kind) { showError(document.querySelector('.kanban').getAttribute('data-refused')); return; }
    var go = kind === 'comment' ? askComment() : Promise.resolve('');
    go.then(function (comment) {
      if (comment === null) return;
      var body = new URLSearchParams({ to: key, comment: comment });
      var url = document.querySelector('.kanban').getAttribute('data-move-url') + '/' + encodeURIComponent(card.getAttribute('data-id')) + '/move';
      return fetch(url, { method: 'POST', body: body, credentials: 'same-origin', headers: { 'Accept': 'application/json' } }).then(function (resp) {
        return resp.json();
      }).then(function (res) {
        if (res.ok) {
          var from = card.closest('.column');
          column.querySelector('.cards-list').prepend(card);
          bump(from, -1); bump(column, 1);
          card.setAttribute('data-moves', ''); // its next moves depend on the new state: reload to see them
          card.setAttribute('draggable', 'false');
          var menu = card.querySelector('.kmove');
          if (menu) menu.remove();
          card.classList.add('moved');
          showError('');
          card.focus();
          return;
        }
        showError(res.error);
      });
    }).catch(function (e) { showError(String(e)); });
  }
  function bump(column, d) {
    var c = column.querySelector('h2 .count');
    if (c) c.textContent = String(parseInt(c.textContent, 10) + d);
  }
  document.addEventListener('dragstart', function (ev) {
    var card = ev.target.closest && ev.target.closest('.kcard');
    if (!card) return;
    dragged = card;
    if (ev.dataTransfer) { ev.dataTransfer.effectAllowed = 'move'; ev.dataTransfer.setData('text/plain', card.getAttribute('data-id')); }
    document.querySelectorAll('.kanban .column').forEach(function (col) {
      if (allowed(card, col.getAttribute('data-column'))) col.classList.add('can-drop');
    });
  });
  document.addEventListener('dragend', function () {
    dragged = null;
    document.querySelectorAll('.kanban .column').forEach(function (col) { col.classList.remove('can-drop', 'over'); });
  });
  document.addEventListener('dragover', function (ev) {
    var col = ev.target.closest && ev.target.closest('.kanban .column');
    if (col && dragged && allowed(dragged, col.getAttribute('data-column'))) {
      ev.preventDefault(); // only an allowed column accepts the drop
      col.classList.add('over');
    }
  });
  document.addEventListener('dragleave', function (ev) {
    var col = ev.target.closest && ev.target.closest('.kanban .column');
    if (col) col.classList.remove('over');
  });
  document.addEventListener('drop', function (ev) {
    var col = ev.target.closest && ev.target.closest('.kanban .column');
    if (!col || !dragged) return;
    ev.preventDefault();
    var card = dragged;
    dragged = null;
    if (card.closest('.column') !== col) move(card, col);
  });

  // A card's "move to" menu (phones, and anyone who would rather not drag): the same move as a drop.
  document.addEventListener('click', function (ev) {
    var btn = ev.target.closest && ev.target.closest('.kmove button[data-to]');
    if (!btn) return;
    var card = btn.closest('.kcard');
    var col = document.querySelector('.kanban .column[data-column="' + btn.getAttribute('data-to') + '"]');
    btn.closest('details').open = false;
    if (card && col) move(card, col);
  });

  // Report tables sort by a column when its header's button is pressed: numbers as numbers, the rest in
  // the page's language; pressing again reverses. The rows are the server's; only their order changes.
  document.addEventListener('click', function (ev) {
    var btn = ev.target.closest && ev.target.closest('table.report-table th button.sort');
    if (!btn) return;
    var th = btn.closest('th'), table = th.closest('table'), tbody = table.tBodies[0];
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    table.querySelectorAll('thead th').forEach(function (h) { h.setAttribute('aria-sort', 'none'); });
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(tbody.rows);
    var text = function (r) { return (r.cells[col] && r.cells[col].textContent.trim()) || ''; };
    var numeric = rows.every(function (r) { var t = text(r); return t === '—' || t === '' || !isNaN(Number(t)); });
    var lang = document.documentElement.lang || undefined;
    rows.sort(function (a, b) {
      var x = text(a), y = text(b);
      if (numeric) return dir * ((Number(x === '—' ? -Infinity : x) || 0) - (Number(y === '—' ? -Infinity : y) || 0));
      return dir * x.localeCompare(y, lang);
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  });
})();
