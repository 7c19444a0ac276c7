// get_token() pulls through the comm, with the real JupyterLab in Debian's Chromium.
//
//   node bench/comm_browser.mjs '{"url": "http://127.0.0.1:P/lab?token=T", "token": "T", "pulls": 500,
//     "rounds": 10, "gap": 0.1, "nodelayUrl": "http://127.0.0.1:P/bench/nodelay",
//     "variants": [{"name": "default", "kinds": ["back_to_back", "spaced", "cell_start"]},
//                  {"name": "nodelay", "nodelay": true, "kinds": ["cell_start"]}]}'
//
// Opens JupyterLab (started with --expose-app, someone already signed in) and one notebook
// (python3 kernel) per variant; `nodelay: true` switches bench/nodelay_ext.py on before that
// notebook's kernel websocket opens. In each kernel a first cell opens the jupyterlab-oidc
// comm and waits until it is live (the :kernel-bridge plugin answered `ready` on the comm's
// subshell). Then, in `rounds` rounds that alternate between the variants (so a busy moment
// of the machine hits them alike), cells time `pulls / rounds` calls of get_token() each,
// with the cache dropped before each call (TokenClient.forget()): every call is a
// token_request answered by the frontend over the comm (it asks the server with
// POST oidc/token; the server answers from its valid session). `back_to_back`: one pull right
// after the other in one cell; `spaced`: `gap` seconds apart in one cell (a pull on its own,
// as when a long cell's token runs out); `cell_start`: one pull as the first statement of a
// cell (`token = get_token()` at the top of a cell), one cell after the other.
// Cells run through the notebook's own kernel connection (the one the bridge is attached
// to). Prints one JSON line. Never downloads a browser: playwright-core drives /usr/bin/chromium.
import { chromium } from 'playwright-core';

const options = JSON.parse(process.argv[2] || '{}');
const PULLS = options.pulls ?? 500;
const ROUNDS = options.rounds ?? 10;
const GAP = options.gap ?? 0.1;
const VARIANTS = options.variants ?? [{ name: 'default', kinds: ['back_to_back', 'spaced'] }];

const PRELUDE = `
import json, time
from jupyterlab_oidc import get_token
from jupyterlab_oidc.kernel import default_client
client = default_client()
comm_pulls, http_pulls = [], []
_http_token = client.http.token
client.http.token = lambda *a, **k: http_pulls.append(1) or _http_token(*a, **k)
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
def timed(n, gap):
    del comm_pulls[:], http_pulls[:]
    samples = []
    for _ in range(n):
        if gap:
            time.sleep(gap)
        client.forget()
        t0 = time.perf_counter_ns(); get_token(); samples.append((time.perf_counter_ns() - t0) / 1e6)
    return {"samples": samples, "comm_pulls": len(comm_pulls), "http_pulls": len(http_pulls)}
print("RESULT " + json.dumps({"live": client.comm.live, "frontend": client.comm.frontend.get("frontend")}))
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
    results[variant.name] = { frontend: prelude.frontend };
    for (const kind of variant.kinds) {
      results[variant.name][kind] = { samples: [], comm_pulls: 0, http_pulls: 0 };
    }
  }
  if (options.nodelayUrl) {
    await setNodelay(false);
  }
  const perRound = Math.ceil(PULLS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (let v = 0; v < VARIANTS.length; v++) {
      for (const kind of VARIANTS[v].kinds) {
        const gap = kind === 'spaced' ? GAP : 0;
        // cell_start: one pull as the first statement of a cell, perRound cells.
        const cells = kind === 'cell_start' ? perRound : 1;
        const code = `print("RESULT " + json.dumps(timed(${kind === 'cell_start' ? 1 : perRound}, ${gap})))`;
        for (let c = 0; c < cells; c++) {
          const part = await run(notebooks[v], code);
          const into = results[VARIANTS[v].name][kind];
          into.samples.push(...part.samples);
          into.comm_pulls += part.comm_pulls;
          into.http_pulls += part.http_pulls;
        }
      }
    }
  }
  for (const variant of VARIANTS) {
    for (const kind of variant.kinds) {
      const into = results[variant.name][kind];
      const sorted = [...into.samples].sort((a, b) => a - b);
      const q = p => sorted[Math.min(sorted.length - 1, Math.round((p / 100) * (sorted.length - 1)))];
      results[variant.name][kind] = {
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
