/**
 * The status page: plain HTML and a small script that polls /admin/status (no build step). The
 * admin token is typed once (or passed as #token=... in the address, which never reaches a server
 * log) and kept in the tab's sessionStorage only.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>legacy-sync status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2330; background: #f7f8fa; }
  h1 { font-size: 1.3em; margin: 0 0 .2em; }
  #meta { color: #5a6272; margin-bottom: 1em; }
  table { border-collapse: collapse; background: #fff; box-shadow: 0 1px 2px #0002; }
  th, td { padding: .35em .7em; border-bottom: 1px solid #e3e6ec; text-align: left; vertical-align: top; white-space: nowrap; }
  th { background: #eef1f6; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .enabled { color: #17803d; } .paused { color: #b26a00; font-weight: 600; } .disabled { color: #a1262b; font-weight: 600; }
  .bad { color: #a1262b; font-weight: 600; } .ok { color: #17803d; } .muted { color: #8a91a0; }
  #apps span { margin-right: 1em; }
  #error { color: #a1262b; font-weight: 600; margin: .5em 0; }
  form { margin: 1em 0; }
</style>
</head>
<body>
<h1>legacy-sync status</h1>
<div id="meta">waiting for the first figures&hellip;</div>
<div id="apps"></div>
<div id="error" role="alert"></div>
<form id="login" hidden>
  <label>Admin token <input id="token" type="password" autocomplete="off"></label>
  <button type="submit">Show status</button>
</form>
<table id="entities" hidden>
  <thead><tr>
    <th>entity</th><th>legacy&rarr;new</th><th>new&rarr;legacy</th><th>capture</th><th>capture lag</th><th>backlog</th>
    <th>legacy events</th><th>consumer lag per app</th><th>last change</th><th>dead letters</th><th>last verify</th>
  </tr></thead>
  <tbody></tbody>
</table>
<script>
(function () {
  var REFRESH_MS = Math.max(1000, Number(new URLSearchParams(location.search).get('refresh')) || 5000);
  var fromHash = /[#&]token=([^&]+)/.exec(location.hash);
  if (fromHash) {
    sessionStorage.setItem('legacy-sync-token', decodeURIComponent(fromHash[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  var $ = function (id) { return document.getElementById(id); };
  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }
  function ago(iso) {
    if (!iso) return '-';
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return s < 120 ? s + ' s ago' : s < 7200 ? Math.round(s / 60) + ' min ago' : Math.round(s / 3600) + ' h ago';
  }
  function pairs(obj) {
    var keys = Object.keys(obj || {});
    return keys.length === 0 ? '-' : keys.sort().map(function (k) { return k + ' ' + obj[k]; }).join(', ');
  }
  function cell(row, field, value, cls) {
    var td = text('td', value, cls);
    td.dataset.field = field;
    row.appendChild(td);
  }
  function render(report) {
    $('error').textContent = '';
    $('meta').textContent = 'updated ' + new Date(report.collectedAt).toLocaleTimeString() + ' \\u00b7 refreshes every ' + REFRESH_MS / 1000 + ' s' +
      (report.caughtUp ? '' : ' \\u00b7 still reading the control, offsets, status and dead-letter topics');
    var apps = $('apps');
    apps.textContent = '';
    report.apps.forEach(function (a) {
      var el = text('span', a.app + ': ' + (a.up ? 'up' : 'DOWN (' + a.error + ')'), a.up ? 'ok' : 'bad');
      el.dataset.app = a.app;
      apps.appendChild(el);
    });
    var body = $('entities').querySelector('tbody');
    body.textContent = '';
    report.entities.forEach(function (e) {
      var tr = document.createElement('tr');
      tr.dataset.entity = e.entity;
      cell(tr, 'entity', e.entity);
      cell(tr, 'legacyToNew', e.legacyToNew, e.legacyToNew);
      cell(tr, 'newToLegacy', e.newToLegacy, e.newToLegacy);
      var c = e.capture;
      var phase = c.stopped ? 'STOPPED' : c.phase === 'snapshot' ? 'snapshotting' + (c.snapshotRows === null ? '' : ' (' + c.snapshotRows + ' rows read)') : c.phase;
      cell(tr, 'capture', phase, c.stopped ? 'bad' : '');
      cell(tr, 'captureLag', c.lagSeconds === null ? '-' : c.lagSeconds.toFixed(1) + ' s', 'num');
      cell(tr, 'backlog', c.backlogRows === null ? '-' : String(c.backlogRows), 'num');
      cell(tr, 'legacyEvents', e.legacyEvents === null ? '-' : String(e.legacyEvents), 'num');
      cell(tr, 'consumerLag', pairs(e.consumerLag));
      cell(tr, 'lastChange', ago(e.lastChangeAt));
      var dl = pairs(e.deadLetters);
      cell(tr, 'deadLetters', dl, dl === '-' ? 'muted' : 'bad');
      var v = e.lastVerify;
      cell(tr, 'lastVerify', v === null ? 'never' : (v.agree ? 'agree' : v.differences + ' difference(s)') + ' \\u00b7 ' + ago(v.at), v === null ? 'muted' : v.agree ? 'ok' : 'bad');
      body.appendChild(tr);
    });
    $('entities').hidden = false;
  }
  function poll() {
    var token = sessionStorage.getItem('legacy-sync-token');
    if (!token) { $('login').hidden = false; return; }
    fetch('admin/status', { headers: { authorization: 'Bearer ' + token }, cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401) {
          sessionStorage.removeItem('legacy-sync-token');
          return res.json().then(function (b) { throw new Error('not allowed: ' + (b.message || res.status)); });
        }
        if (!res.ok) throw new Error('status request failed: HTTP ' + res.status);
        return res.json().then(render);
      })
      .catch(function (err) {
        $('error').textContent = err.message;
        if (!sessionStorage.getItem('legacy-sync-token')) $('login').hidden = false;
      })
      .then(function () { if (sessionStorage.getItem('legacy-sync-token')) setTimeout(poll, REFRESH_MS); });
  }
  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionStorage.setItem('legacy-sync-token', $('token').value);
    $('login').hidden = true;
    poll();
  });
  poll();
})();
</script>
</body>
</html>
`;
