// The labextension's files a JupyterLab page downloads when it starts (and after its sidebar
// panel is opened), in Debian's Chromium through playwright-core (no browser download).
//
//   node bench/page_load.mjs '{"url": "http://127.0.0.1:P/lab?token=T"}'
//
// Prints one JSON line: {"files": ["remoteEntry.….js", …]}, the names under
// …/extensions/jupyterlab-oidc/static/ that the page requested.
import { chromium } from 'playwright-core';

const options = JSON.parse(process.argv[2] || '{}');
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic']
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const files = new Set();
  page.on('request', request => {
    const match = /\/extensions\/jupyterlab-oidc\/static\/([^/?#]+)/.exec(request.url());
    if (match) files.add(match[1]);
  });
  await page.goto(options.url);
  await page.waitForFunction(() => window.jupyterapp?.started !== undefined, null, { timeout: 120_000 });
  await page.evaluate(() => window.jupyterapp.restored);
  await page.evaluate(() => window.jupyterapp.commands.execute('oidc:open-panel'));
  await page.waitForSelector('.jp-oidc-panel', { timeout: 60_000 });
  await page.waitForTimeout(2000); // the status long-poll keeps the network busy: settle instead
  console.log(JSON.stringify({ files: [...files].sort() }));
} finally {
  await browser.close();
}
