import { OidcError } from '../src/errors';
import { OidcSessionModel } from '../src/model';
import { OidcPreferences } from '../src/preferences';
import { IOidcSession } from '../src/tokens';
import {
  FakeAPI,
  FakeSettings,
  flushPromises,
  NOW_S,
  pendingInfo,
  rejection,
  sessionInfo,
  statusReply
} from './utils';

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

describe('OidcSessionModel', () => {
  let api: FakeAPI;
  let model: OidcSessionModel;

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW_S * 1000 });
    api = new FakeAPI();
    model = new OidcSessionModel({ api });
  });

  afterEach(() => {
    model.dispose();
    jest.useRealTimers();
  });

  describe('#start', () => {
    it('should be checking until the server answers', () => {
      expect(model.phase).toBe('checking');
      expect(model.sessions).toEqual([]);
    });

    it('should load environments and status, then long-poll after the revision', async () => {
      api.statusReply = statusReply({ revision: 3, sessions: [sessionInfo()] });
      model.start();
      await flushPromises(10);
      expect(model.phase).toBe('ready');
      expect(model.environments.map(env => env.name)).toEqual(['prod', 'dev']);
      expect(model.sessions[0]).toMatchObject({ key: 'prod', email: 'alice@corp.com' });
      expect(api.polls).toHaveLength(1);
      expect(api.polls[0].after).toBe(3);
    });

    it('should follow a sign-in completed elsewhere as soon as the long poll answers', async () => {
      model.start();
      await flushPromises(10);
      const changes: IOidcSession.ISessionsChange[] = [];
      model.sessionsChanged.connect((_, change) => changes.push(change));
      api.resolvePoll(
        statusReply({
          revision: 2,
          sessions: [sessionInfo({ environment: 'dev', email: 'alice@dev.example' })]
        })
      );
      await flushPromises(10);
      expect(model.sessions.map(s => s.key)).toEqual(['dev']);
      expect(changes).toHaveLength(1);
      expect(changes[0].added.map(s => s.key)).toEqual(['dev']);
      expect(api.polls[0].after).toBe(2);
    });

    it('should report a background refresh as an updated session', async () => {
      api.statusReply = statusReply({ revision: 1, sessions: [sessionInfo()] });
      model.start();
      await flushPromises(10);
      const changes: IOidcSession.ISessionsChange[] = [];
      model.sessionsChanged.connect((_, change) => changes.push(change));
      api.resolvePoll(
        statusReply({
          revision: 2,
          sessions: [sessionInfo({ refreshed_at: NOW_S, expires_in: 3600 })]
        })
      );
      await flushPromises(10);
      expect(changes[0].updated.map(s => s.key)).toEqual(['prod']);
      expect(model.secondsLeft(model.sessions[0].expiresAt)).toBe(3600);
    });

    it('should report a sign-out in another tab as a removed session', async () => {
      api.statusReply = statusReply({ revision: 1, sessions: [sessionInfo()] });
      model.start();
      await flushPromises(10);
      const changes: IOidcSession.ISessionsChange[] = [];
      model.sessionsChanged.connect((_, change) => changes.push(change));
      api.resolvePoll(statusReply({ revision: 2, sessions: [] }));
      await flushPromises(10);
      expect(model.sessions).toEqual([]);
      expect(changes[0].removed.map(s => s.key)).toEqual(['prod']);
    });

    it('should show a sign-in started in a notebook cell as pending', async () => {
      model.start();
      await flushPromises(10);
      api.resolvePoll(statusReply({ revision: 2, pending: [pendingInfo({ expires_in: 120 })] }));
      await flushPromises(10);
      expect(model.pending).toHaveLength(1);
      expect(model.pending[0]).toMatchObject({ state: 'state-elsewhere', own: false, url: null });
      expect(model.secondsLeft(model.pending[0].expiresAt)).toBe(120);
    });

    it('should retry with backoff while the server does not answer', async () => {
      api.failures.environments = new OidcError('network_error', 'down');
      model.start();
      await flushPromises(10);
      expect(model.phase).toBe('unavailable');
      expect(model.error?.code).toBe('network_error');
      await jest.advanceTimersByTimeAsync(1000);
      expect(model.phase).toBe('ready');
      expect(model.error).toBeNull();
    });

    it('should not hammer a server that answers long polls at once', async () => {
      model.start();
      await flushPromises(10);
      api.resolvePoll(statusReply({ revision: 1 }));
      await flushPromises(10);
      expect(api.polls).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(1000);
      expect(api.polls).toHaveLength(1);
    });

    it('should show a store error', async () => {
      api.statusReply = statusReply({ store_error: { error: 'store_error', message: 'corrupt' } });
      model.start();
      await flushPromises(10);
      expect(model.storeError?.code).toBe('store_error');
      expect(model.storeError?.message).toBe('corrupt');
    });
  });

  describe('#refresh', () => {
    it('should load environments and status once', async () => {
      await model.refresh();
      expect(model.phase).toBe('ready');
      expect(api.polls).toHaveLength(0);
    });

    it('should record and throw the error', async () => {
      api.failures.environments = new OidcError('http_error', 'HTTP 404', { status: 404 });
      const error = await rejection(model.refresh());
      expect(error.code).toBe('http_error');
      expect(model.error).toBe(error);
      expect(model.phase).toBe('unavailable');
    });
  });

  describe('#preferredEnvironment', () => {
    it("should be the server's default until the user picks one", async () => {
      const preferences = new OidcPreferences();
      model = new OidcSessionModel({ api, preferences });
      await model.refresh();
      expect(model.preferredEnvironment).toBe('prod');
      const settings = new FakeSettings({ defaultEnvironment: 'dev' });
      const changed = jest.fn();
      model.stateChanged.connect(changed);
      preferences.attach(settings.asSettings());
      expect(model.preferredEnvironment).toBe('dev');
      expect(changed).toHaveBeenCalled();
      settings.update({ defaultEnvironment: 'unknown' });
      expect(model.preferredEnvironment).toBe('prod');
    });
  });

  describe('#signIn', () => {
    beforeEach(async () => {
      await model.refresh();
    });

    it('should navigate the window opened in the click handler and wait for the callback', async () => {
      const win = fakeWindow();
      const done = model.signIn({
        environment: 'prod',
        loginHint: ' alice@corp.com ',
        window: win
      });
      await flushPromises(10);
      expect(api.login).toHaveBeenCalledWith({
        environment: 'prod',
        application: undefined,
        login_hint: 'alice@corp.com'
      });
      expect(win.location.href).toBe(api.loginReply.url);
      expect(model.pending).toHaveLength(1);
      expect(model.pending[0]).toMatchObject({
        state: 's1',
        own: true,
        url: api.loginReply.url,
        windowOpened: true
      });
      api.awaits[0].answer.resolve({ status: 'signed_in', session: sessionInfo() });
      const session = await done;
      expect(session.email).toBe('alice@corp.com');
      expect(model.pending).toEqual([]);
      expect(model.sessions.map(s => s.key)).toEqual(['prod']);
    });

    it('should ask again while the server answers pending', async () => {
      const done = model.signIn({ loginHint: 'alice@corp.com', window: null });
      await flushPromises(10);
      api.awaits[0].answer.resolve({ status: 'pending' });
      await flushPromises(10);
      expect(api.awaits).toHaveLength(2);
      api.awaits[1].answer.resolve({ status: 'signed_in', session: sessionInfo() });
      await expect(done).resolves.toMatchObject({ key: 'prod' });
    });

    it('should offer the link when the popup was blocked', async () => {
      void model.signIn({ loginHint: 'alice@corp.com', window: null }).catch(() => undefined);
      await flushPromises(10);
      expect(model.pending[0]).toMatchObject({
        own: true,
        windowOpened: false,
        url: api.loginReply.url
      });
    });

    it('should remember the email in the preferences once signed in', async () => {
      const done = model.signIn({ loginHint: 'alice@corp.com' });
      await flushPromises(10);
      expect(model.preferences.lastEmail).toBe('');
      api.awaits[0].answer.resolve({ status: 'signed_in', session: sessionInfo() });
      await done;
      await flushPromises(10);
      expect(model.preferences.lastEmail).toBe('alice@corp.com');
    });

    it('should not remember the email of a refused sign-in', async () => {
      const done = model.signIn({ loginHint: 'alice@exmaple.com' });
      await flushPromises(10);
      api.awaits[0].answer.reject(new OidcError('identity_mismatch', 'mismatch', { status: 403 }));
      await rejection(done);
      await flushPromises(10);
      expect(model.preferences.lastEmail).toBe('');
    });

    it('should show identity_mismatch and store nothing', async () => {
      const done = model.signIn({ loginHint: 'alice@corp.com' });
      await flushPromises(10);
      api.awaits[0].answer.reject(
        new OidcError('identity_mismatch', 'mismatch', {
          status: 403,
          details: { expected: 'alice@corp.com', actual: 'bob@corp.com' }
        })
      );
      const error = await rejection(done);
      expect(error.code).toBe('identity_mismatch');
      expect(model.error?.code).toBe('identity_mismatch');
      expect(model.sessions).toEqual([]);
      expect(model.pending).toEqual([]);
    });

    it('should close the window when the sign-in cannot start', async () => {
      const win = fakeWindow();
      api.failures.login = new OidcError('discovery_failed', 'no discovery');
      const error = await rejection(model.signIn({ loginHint: 'alice@corp.com', window: win }));
      expect(error.code).toBe('discovery_failed');
      expect(win.close).toHaveBeenCalled();
      expect(model.error?.code).toBe('discovery_failed');
    });

    it('should clear an earlier error', async () => {
      model.reportError(new OidcError('refresh_failed', 'x'));
      void model.signIn({ loginHint: 'alice@corp.com' }).catch(() => undefined);
      expect(model.error).toBeNull();
    });
  });

  describe('#cancelSignIn', () => {
    it('should cancel the own sign-in without showing an error', async () => {
      await model.refresh();
      const done = model.signIn({ loginHint: 'alice@corp.com' });
      await flushPromises(10);
      await model.cancelSignIn();
      expect(api.cancel).toHaveBeenCalledWith('s1');
      api.awaits[0].answer.reject(new OidcError('login_cancelled', 'The sign-in was cancelled.'));
      expect((await rejection(done)).code).toBe('login_cancelled');
      expect(model.error).toBeNull();
      expect(model.pending).toEqual([]);
    });

    it('should ignore a sign-in that is already over', async () => {
      api.failures.cancel = new OidcError('state_mismatch', 'gone');
      await expect(model.cancelSignIn('old')).resolves.toBeUndefined();
      expect(model.error).toBeNull();
    });
  });

  describe('#signOut', () => {
    it('should forget the session and offer the end-session link', async () => {
      api.statusReply = statusReply({
        sessions: [sessionInfo(), sessionInfo({ environment: 'dev' })]
      });
      await model.refresh();
      const removed = jest.fn();
      model.sessionsChanged.connect((_, change) => removed(change.removed.map(s => s.key)));
      await model.signOut({ environment: 'prod' });
      expect(api.logout).toHaveBeenCalledWith({ environment: 'prod', application: undefined });
      expect(model.sessions.map(s => s.key)).toEqual(['dev']);
      expect(removed).toHaveBeenCalledWith(['prod']);
      expect(model.notice).toEqual({
        environment: 'prod',
        application: null,
        signedOut: true,
        endSessionUrl: 'https://id.corp.example/logout?client_id=notebooks'
      });
      model.clearNotice();
      expect(model.notice).toBeNull();
    });
  });

  describe('#refreshSession', () => {
    it('should update the expiry', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await model.refresh();
      const session = await model.refreshSession();
      expect(api.refresh).toHaveBeenCalledWith({ environment: 'prod', application: undefined });
      expect(model.secondsLeft(session.expiresAt)).toBe(3600);
    });

    it('should show refresh_failed', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await model.refresh();
      api.failures.refresh = new OidcError('refresh_failed', 'x');
      await rejection(model.refreshSession());
      expect(model.error?.code).toBe('refresh_failed');
    });
  });

  describe('#getToken', () => {
    it('should answer the access token but never keep it in the model', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await model.refresh();
      const reply = await model.getToken({ minValid: 120 });
      expect(reply.access_token).toBe('at-secret');
      expect(api.token).toHaveBeenCalledWith({
        environment: 'prod',
        application: undefined,
        min_valid: 120
      });
      expect(JSON.stringify(model.sessions)).not.toContain('at-secret');
    });
  });

  describe('#findSession', () => {
    it('should find by environment and application, else prefer the preferred environment', async () => {
      api.statusReply = statusReply({
        sessions: [
          sessionInfo({ environment: 'dev' }),
          sessionInfo({ environment: 'dev', application: 'spatial_engine' }),
          sessionInfo({ environment: 'prod' })
        ]
      });
      await model.refresh();
      expect(model.findSession()?.key).toBe('prod');
      expect(model.findSession({ environment: 'dev' })?.key).toBe('dev');
      expect(model.findSession({ environment: 'dev', application: 'spatial_engine' })?.key).toBe(
        'dev/spatial_engine'
      );
      expect(model.findSession({ environment: 'qa' })).toBeNull();
    });
  });

  describe('#ticked', () => {
    it('should count down every second while signed in', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo({ expires_in: 3270 })] });
      await model.refresh();
      const ticks = jest.fn();
      model.ticked.connect(ticks);
      const session = model.sessions[0];
      expect(model.secondsLeft(session.expiresAt)).toBe(3270);
      jest.advanceTimersByTime(60_000);
      expect(ticks).toHaveBeenCalledTimes(60);
      expect(model.secondsLeft(session.expiresAt)).toBe(3210);
    });

    it('should count down a pending sign-in', async () => {
      await model.refresh();
      void model.signIn({ loginHint: 'alice@corp.com' }).catch(() => undefined);
      await flushPromises(10);
      jest.advanceTimersByTime(61_000);
      expect(model.secondsLeft(model.pending[0].expiresAt)).toBe(239);
    });

    it('should stop the clock when nothing counts down', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await model.refresh();
      await model.signOut();
      const ticks = jest.fn();
      model.ticked.connect(ticks);
      jest.advanceTimersByTime(5000);
      expect(ticks).not.toHaveBeenCalled();
    });
  });

  describe('#dispose', () => {
    it('should abort the long poll and stop following', async () => {
      model.start();
      await flushPromises(10);
      expect(api.polls).toHaveLength(1);
      const disposed = jest.fn();
      model.disposed.connect(disposed);
      model.dispose();
      model.dispose();
      expect(disposed).toHaveBeenCalledTimes(1);
      await flushPromises(10);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(model.isDisposed).toBe(true);
      expect(api.status).toHaveBeenCalledTimes(2);
    });
  });
});
