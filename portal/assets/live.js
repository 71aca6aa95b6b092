/* global document, window, location, fetch, DOMParser, CustomEvent, WebSocket */
// Live updates: one websocket to /ws/notifications authenticated with the page's session ticket.
// On a notification about a table, a sync or health, the page's <main> is refetched and swapped in
// without a reload; a toast says what happened. Pages work the same without this script.
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="ada-live"]');
  var status = document.getElementById('live-status');
  if (!meta || !window.WebSocket) return;
  var ticket = meta.getAttribute('content');
  var since;
  var retry = 1000;
  var refreshing = false;
  var again = false;

  function toast(n) {
    var box = document.getElementById('toasts');
    if (!box) return;
    var el = document.createElement('div');
    el.className = 'toast ' + (n.level || 'info');
    var strong = document.createElement('strong');
    strong.textContent = n.title || 'Update';
    var text = document.createElement('span');
    text.textContent = n.message || '';
    el.appendChild(strong);
    el.appendChild(text);
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }

  function refresh() {
    if (refreshing) { again = true; return; }
    if (document.querySelector('main form :focus')) return;
    refreshing = true;
    fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (!text) return;
        var doc = new DOMParser().parseFromString(text, 'text/html');
        var next = doc.getElementById('main');
        var cur = document.getElementById('main');
        if (next && cur) {
          // A page's messages (a saved key, a token shown once) are in the answer to its form only: the
          // refetched page has none, so they move over, or a live update would wipe them before they are read.
          var kept = cur.querySelectorAll(':scope > .flash');
          for (var i = kept.length - 1; i >= 0; i--) next.insertBefore(kept[i], next.firstChild);
          cur.replaceWith(next);
        }
        document.dispatchEvent(new CustomEvent('ada:refreshed'));
        watchRunning();
      })
      .catch(function () {})
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  // While a sync runs (admin page), follow its progress.
  var runningTimer;
  function watchRunning() {
    clearTimeout(runningTimer);
    if (document.querySelector('[data-running="true"]')) runningTimer = setTimeout(refresh, 2000);
  }

  function connect() {
    var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/notifications');
    ws.onopen = function () {
      var auth = { type: 'auth', session: ticket };
      if (since !== undefined) auth.since = since;
      ws.send(JSON.stringify(auth));
    };
    ws.onmessage = function (m) {
      var msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (msg.type === 'auth_ok') {
        retry = 1000;
        if (since === undefined) since = msg.position;
        if (status) { status.textContent = '● live'; status.className = 'live-status on'; }
        return;
      }
      if (msg.type !== 'notification') return;
      if (typeof msg.position === 'number') since = msg.position;
      toast(msg);
      refresh();
    };
    ws.onclose = function (e) {
      if (status) { status.textContent = '○ offline'; status.className = 'live-status'; }
      if (e.code === 4001 || e.code === 4003) return;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  watchRunning();
  connect();
})();
