// jsdom lacks requestIdleCallback, which ReactWidget uses to resolve renderPromise.
if (typeof globalThis.requestIdleCallback === 'undefined') {
  globalThis.requestIdleCallback = callback =>
    setTimeout(() => callback({ didTimeout: false, timeRemaining: () => 0 }), 0);
  globalThis.cancelIdleCallback = handle => clearTimeout(handle);
}
// React: tests wrap renders in act().
globalThis.IS_REACT_ACT_ENVIRONMENT = true;
// jsdom has no Clipboard API (apputils warns at import); tests spy on writeText.
if (typeof navigator !== 'undefined' && !navigator.clipboard) {
  Object.defineProperty(navigator, 'clipboard', {
    configurable: true,
    value: {
      read: async () => [],
      readText: async () => '',
      write: async () => undefined,
      writeText: async () => undefined
    }
  });
}
