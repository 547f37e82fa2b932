/// The page: plain HTML, CSS and JavaScript in the binary (no CDN, no build step; it works offline). Plots are SVG
/// drawn by the page from `/api/runs/{id}`. Every action goes through the JSON endpoints of `buildWebUIApplication`.
enum WebUIPage {
    static func html(chatOnly: Bool) -> String {
        template.replacingOccurrences(of: "__CHAT_ONLY__", with: chatOnly ? "true" : "false")
    }

    static let template = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>swift-tune</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
header{display:flex;gap:1em;align-items:center;background:#1b1f24;color:#fff;padding:.6em 1em}
header h1{font-size:1.1em;margin:0}
nav button{background:none;border:0;color:#ccd;padding:.4em .8em;cursor:pointer;font-size:1em}
nav button.on{color:#fff;border-bottom:2px solid #6cf}
main{padding:1em;max-width:1100px;margin:auto}
section{display:none}section.on{display:block}
.card{background:#fff;border:1px solid #dde;border-radius:6px;padding:1em;margin-bottom:1em}
.form{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:.5em 1em}
.form label{display:flex;flex-direction:column;font-size:.85em}
.form input,.form select{font:inherit;padding:.25em}
.err{color:#b00;font-size:.85em;white-space:pre-wrap}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:.25em .5em;text-align:left}
tr.sel{background:#eef6ff}pre{background:#111;color:#ddd;padding:.5em;max-height:260px;overflow:auto;white-space:pre-wrap}
#messages div{margin:.3em 0;padding:.4em .6em;border-radius:6px;white-space:pre-wrap}
.user{background:#e8f0fe}.assistant{background:#eef8ee}
svg{background:#fff;border:1px solid #eee;margin-right:.5em}
button.main{background:#1f6feb;color:#fff;border:0;border-radius:4px;padding:.4em 1em;cursor:pointer}
</style></head>
<body>
<header><h1>swift-tune</h1><nav id="tabs"></nav><span style="flex:1"></span>
<label style="font-size:.8em">API key <input id="apikey" type="password" size="12"></label></header>
<main>
<section id="tab-train"><div class="card"><label>Command <select id="train-command">
<option>sft</option><option>pt</option><option>rlhf</option></select></label>
<div id="train-form" class="form"></div><p><button class="main" id="train-start">Start</button>
<span class="err" id="train-error"></span></p></div>
<div class="card"><h3>Runs</h3><table id="runs"><thead><tr><th>id</th><th>command</th><th>status</th>
<th>output_dir</th><th></th></tr></thead><tbody></tbody></table>
<div id="run-detail"><p id="run-progress"></p><div id="plots"></div><pre id="run-log"></pre></div></div></section>
<section id="tab-chat"><div class="card"><div class="form">
<label>model<input id="chat-model" placeholder="a model folder, .gguf or hub id"></label>
<label>adapters<input id="chat-adapters" placeholder="checkpoint folder (optional)"></label>
<label>system<input id="chat-system"></label>
<label>temperature<input id="chat-temperature" value="0.7"></label>
<label>max_tokens<input id="chat-max-tokens" value="256"></label></div>
<p><button id="chat-load">Load</button> <span id="chat-status"></span></p>
<div id="messages"></div>
<p><textarea id="chat-input" rows="3" style="width:100%"></textarea></p>
<p><button class="main" id="chat-send">Send</button> <button id="chat-clear">Clear</button>
<span class="err" id="chat-error"></span></p></div></section>
<section id="tab-export"><div class="card"><div id="export-form" class="form"></div>
<p><button class="main" id="export-start">Export</button> <span class="err" id="export-error"></span></p>
<p>The run appears in the Train tab's list of runs.</p></div></section>
<section id="tab-eval"><div class="card"><div id="eval-form" class="form"></div>
<p><button class="main" id="eval-start">Evaluate</button> <span class="err" id="eval-error"></span></p></div>
<div class="card"><h3>Reports <button id="reports-refresh">refresh</button></h3><div id="reports"></div></div></section>
</main>
<script>
const chatOnly = __CHAT_ONLY__;
const $ = id => document.getElementById(id);
const keyInput = $('apikey');
keyInput.value = localStorage.getItem('swift-tune-key') || '';
keyInput.onchange = () => localStorage.setItem('swift-tune-key', keyInput.value);
function headers() {
  const h = {'Content-Type': 'application/json'};
  if (keyInput.value) h['Authorization'] = 'Bearer ' + keyInput.value;
  return h;
}
async function api(path, body) {
  const r = await fetch(path, body === undefined ? {headers: headers()} : {method: 'POST', headers: headers(), body: JSON.stringify(body)});
  const data = await r.json().catch(() => ({}));
  if (!r.ok) { const e = new Error((data.error && data.error.message) || r.statusText); e.param = data.error && data.error.param; throw e; }
  return data;
}
const tabs = chatOnly ? ['chat'] : ['train', 'chat', 'export', 'eval'];
function show(name) {
  for (const t of tabs) { $('tab-' + t).classList.toggle('on', t === name); $('nav-' + t).classList.toggle('on', t === name); }
  location.hash = name;
}
for (const t of tabs) {
  const b = document.createElement('button'); b.id = 'nav-' + t; b.textContent = t[0].toUpperCase() + t.slice(1);
  b.onclick = () => show(t); $('tabs').appendChild(b);
}
show(tabs.includes(location.hash.slice(1)) ? location.hash.slice(1) : tabs[0]);

// Forms generated from the CLI's own flag definitions (GET /api/flags/CMD).
async function buildForm(command, container) {
  const {flags} = await api('/api/flags/' + command);
  container.innerHTML = ''; container.dataset.command = command;
  for (const f of flags) {
    const label = document.createElement('label'); label.title = f.help; label.textContent = f.name;
    let input;
    if (f.choices && f.choices.length) {
      input = document.createElement('select');
      input.appendChild(new Option('', ''));
      for (const c of f.choices) input.appendChild(new Option(c, c));
    } else if (f.is_flag) {
      input = document.createElement('input'); input.type = 'checkbox';
    } else {
      input = document.createElement('input'); input.placeholder = f.default || '';
    }
    input.name = f.name; input.dataset.repeating = f.is_repeating;
    const err = document.createElement('span'); err.className = 'err'; err.dataset.errorFor = f.name;
    label.appendChild(input); label.appendChild(err); container.appendChild(label);
  }
}
function formArgs(container) {
  const args = [];
  for (const input of container.querySelectorAll('input,select')) {
    if (input.type === 'checkbox') { if (input.checked) args.push({name: input.name, values: []}); continue; }
    const v = input.value.trim(); if (!v) continue;
    args.push({name: input.name, values: input.dataset.repeating === 'true' ? v.split(/\s+/) : [v]});
  }
  return args;
}
async function startRun(container, errorSpan) {
  errorSpan.textContent = '';
  for (const e of container.querySelectorAll('.err')) e.textContent = '';
  try {
    const run = await api('/api/runs', {command: container.dataset.command, args: formArgs(container)});
    selected = run.id; refreshRuns(); return run;
  } catch (e) {
    const field = e.param && container.querySelector('[data-error-for="' + e.param + '"]');
    (field || errorSpan).textContent = e.message;
  }
}

// Runs: listed from the server (they are its child processes), so a reload finds them again.
let selected = null;
async function refreshRuns() {
  if (chatOnly) return;
  const {runs} = await api('/api/runs');
  const body = $('runs').querySelector('tbody'); body.innerHTML = '';
  for (const r of runs) {
    const tr = document.createElement('tr'); if (r.id === selected) tr.className = 'sel';
    tr.innerHTML = '<td>' + r.id + '</td><td>' + r.command + '</td><td class="status">' + r.status + '</td><td>' + r.output_dir + '</td>';
    const td = document.createElement('td');
    if (r.status === 'running') { const b = document.createElement('button'); b.textContent = 'Stop';
      b.onclick = ev => { ev.stopPropagation(); api('/api/runs/' + r.id + '/stop', {}).then(refreshRuns); }; td.appendChild(b); }
    tr.appendChild(td); tr.onclick = () => { selected = r.id; refreshRuns(); };
    body.appendChild(tr);
  }
  if (selected === null && runs.length) selected = runs[0].id;
  if (selected !== null) refreshDetail(selected);
}
function plot(points, key, title) {
  const values = points.filter(p => p[key] !== null && p[key] !== undefined);
  const w = 320, h = 160, pad = 30;
  let svg = '<svg width="' + w + '" height="' + h + '" data-series="' + key + '" data-points="' + values.length + '">' +
    '<text x="' + pad + '" y="14" font-size="12">' + title + '</text>';
  if (values.length) {
    const xs = values.map(p => p.step), ys = values.map(p => p[key]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y0 = Math.min(...ys), y1 = Math.max(...ys, y0 + 1e-12);
    const X = x => pad + (x - x0) / (x1 - x0) * (w - 2 * pad), Y = y => h - pad + 10 - (y - y0) / (y1 - y0) * (h - 2 * pad);
    svg += '<polyline fill="none" stroke="#1f6feb" stroke-width="1.5" points="' + values.map(p => X(p.step) + ',' + Y(p[key])).join(' ') + '"/>';
    for (const p of values) svg += '<circle r="2" fill="#1f6feb" cx="' + X(p.step) + '" cy="' + Y(p[key]) + '"/>';
    svg += '<text x="' + pad + '" y="' + (h - 4) + '" font-size="10">step ' + x0 + '…' + x1 + '; ' + y0.toPrecision(4) + '…' + y1.toPrecision(4) + '</text>';
  }
  return svg + '</svg>';
}
async function refreshDetail(id) {
  const d = await api('/api/runs/' + id);
  $('run-log').textContent = d.log;
  const points = d.curve ? d.curve.points : [];
  $('run-progress').textContent = 'run ' + id + ': ' + d.run.status + (d.curve && d.curve.progress ? ', step ' + d.curve.progress : '');
  $('plots').innerHTML = plot(points, 'loss', 'loss') + plot(points, 'learning_rate', 'learning rate') + plot(points, 'grad_norm', 'grad norm');
}

// Chat: the OpenAI route of deploy, streamed.
let history = [];
function render() {
  $('messages').innerHTML = '';
  for (const m of history) { const d = document.createElement('div'); d.className = m.role; d.textContent = m.content; $('messages').appendChild(d); }
}
$('chat-load').onclick = async () => {
  $('chat-status').textContent = 'loading…';
  try { await api('/api/chat/load', {model: $('chat-model').value, adapters: $('chat-adapters').value || null}); }
  catch (e) { $('chat-status').textContent = e.message; return; }
  for (let i = 0; i < 1200; i++) {
    const st = await api('/api/chat/status');
    if (st.status === 'ready') { $('chat-status').textContent = 'ready: ' + st.model; return; }
    if (st.status === 'failed') { $('chat-status').textContent = 'failed: ' + st.error; return; }
    await new Promise(res => setTimeout(res, 500));
  }
};
$('chat-clear').onclick = () => { history = []; render(); };
$('chat-send').onclick = async () => {
  $('chat-error').textContent = '';
  const text = $('chat-input').value; if (!text) return;
  $('chat-input').value = '';
  history.push({role: 'user', content: text});
  const reply = {role: 'assistant', content: ''}; history.push(reply); render();
  const messages = ($('chat-system').value ? [{role: 'system', content: $('chat-system').value}] : [])
    .concat(history.slice(0, -1));
  const models = await fetch('/v1/models', {headers: headers()}).then(r => r.json()).catch(() => ({}));
  const model = models.data && models.data.length ? models.data[models.data.length - 1].id : '';
  const r = await fetch('/v1/chat/completions', {method: 'POST', headers: headers(), body: JSON.stringify({
    model, messages, stream: true, temperature: parseFloat($('chat-temperature').value) || 0,
    max_tokens: parseInt($('chat-max-tokens').value) || 256})});
  if (!r.ok) { const e = await r.json().catch(() => ({})); $('chat-error').textContent = (e.error && e.error.message) || r.statusText; history.pop(); render(); return; }
  const reader = r.body.getReader(), decoder = new TextDecoder(); let buffer = '';
  for (;;) {
    const {value, done} = await reader.read(); if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let i; while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i).trim(); buffer = buffer.slice(i + 1);
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim(); if (data === '[DONE]') continue;
      try { const chunk = JSON.parse(data); const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
        if (delta && delta.content) { reply.content += delta.content; render(); } } catch (e) {}
    }
  }
};

// Eval reports (report.json of each eval run).
async function refreshReports() {
  const dir = (document.querySelector('#eval-form [name="eval_output_dir"]') || {}).value || 'eval_output';
  const {reports} = await api('/api/reports?dir=' + encodeURIComponent(dir));
  $('reports').innerHTML = '';
  for (const r of reports) {
    let html = '<h4>' + r.report.model + ' — ' + r.report.started + '</h4><table><tr><th>dataset</th><th>subset</th><th>metric</th><th>score</th><th>n</th></tr>';
    for (const s of r.report.scores) html += '<tr><td>' + s.dataset + '</td><td>' + s.subset + '</td><td>' + s.metric + '</td><td>' + s.score.toFixed(4) + '</td><td>' + s.num + '</td></tr>';
    $('reports').insertAdjacentHTML('beforeend', html + '</table>');
  }
}
if (!chatOnly) {
  $('train-command').onchange = () => buildForm($('train-command').value, $('train-form'));
  buildForm('sft', $('train-form')); buildForm('export', $('export-form')); buildForm('eval', $('eval-form'));
  $('train-start').onclick = () => startRun($('train-form'), $('train-error'));
  $('export-start').onclick = () => startRun($('export-form'), $('export-error'));
  $('eval-start').onclick = () => startRun($('eval-form'), $('eval-error'));
  $('reports-refresh').onclick = refreshReports;
  refreshRuns(); refreshReports(); setInterval(refreshRuns, 2000);
}
</script></body></html>
"""#
}
