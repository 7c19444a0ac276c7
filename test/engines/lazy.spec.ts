/**
 * The browser engine behind its dynamic import (src/engines/browser/lazy.ts): the session
 * plugin gets an engine at once, and every call waits for the chunk, then behaves as the engine.
 */
import { LazyBrowserEngine } from '../../src/engines/browser/lazy';
import { LocalLocks } from '../../src/engines/browser/tabs';
import { BrowserEngine } from '../../src/engines/browser/engine';
import { Bus, config, FakeProvider, signIn } from './fakes';

function lazyTab(provider: FakeProvider) {
  const win = new EventTarget() as EventTarget & Window;
  const made = new LazyBrowserEngine({
    config: config(),
    fetch: provider.fetch,
    locks: new LocalLocks(),
    openChannel: new Bus().open,
    window: win,
    settleMs: 5
  });
  return { engine: made, win };
}

describe('the browser engine loaded on first use', () => {
  it('is a browser engine from the start, before its chunk has loaded', async () => {
    const tab = lazyTab(await FakeProvider.create());
    expect(tab.engine.kind).toBe('browser');
    expect(tab.engine.isDisposed).toBe(false);
    tab.engine.dispose();
  });

  it('signs in, hands out the token and signs out as the engine does', async () => {
    const provider = await FakeProvider.create();
    const tab = lazyTab(provider);
    const { result } = await signIn(
      provider,
      tab as unknown as { engine: BrowserEngine; win: EventTarget }
    );
    expect((await result).status).toBe('signed_in');
    expect((await tab.engine.token()).access_token).toBe('access-0');
    expect((await tab.engine.environments()).environments.map(e => e.name)).toEqual(['dev']);
    await tab.engine.logout();
    expect((await tab.engine.status()).sessions).toEqual([]);
    tab.engine.dispose();
  });

  it('disposes the engine it loads when it was disposed before the chunk arrived', async () => {
    const dispose = jest.spyOn(BrowserEngine.prototype, 'dispose');
    try {
      const tab = lazyTab(await FakeProvider.create());
      tab.engine.dispose();
      expect(tab.engine.isDisposed).toBe(true);
      await tab.engine.environments(); // resolves once the chunk has loaded
      expect(dispose).toHaveBeenCalledTimes(1);
      tab.engine.dispose();
      expect(dispose).toHaveBeenCalledTimes(1);
    } finally {
      dispose.mockRestore();
    }
  });
});
