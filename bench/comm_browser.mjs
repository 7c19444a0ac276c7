// get_token() pulls through the comm, with the real JupyterLab in Debian's Chromium.
//
//   node bench/comm_browser.mjs '{"url": "http://127.0.0.1:P/lab?token=T", "token": "T", "pulls": 500,
//     "rounds": 10, "gap": 0.1, "nodelayUrl": "http://127.0.0.1:P/bench/nodelay",
//     "variants": [{"name": "default", "kinds": ["back_to_back", "spaced", "cell_start"],
//                   "modes": ["shipped", "http", "comm"]},
//                  {"name": "nodelay", "nodelay": true, "kinds": ["cell_start"], "modes": ["comm"]}]}'
//
// Opens JupyterLab (started with --expose-app, someone already signed in) and one notebook
// (python3 kernel) per variant; `nodelay: true` switches bench/nodelay_ext.py on before that
// notebook's kernel websocket opens. In each kernel a first cell opens the jupyterlab-oidc
// comm and waits until it is live (the :kernel-bridge plugin answered `ready` on the comm's
// subshell). Then, in `rounds` rounds that alternate between the variants (so a busy moment
// of the machine hits them alike), cells time `pulls / rounds` calls of get_token() each,
// with the cache dropped before each call (TokenClient.forget()): every call is a pull (the
// server answers from its valid session). `back_to_back`: one pull right
// after the other in one cell; `spaced`: `gap` seconds apart in one cell (a pull on its own,
// as when a long cell's token runs out); `cell_start`: one pull as the first statement of a
// cell (`token = get_token()` at the top of a cell), one cell after the other.
// Each position is timed in up to three modes, taking turns (pull by pull for the two HTTP
// modes inside a cell, cell by cell at the top of cells, round by round for the comm): `shipped`,
// get_token() as shipped (a kernel with the kernel secret pulls over HTTP); `http`, the HTTP
// pull alone (the client's own `POST oidc/kernel/token` call with the arguments get_token() used,
// no cache, no route choice): the baseline, in the same notebook and position; `comm`,
// get_token() through the comm (JUPYTERLAB_OIDC_PULL=comm, as in a kernel without the secret).
// Results: `{variant: {kind: shipped, kind_http: ..., kind_comm: ...}}`.
// Cells run through the notebook's own kernel connection (the one the bridge is attached
// to). Prints one JSON line. Never downloads a browser: playwright-core drives /usr/bin/chromium.
import { chromium } from 'playwright-core';

const options = JSON.parse(process.argv[2] || '{}');
const PULLS = options.pulls ?? 500;
const ROUNDS = options.rounds ?? 10;
const GAP = options.gap ?? 0.1;
const VARIANTS = options.variants ?? [{ name: 'default', kinds: ['back_to_back', 'spaced'], modes: ['shipped'] }];
const key = (kind, mode) => (mode === 'shipped' ? kind : `${kind}_${mode}`);

const PRELUDE = `
import json, os, time
from jupyterlab_oidc import get_token
from jupyterlab_oidc.kernel import default_client
client = default_client()
comm_pulls, http_pulls = [], []
_http_token = client.http.token
_http_args = []
def _http_spy(*a, **k):
    http_pulls.append(1)
    _http_args[:] = [(a, k)]
    return _http_token(*a, **k)
client.http.token = _http_spy
_request = client.comm.request
def _comm_request(message, *args, **kwargs):
    if message.get("type") == "token_request":
        comm_pulls.append(1)
    return _request(message, *args, **kwargs)
client.comm.request = _comm_request
client.comm.ensure_open()
_deadline = time.monotonic() + 30
while not client.comm.live and time.monotonic() < _deadline:
    time.sleep(0.01)
for _ in range(20):  # warm-up
    client.forget(); get_token()
def _pull(mode):
    if mode == "http":
        a, k = _http_args[0]
        t0 = time.perf_counter_ns(); _http_token(*a, **k); return (time.perf_counter_ns() - t0) / 1e6
    client.forget()
    if mode == "comm":
        os.environ["JUPYTERLAB_OIDC_PULL"] = "comm"
    try:
        t0 = time.perf_counter_ns(); get_token(); return (time.perf_counter_ns() - t0) / 1e6
    finally:
        os.environ.pop("JUPYTERLAB_OIDC_PULL", None)
def timed(n, gap, modes):
    out = {m: {"samples": [], "comm_pulls": 0, "http_pulls": 0} for m in modes}
    for _ in range(n):
        for mode in modes:  # the modes alternate pull by pull: a busy moment hits them alike
            if gap:
                time.sleep(gap)
            comm0, http0 = len(comm_pulls), len(http_pulls)
            out[mode]["samples"].append(_pull(mode))
            out[mode]["comm_pulls"] += len(comm_pulls) - comm0
            out[mode]["http_pulls"] += len(http_pulls) - http0 + (mode == "http")
    return out
print("RESULT " + json.dumps({"live": client.comm.live, "frontend": client.comm.frontend.get("frontend"),
                              "http_args": bool(_http_args)}))
`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic']
});
const notebooks = [];
let page;
try {
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(options.url);
  await page.waitForFunction(() => window.jupyterapp?.started !== undefined, null, { timeout: 120_000 });
  await page.evaluate(() => window.jupyterapp.started);
  await page.evaluate(() => window.jupyterapp.restored);

  const results = {};
  for (const variant of VARIANTS) {
    if (options.nodelayUrl) {
      await setNodelay(!!variant.nodelay);
    }
    const id = await page.evaluate(openNotebook);
    notebooks.push(id);
    const prelude = await run(id, PRELUDE);
    if (!prelude.live) {
      throw new Error(`the comm did not become live in variant ${variant.name}`);
    }
    if ((variant.modes ?? ['shipped']).includes('http') && !prelude.http_args) {
      throw new Error(`the warm-up pulled over the comm in variant ${variant.name}: no HTTP call to time alone`);
    }
    results[variant.name] = { frontend: prelude.frontend };
    for (const kind of variant.kinds) {
      for (const mode of variant.modes ?? ['shipped']) {
        results[variant.name][key(kind, mode)] = { samples: [], comm_pulls: 0, http_pulls: 0 };
      }
    }
  }
  if (options.nodelayUrl) {
    await setNodelay(false);
  }
  const perRound = Math.ceil(PULLS / ROUNDS);
  const add = (v, kind, parts) => {
    for (const [mode, part] of Object.entries(parts)) {
      const into = results[VARIANTS[v].name][key(kind, mode)];
      into.samples.push(...part.samples);
      into.comm_pulls += part.comm_pulls;
      into.http_pulls += part.http_pulls;
    }
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (let v = 0; v < VARIANTS.length; v++) {
      const modes = VARIANTS[v].modes ?? ['shipped'];
      // Inside a cell the HTTP modes alternate pull by pull; the comm runs on its own (its
      // status messages and Nagle waits would fall on the HTTP pulls next to it).
      const groups = [modes.filter(m => m !== 'comm'), modes.filter(m => m === 'comm')].filter(g => g.length);
      for (const kind of VARIANTS[v].kinds) {
        if (kind === 'cell_start') {
          // One pull as the first statement of a cell; the modes take turns cell by cell.
          for (let c = 0; c < perRound; c++) {
            for (const mode of modes) {
              add(v, kind, await run(notebooks[v], `print("RESULT " + json.dumps(timed(1, 0, ["${mode}"])))`));
            }
          }
          continue;
        }
        const gap = kind === 'spaced' ? GAP : 0;
        for (const group of groups) {
          add(v, kind, await run(notebooks[v], `print("RESULT " + json.dumps(timed(${perRound}, ${gap}, ${JSON.stringify(group)})))`));
        }
      }
    }
  }
  for (const variant of VARIANTS) {
    for (const k of Object.keys(results[variant.name]).filter(k => k !== 'frontend')) {
      const into = results[variant.name][k];
      const sorted = [...into.samples].sort((a, b) => a - b);
      const q = p => sorted[Math.min(sorted.length - 1, Math.round((p / 100) * (sorted.length - 1)))];
      results[variant.name][k] = {
        calls: sorted.length, p50_ms: q(50), p99_ms: q(99), max_ms: sorted[sorted.length - 1],
        comm_pulls: into.comm_pulls, http_pulls: into.http_pulls
      };
    }
  }
  console.log(JSON.stringify(results));
} finally {
  if (page) {
    for (const id of notebooks) {
      await page.evaluate(closeNotebook, id).catch(() => undefined);
    }
  }
  await browser.close();
}

async function setNodelay(on) {
  const response = await fetch(options.nodelayUrl, {
    method: 'POST',
    headers: { Authorization: `token ${options.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ on })
  });
  if (!response.ok) {
    throw new Error(`nodelay switch: HTTP ${response.status}`);
  }
}

/** Run `code` in notebook `id`'s kernel; answers the JSON of its `RESULT ` line. */
async function run(id, code) {
  const output = await page.evaluate(execute, { id, code });
  const line = output.split('\n').find(l => l.startsWith('RESULT '));
  if (!line) {
    throw new Error(`the cell printed no result:\n${output}`);
  }
  return JSON.parse(line.slice('RESULT '.length));
}

// ---- functions run in the page (serialized by Playwright: no closures)

/** A new notebook with a python3 kernel, idle; answers its widget id. */
async function openNotebook() {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('notebook:create-new', { kernelName: 'python3' });
  await panel.sessionContext.ready;
  const kernel = panel.sessionContext.session.kernel;
  for (let i = 0; i < 600 && kernel.status !== 'idle'; i++) {
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  return panel.id;
}

/** Execute code on the notebook's own kernel connection; answers its stream output. */
async function execute({ id, code }) {
  const app = window.jupyterapp;
  const panel = Array.from(app.shell.widgets('main')).find(w => w.id === id);
  const kernel = panel.sessionContext.session.kernel;
  let out = '';
  const future = kernel.requestExecute({ code, store_history: false });
  future.onIOPub = msg => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
    if (msg.header.msg_type === 'error') out += `ERROR ${msg.content.ename}: ${msg.content.evalue}\n`;
  };
  await future.done;
  return out;
}

/** Shut the notebook's kernel down and close it without saving. */
async function closeNotebook(id) {
  const app = window.jupyterapp;
  const panel = Array.from(app.shell.widgets('main')).find(w => w.id === id);
  if (!panel) return;
  await panel.sessionContext.shutdown();
  panel.context.model.dirty = false;
  panel.dispose();
}
