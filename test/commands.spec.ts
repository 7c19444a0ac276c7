import { Notification } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';

import {
  addCommands,
  addOpenPanelCommand,
  addToPalette,
  CommandIDs,
  tokenSnippet
} from '../src/commands';
import { OidcSessionModel } from '../src/model';
import { OidcPreferences } from '../src/preferences';
import { FakeAPI, FakeSettings, flushPromises, sessionInfo, statusReply } from './utils';

const trans = nullTranslator.load('jupyterlab_oidc');

const ALL_IDS = [
  CommandIDs.openPanel,
  CommandIDs.signIn,
  CommandIDs.signOut,
  CommandIDs.refresh,
  CommandIDs.copyToken,
  CommandIDs.insertSnippet
];

function fakeNotebooks(hasNotebook = true) {
  const insertCell = jest.fn();
  const content = { model: { sharedModel: { insertCell } }, activeCellIndex: 2 };
  const tracker = {
    currentWidget: hasNotebook ? { content } : null
  } as unknown as INotebookTracker;
  return { tracker, insertCell, content };
}

describe('CommandIDs', () => {
  it('should be the kebab-case ids users bind keys to', () => {
    expect(ALL_IDS).toEqual([
      'oidc:open-panel',
      'oidc:sign-in',
      'oidc:sign-out',
      'oidc:refresh',
      'oidc:copy-token',
      'oidc:insert-snippet'
    ]);
  });
});

describe('addCommands', () => {
  let api: FakeAPI;
  let model: OidcSessionModel;
  let commands: CommandRegistry;
  let openPanel: jest.Mock;
  let notebooks: ReturnType<typeof fakeNotebooks>;
  let settings: FakeSettings;

  beforeEach(async () => {
    api = new FakeAPI();
    settings = new FakeSettings({ lastEmail: 'alice@corp.com' });
    const preferences = new OidcPreferences();
    preferences.attach(settings.asSettings());
    model = new OidcSessionModel({ api, preferences });
    commands = new CommandRegistry();
    openPanel = jest.fn();
    notebooks = fakeNotebooks();
    addOpenPanelCommand(commands, { open: openPanel, trans });
    addCommands(commands, { model, trans, notebooks: notebooks.tracker });
    await model.refresh();
  });

  afterEach(() => {
    model.dispose();
    jest.restoreAllMocks();
  });

  describe('#labels', () => {
    it('should register every command with a translated label and caption', () => {
      for (const id of ALL_IDS) {
        expect(commands.hasCommand(id)).toBe(true);
        expect(commands.label(id)).not.toBe('');
        expect(commands.caption(id)).not.toBe('');
      }
      expect(commands.label(CommandIDs.openPanel)).toBe('OpenID Connect Sign-In'); // menus
      expect(commands.label(CommandIDs.openPanel, { isPalette: true })).toBe(
        'Open Sign-In Panel (OIDC)'
      );
      expect(commands.label(CommandIDs.signOut, { isPalette: true })).toBe('Sign Out (OIDC)'); // a search for "oidc" finds it
      expect(commands.label(CommandIDs.signIn)).toBe('Sign In…');
      expect(commands.label(CommandIDs.signIn, { environment: 'dev' })).toBe('Sign In to dev');
      expect(commands.label(CommandIDs.signOut, { environment: 'dev' })).toBe(
        'Sign Out of Development'
      );
      expect(commands.label(CommandIDs.copyToken)).toBe('Copy Access Token');
      expect(commands.caption(CommandIDs.copyToken)).toContain('secret');
      expect(commands.label(CommandIDs.insertSnippet)).toBe('Insert Access Token Snippet');
    });

    it('should describe the arguments', async () => {
      const description = await commands.describedBy(CommandIDs.signIn);
      expect(description.args).toMatchObject({
        type: 'object',
        properties: {
          environment: { type: 'string' },
          application: { type: 'string' },
          loginHint: { type: 'string' }
        }
      });
      for (const id of ALL_IDS) {
        expect((await commands.describedBy(id)).args).toMatchObject({ type: 'object' });
      }
    });
  });

  describe('#isEnabled', () => {
    it('should enable session commands only while signed in', async () => {
      expect(commands.isEnabled(CommandIDs.signOut)).toBe(false);
      expect(commands.isEnabled(CommandIDs.refresh)).toBe(false);
      expect(commands.isEnabled(CommandIDs.copyToken)).toBe(false);
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await model.refresh();
      expect(commands.isEnabled(CommandIDs.signOut)).toBe(true);
      expect(commands.isEnabled(CommandIDs.refresh, { environment: 'prod' })).toBe(true);
      expect(commands.isEnabled(CommandIDs.refresh, { environment: 'dev' })).toBe(false);
    });

    it('should enable the snippet only with a notebook', () => {
      expect(commands.isEnabled(CommandIDs.insertSnippet)).toBe(true);
      const none = new CommandRegistry();
      addCommands(none, { model, trans, notebooks: fakeNotebooks(false).tracker });
      expect(none.isEnabled(CommandIDs.insertSnippet)).toBe(false);
    });
  });

  describe(`#execute ${CommandIDs.signIn}`, () => {
    it('should open the provider window synchronously, then navigate it', async () => {
      const win = {
        closed: false,
        location: { href: '' },
        close: jest.fn(),
        opener: {},
        document: { title: '', body: { textContent: '' } }
      };
      const open = jest.spyOn(window, 'open').mockReturnValue(win as unknown as Window);
      const done = commands.execute(CommandIDs.signIn, { environment: 'prod' });
      expect(open).toHaveBeenCalledWith('', '_blank');
      expect(open.mock.invocationCallOrder[0]).toBeLessThan(api.login.mock.invocationCallOrder[0]);
      expect(win.location.href).toBe('');
      expect(win.opener).toBeNull();
      expect(openPanel).toHaveBeenCalled();
      await flushPromises(10);
      expect(api.login).toHaveBeenCalledWith({
        environment: 'prod',
        application: undefined,
        login_hint: 'alice@corp.com'
      });
      expect(win.location.href).toBe(api.loginReply.url);
      api.awaits[0].answer.resolve({ status: 'signed_in', session: sessionInfo() });
      await done;
      expect(model.sessions).toHaveLength(1);
    });

    it('should open a popup when the setting says so', () => {
      settings.update({ openMode: 'popup' });
      const open = jest.spyOn(window, 'open').mockReturnValue(null);
      void commands.execute(CommandIDs.signIn, {});
      expect(open).toHaveBeenCalledWith(
        '',
        'jupyterlab-oidc-sign-in',
        expect.stringContaining('popup=yes')
      );
    });

    it('should open the panel to ask for an email when none is known', async () => {
      settings.update({ lastEmail: '' });
      const open = jest.spyOn(window, 'open');
      await commands.execute(CommandIDs.signIn);
      expect(open).not.toHaveBeenCalled();
      expect(openPanel).toHaveBeenCalled();
      expect(api.login).not.toHaveBeenCalled();
    });
  });

  describe(`#execute ${CommandIDs.signOut}`, () => {
    it('should sign out of the given environment', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo({ environment: 'dev' })] });
      await model.refresh();
      await commands.execute(CommandIDs.signOut, { environment: 'dev' });
      expect(api.logout).toHaveBeenCalledWith({ environment: 'dev', application: undefined });
      expect(model.notice?.endSessionUrl).toBe(api.logoutReply.end_session_url);
    });
  });

  describe(`#execute ${CommandIDs.refresh}`, () => {
    it('should refresh the preferred session', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await model.refresh();
      await commands.execute(CommandIDs.refresh);
      expect(api.refresh).toHaveBeenCalledWith({ environment: 'prod', application: undefined });
    });
  });

  describe(`#execute ${CommandIDs.copyToken}`, () => {
    it('should copy the access token and warn that it is a secret', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await model.refresh();
      const writeText = jest.spyOn(navigator.clipboard, 'writeText').mockResolvedValue(undefined);
      const warning = jest.spyOn(Notification, 'warning');
      await commands.execute(CommandIDs.copyToken);
      expect(writeText).toHaveBeenCalledWith('at-secret');
      expect(warning).toHaveBeenCalledWith(expect.stringContaining('A secret'), expect.anything());
      expect(warning.mock.calls[0][0].length).toBeLessThanOrEqual(140); // the toast shows it whole
      expect(warning.mock.calls[0][0]).not.toContain('at-secret');
    });

    it('should show the error in the panel when there is no session', async () => {
      api.failures.token = new (jest.requireActual('../src/errors').OidcError)(
        'not_authenticated',
        'no'
      );
      const writeText = jest.spyOn(navigator.clipboard, 'writeText');
      await commands.execute(CommandIDs.copyToken);
      expect(writeText).not.toHaveBeenCalled();
      expect(model.error?.code).toBe('not_authenticated');
    });
  });

  describe(`#execute ${CommandIDs.insertSnippet}`, () => {
    it('should insert a code cell below the active cell', async () => {
      api.statusReply = statusReply({
        sessions: [sessionInfo({ environment: 'dev', application: 'spatial_engine' })]
      });
      await model.refresh();
      await commands.execute(CommandIDs.insertSnippet, { environment: 'dev' });
      expect(notebooks.insertCell).toHaveBeenCalledWith(3, {
        cell_type: 'code',
        source: tokenSnippet('dev', 'spatial_engine'),
        metadata: {}
      });
      expect(notebooks.content.activeCellIndex).toBe(3);
    });
  });

  describe(`#execute ${CommandIDs.openPanel}`, () => {
    it('should open the panel', async () => {
      await commands.execute(CommandIDs.openPanel);
      expect(openPanel).toHaveBeenCalledTimes(1);
    });
  });
});

describe('addToPalette', () => {
  it('should add every command under OpenID Connect', () => {
    const addItem = jest.fn(() => ({ dispose: jest.fn(), isDisposed: false }));
    const disposable = addToPalette({ addItem } as never, trans);
    expect(addItem.mock.calls.map(call => (call as unknown[])[0])).toEqual(
      ALL_IDS.map(command => ({ command, category: 'OpenID Connect', args: { isPalette: true } }))
    );
    disposable.dispose();
  });
});

describe('tokenSnippet', () => {
  it('should get a fresh token with get_token, never paste one', () => {
    expect(tokenSnippet('prod')).toBe(
      [
        'from jupyterlab_oidc import get_token',
        '',
        '# A token valid for at least 60 s; refreshed for you, so call get_token() before each request.',
        'token = get_token(environment="prod")',
        'headers = {"Authorization": f"{token.token_type} {token.access_token}"}'
      ].join('\n')
    );
  });

  it('should quote names as Python strings', () => {
    expect(tokenSnippet('dev"x', 'app')).toContain(
      'get_token(environment="dev\\"x", application="app")'
    );
  });
});
