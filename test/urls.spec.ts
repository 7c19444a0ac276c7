import { closeWindow, httpUrl, openExternal } from '../src/urls';
import { UNSAFE_URLS } from './utils';

/** A window as `window.open('')` answers it. */
function fakeWindow(): Window & { close: jest.Mock } {
  return {
    closed: false,
    location: { href: 'about:blank' },
    close: jest.fn()
  } as unknown as Window & {
    close: jest.Mock;
  };
}

describe('httpUrl', () => {
  it.each(UNSAFE_URLS)('should refuse a %s address', (_name, value) => {
    expect(httpUrl(value)).toBeNull();
  });

  it.each([[null], [undefined], [42], [{ href: 'https://id.example/' }]])(
    'should refuse the non-string %p',
    value => {
      expect(httpUrl(value)).toBeNull();
    }
  );

  it('should accept http and https, in any case', () => {
    expect(httpUrl('https://id.corp.example/authorize?state=s1')?.href).toBe(
      'https://id.corp.example/authorize?state=s1'
    );
    expect(httpUrl('HTTP://127.0.0.1:8889/auth')?.href).toBe('http://127.0.0.1:8889/auth');
  });

  it('should answer the normalized address, never the raw string', () => {
    expect(httpUrl('  https://id.corp.example/a b')?.href).toBe('https://id.corp.example/a%20b');
  });
});

describe('openExternal', () => {
  it('should navigate the window to an https URL', () => {
    const win = fakeWindow();
    expect(openExternal(win, 'https://id.corp.example/authorize?state=s1')).toBe('navigated');
    expect(win.location.href).toBe('https://id.corp.example/authorize?state=s1');
    expect(win.close).not.toHaveBeenCalled();
  });

  it.each(UNSAFE_URLS)(
    'should close the window and never navigate it to a %s address',
    (_name, value) => {
      const win = fakeWindow();
      expect(openExternal(win, value)).toBe('refused');
      expect(win.location.href).toBe('about:blank');
      expect(win.close).toHaveBeenCalled();
    }
  );

  it('should refuse an unsafe URL even without a window', () => {
    expect(openExternal(null, 'javascript:alert(1)')).toBe('refused');
  });

  it('should answer blocked without a window, or when it was closed', () => {
    expect(openExternal(null, 'https://id.corp.example/')).toBe('blocked');
    const win = fakeWindow();
    (win as { closed: boolean }).closed = true;
    expect(openExternal(win, 'https://id.corp.example/')).toBe('blocked');
    expect(win.location.href).toBe('about:blank');
  });

  it('should answer blocked when the window cannot be navigated', () => {
    const win = {
      closed: false,
      get location(): Location {
        throw new Error('cross-origin');
      }
    } as unknown as Window;
    expect(openExternal(win, 'https://id.corp.example/')).toBe('blocked');
  });
});

describe('closeWindow', () => {
  it('should close an open window and ignore a gone one', () => {
    const win = fakeWindow();
    closeWindow(win);
    expect(win.close).toHaveBeenCalled();
    const gone = {
      get closed(): boolean {
        throw new Error('gone');
      }
    } as unknown as Window;
    expect(() => closeWindow(gone)).not.toThrow();
    expect(() => closeWindow(null)).not.toThrow();
  });
});
