// The guise web administration page: polls the admin API every 2 s and
// renders server state, plug-ins, publishing points, clients and the
// troubleshooting list; buttons call the API's actions. Plain DOM, no
// innerHTML with server data (every value is set as text).
'use strict';

const POLL_MS = 2000;

async function api(method, path, body) {
  const opts = { method, headers: { 'X-Guise-Admin': '1' }, cache: 'no-store' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = data.error || {};
    throw new Error(`${r.status} ${e.code || ''}: ${e.message || r.statusText}`);
  }
  return data;
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function button(label, onClick, attrs) {
  const b = el('button', label);
  b.type = 'button';
  for (const [k, v] of Object.entries(attrs || {})) b.setAttribute(k, v);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await onClick();
      setStatus('done: ' + label);
    } catch (e) {
      setStatus(String(e.message || e), true);
    } finally {
      b.disabled = false;
      refresh();
    }
  });
  return b;
}

function row(tbody, cells) {
  const tr = el('tr');
  for (const c of cells) {
    const td = el('td');
    if (c instanceof Node) td.appendChild(c);
    else if (c !== undefined && c !== null) td.textContent = String(c);
    tr.appendChild(td);
  }
  tbody.appendChild(tr);
  return tr;
}

function setStatus(text, error) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = error ? 'error' : '';
}

function renderServer(s) {
  const dl = document.getElementById('server');
  dl.replaceChildren();
  const items = [
    ['Version', s.version],
    ['Uptime', `${s.uptime_seconds} s`],
    ['Configuration', s.config_file],
    ['Impersonation', s.impersonation],
    ['Critical-error state', s.critical ? 'yes: ' + s.critical_scopes.join(', ') : 'no'],
    ['Server authentication', s.scope.authentication.join(', ')],
    ['Server authorization', s.scope.authorization.join(', ')],
    ['Open connections', s.counters.open_connections],
    ['Bytes sent', s.counters.bytes_sent],
    ['Requests', Object.entries(s.counters.requests).map(([k, v]) => `${k}: ${v}`).join(', ') || '0'],
  ];
  for (const [k, v] of items) {
    dl.appendChild(el('dt', k));
    dl.appendChild(el('dd', v, k === 'Critical-error state' && s.critical ? 'state-critical' : ''));
  }
  if (s.critical) {
    const dd = el('dd');
    dd.appendChild(button('Re-enable server scope', () => api('POST', '/api/server/reenable')));
    dl.appendChild(el('dt', ''));
    dl.appendChild(dd);
  }
}

// Moves a plug-in one place up in the server scope's authentication list.
async function moveUp(server, name) {
  const order = server.scope.authentication.slice();
  const i = order.indexOf(name);
  if (i <= 0) return;
  [order[i - 1], order[i]] = [order[i], order[i - 1]];
  await api('PUT', '/api/server/authentication', { order });
}

// Asks for KEY=VALUE; the server re-initialises the plug-in (a reload).
async function setProperty(name) {
  const answer = window.prompt(`Set a property of ${name} (KEY=VALUE):`);
  if (!answer) return;
  const eq = answer.indexOf('=');
  if (eq <= 0) throw new Error('expected KEY=VALUE');
  const key = answer.slice(0, eq).trim();
  await api('PUT', `/api/plugins/${encodeURIComponent(name)}/properties/${encodeURIComponent(key)}`,
    { value: answer.slice(eq + 1).trim() });
}

function renderPlugins(list, server) {
  const tbody = document.querySelector('#plugins tbody');
  tbody.replaceChildren();
  for (const p of list) {
    const actions = el('span');
    if (p.state === 'enabled') {
      actions.appendChild(button('Disable', () => api('POST', `/api/plugins/${encodeURIComponent(p.name)}/disable`),
        { 'data-action': 'disable', 'data-plugin': p.name }));
    } else {
      actions.appendChild(button('Enable', () => api('POST', `/api/plugins/${encodeURIComponent(p.name)}/enable`),
        { 'data-action': 'enable', 'data-plugin': p.name }));
    }
    const pos = server.scope.authentication.indexOf(p.name);
    if (pos > 0) {
      actions.appendChild(document.createTextNode(' '));
      actions.appendChild(button('Move up', () => moveUp(server, p.name),
        { 'data-action': 'up', 'data-plugin': p.name }));
    }
    if (!p.name.includes('@')) {
      actions.appendChild(document.createTextNode(' '));
      actions.appendChild(button('Set property…', () => setProperty(p.name),
        { 'data-action': 'set', 'data-plugin': p.name }));
    }
    const order = p.order.map((o) => `${o.scope}#${o.position}`).join(', ');
    const props = Object.entries(p.properties)
      .map(([k, v]) => `${k} = ${Array.isArray(v) ? v.join(', ') : v}`).join('\n');
    const tr = row(tbody, [p.name, p.kind, p.protocol || '', el('span', p.state, 'state-' + p.state), order,
      el('pre', props, 'props'), p.last_error ? `${p.last_error.name}: ${p.last_error.message}` : '', actions]);
    tr.dataset.plugin = p.name;
  }
}

function renderPoints(list) {
  const tbody = document.querySelector('#points tbody');
  tbody.replaceChildren();
  for (const p of list) {
    const req = Object.entries(p.counters.requests).map(([k, v]) => `${k}: ${v}`).join(', ');
    const act = p.state === 'critical'
      ? button('Re-enable', () => api('POST', `/api/points/${encodeURIComponent(p.name)}/reenable`))
      : '';
    row(tbody, [p.name, p.path, p.authentication.join(', '), p.authorization.join(', '),
      el('span', p.state, 'state-' + p.state), req, act]);
  }
}

function renderClients(list) {
  const tbody = document.querySelector('#clients tbody');
  tbody.replaceChildren();
  for (const c of list) {
    row(tbody, [c.id, c.address, c.user || '', c.account || '', c.point || '', c.bytes, c.since,
      button('Disconnect', () => api('DELETE', `/api/clients/${c.id}`))]);
  }
}

function renderDiagnostics(list) {
  const tbody = document.querySelector('#diagnostics tbody');
  tbody.replaceChildren();
  for (const d of list) {
    row(tbody, [d.time, el('span', d.level, 'level-' + d.level), d.source,
      `${d.result.name} (${d.result.code})`, d.message]);
  }
}

let busy = false;
async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const [server, plugins, points, clients, diags] = await Promise.all([
      api('GET', '/api/server'), api('GET', '/api/plugins'), api('GET', '/api/points'),
      api('GET', '/api/clients'), api('GET', '/api/diagnostics'),
    ]);
    renderServer(server);
    renderPlugins(plugins.plugins, server);
    renderPoints(points.points);
    renderClients(clients.clients);
    renderDiagnostics(diags.diagnostics);
    if (document.getElementById('status').className !== 'error')
      setStatus(`updated ${new Date().toLocaleTimeString()}`);
    document.body.dataset.loaded = '1';
  } catch (e) {
    setStatus('cannot reach the server: ' + (e.message || e), true);
  } finally {
    busy = false;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('reload').addEventListener('click', async () => {
    try {
      await api('POST', '/api/reload');
      setStatus('configuration reloaded');
    } catch (e) {
      setStatus(String(e.message || e), true);
    }
    refresh();
  });
  document.getElementById('clear-diagnostics').addEventListener('click', async () => {
    try {
      await api('DELETE', '/api/diagnostics');
    } catch (e) {
      setStatus(String(e.message || e), true);
    }
    refresh();
  });
  refresh();
  setInterval(refresh, POLL_MS);
});
