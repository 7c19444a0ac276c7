import { OidcSessionModel } from '../src/model';
import { OidcPreferences } from '../src/preferences';
import { OidcStatus, STATUS_ID } from '../src/components/statusbar';
import {
  attachAndRender,
  FakeAPI,
  FakeSettings,
  flushPromises,
  NOW_S,
  pendingInfo,
  rerender,
  sessionInfo,
  statusReply
} from './utils';

describe('OidcStatus', () => {
  let api: FakeAPI;
  let settings: FakeSettings;
  let model: OidcSessionModel;
  let onOpen: jest.Mock;
  let item: OidcStatus;

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW_S * 1000 });
    api = new FakeAPI();
    settings = new FakeSettings({ showStatusBar: 'signed-in' });
    const preferences = new OidcPreferences();
    preferences.attach(settings.asSettings());
    model = new OidcSessionModel({ api, preferences });
    onOpen = jest.fn();
    item = new OidcStatus({ model, onOpen });
  });

  afterEach(() => {
    item.dispose();
    model.dispose();
    jest.useRealTimers();
  });

  describe('#constructor', () => {
    it('should have the id, role and keyboard access UI tests and users need', () => {
      expect(item.id).toBe(STATUS_ID);
      expect(item.node.id).toBe('jp-oidc-status');
      expect(item.node.getAttribute('role')).toBe('button');
      expect(item.node.tabIndex).toBe(0);
    });
  });

  describe('#render', () => {
    it('should render the text of its model into its node', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo({ expires_in: 54 * 60 + 30 })] });
      await model.refresh();
      await attachAndRender(item);
      await rerender(item);
      expect(item.node.textContent).toBe('alice@corp.com · prod · 54 min');
    });
  });

  describe('OidcStatus.Model', () => {
    it('should change (and so re-render the item) only when the text does', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo({ expires_in: 54 * 60 + 30 })] });
      await model.refresh();
      const changes = jest.fn();
      item.model.stateChanged.connect(changes);
      jest.advanceTimersByTime(20_000); // 20 ticks, still "54 min"
      expect(changes).not.toHaveBeenCalled();
      jest.advanceTimersByTime(15_000); // "53 min"
      expect(changes).toHaveBeenCalledTimes(1);
      expect(item.model.text).toBe('alice@corp.com · prod · 53 min');
    });
  });

  describe('#text', () => {
    it('should read "email · environment · minutes" when signed in', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo({ expires_in: 54 * 60 + 30 })] });
      await model.refresh();
      expect(item.text).toBe('alice@corp.com · prod · 54 min');
      expect(item.node.dataset.state).toBe('signed-in');
      expect(item.node.title).toContain('Signed in to prod as alice@corp.com');
    });

    it('should follow the countdown', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo({ expires_in: 125 })] });
      await model.refresh();
      expect(item.text).toBe('alice@corp.com · prod · 2 min');
      jest.advanceTimersByTime(70_000);
      expect(item.text).toBe('alice@corp.com · prod · 55 s');
      jest.advanceTimersByTime(60_000);
      expect(item.text).toBe('alice@corp.com · prod · expired');
      expect(item.node.dataset.state).toBe('expired');
    });

    it('should show hours and count the other sessions', async () => {
      api.statusReply = statusReply({
        sessions: [
          sessionInfo({ expires_in: 2 * 3600 + 5 * 60 }),
          sessionInfo({ environment: 'dev' })
        ]
      });
      await model.refresh();
      expect(item.text).toBe('alice@corp.com · prod · 2 h 05 min (+1)');
    });

    it('should show the default environment from the settings first', async () => {
      api.statusReply = statusReply({
        sessions: [sessionInfo(), sessionInfo({ environment: 'dev', email: 'alice@dev.example' })]
      });
      await model.refresh();
      settings.update({ defaultEnvironment: 'dev' });
      expect(item.text).toMatch(/^alice@dev\.example · dev · /);
    });

    it('should count down a pending sign-in', async () => {
      api.statusReply = statusReply({ pending: [pendingInfo({ expires_in: 90 })] });
      await model.refresh();
      expect(item.text).toBe('Signing in to prod… 1:30');
    });

    it('should say Sign in when signed out', async () => {
      await model.refresh();
      expect(item.text).toBe('Sign in');
      expect(item.node.dataset.state).toBe('signed-out');
    });
  });

  describe('#shouldShow', () => {
    it('should hide while signed out and show once signed in (signed-in)', async () => {
      const changed = jest.fn();
      item.activeStateChanged.connect(changed);
      await model.refresh();
      expect(item.shouldShow()).toBe(false);
      model.start();
      await flushPromises(10);
      api.resolvePoll(statusReply({ revision: 2, sessions: [sessionInfo()] }));
      await flushPromises(10);
      expect(item.shouldShow()).toBe(true);
      expect(changed).toHaveBeenCalledTimes(1);
      await model.signOut();
      expect(item.shouldShow()).toBe(false);
      expect(changed).toHaveBeenCalledTimes(2);
    });

    it('should apply the setting without a reload', async () => {
      await model.refresh();
      const changed = jest.fn();
      item.activeStateChanged.connect(changed);
      settings.update({ showStatusBar: 'always' });
      expect(item.shouldShow()).toBe(true);
      expect(changed).toHaveBeenCalledTimes(1);
      settings.update({ showStatusBar: 'never' });
      expect(item.shouldShow()).toBe(false);
      expect(changed).toHaveBeenCalledTimes(2);
    });

    it('should stay hidden with never, even when signed in', async () => {
      settings.update({ showStatusBar: 'never' });
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await model.refresh();
      expect(item.shouldShow()).toBe(false);
    });
  });

  describe('#handleEvent', () => {
    it('should open the panel on click', () => {
      item.node.click();
      expect(onOpen).toHaveBeenCalledTimes(1);
    });

    it('should open the panel on Enter and Space', () => {
      item.node.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
      item.node.dispatchEvent(new KeyboardEvent('keydown', { key: ' ' }));
      item.node.dispatchEvent(new KeyboardEvent('keydown', { key: 'a' }));
      expect(onOpen).toHaveBeenCalledTimes(2);
    });
  });

  describe('#dispose', () => {
    it('should stop following the model', async () => {
      item.dispose();
      item.dispose();
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await model.refresh();
      expect(item.isDisposed).toBe(true);
    });
  });
});
