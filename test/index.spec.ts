import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ServerConnection } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import plugins, { CommandIDs, IOidcSession } from '../src/index';
import { SETTINGS_ID } from '../src/preferences';
import { environmentsReply, FakeSettings, flushPromises, statusReply } from './utils';

type AnyPlugin = JupyterFrontEndPlugin<unknown>;

function plugin(id: string): AnyPlugin {
  const found = (plugins as AnyPlugin[]).find(p => p.id === id);
  if (!found) {
    throw new Error(`no plugin ${id}`);
  }
  return found;
}

/** An app whose server answers environments and status, and holds long polls open. */
function fakeApp() {
  const requests: string[] = [];
  const fetch = jest.fn(async (input: RequestInfo | URL) => {
    const url = new Request(input as RequestInfo).url;
    requests.push(url);
    if (url.includes('/oidc/environments')) {
      return new Response(JSON.stringify(environmentsReply()));
    }
    if (url.includes('after=')) {
      return new Promise<Response>(() => undefined);
    }
    return new Response(JSON.stringify(statusReply()));
  });
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/',
    fetch
  });
  const commands = new CommandRegistry();
  const shell = { add: jest.fn(), activateById: jest.fn() };
  const app = { commands, shell, serviceManager: { serverSettings } } as unknown as JupyterFrontEnd;
  return { app, commands, shell, requests };
}

describe('plugins', () => {
  it('should export the five plugins, each described', () => {
    expect((plugins as AnyPlugin[]).map(p => p.id)).toEqual([
      'jupyterlab-oidc:session',
      'jupyterlab-oidc:sidebar',
      'jupyterlab-oidc:status',
      'jupyterlab-oidc:commands',
      'jupyterlab-oidc:kernel-bridge'
    ]);
    for (const p of plugins as AnyPlugin[]) {
      expect(p.description).toBeTruthy();
      expect(p.autoStart).toBe(true);
    }
    expect(plugin('jupyterlab-oidc:session').provides).toBe(IOidcSession);
  });
});

describe('jupyterlab-oidc:session', () => {
  describe('#activate', () => {
    it('should answer the model at once, then follow the server and load the settings', async () => {
      const { app, requests } = fakeApp();
      const settings = new FakeSettings({ lastEmail: 'alice@corp.com', showStatusBar: 'always' });
      const registry = {
        load: jest.fn(async () => settings.asSettings())
      } as unknown as ISettingRegistry;
      const model = plugin('jupyterlab-oidc:session').activate(app, registry) as IOidcSession;
      expect(model).not.toBeInstanceOf(Promise);
      expect(model.phase).toBe('checking');
      await flushPromises(20);
      expect(registry.load).toHaveBeenCalledWith(SETTINGS_ID);
      expect(model.preferences.lastEmail).toBe('alice@corp.com');
      for (let i = 0; i < 50 && model.phase !== 'ready'; i++) {
        await flushPromises(10); // the fake server answers on promises, no clock needed
      }
      expect(model.phase).toBe('ready');
      expect(requests.some(url => url.includes('/oidc/status?after=1'))).toBe(true);
      model.dispose();
    });

    it('should work without a setting registry', () => {
      const { app } = fakeApp();
      const model = plugin('jupyterlab-oidc:session').activate(app, null) as IOidcSession;
      expect(model.preferences.openMode).toBe('tab');
      model.dispose();
    });
  });
});

describe('jupyterlab-oidc:sidebar', () => {
  describe('#activate', () => {
    it('should add the panel to the left area and register oidc:open-panel', async () => {
      const { app, commands, shell } = fakeApp();
      const model = plugin('jupyterlab-oidc:session').activate(app, null) as IOidcSession;
      const restorer = { add: jest.fn() };
      plugin('jupyterlab-oidc:sidebar').activate(app, model, null, restorer);
      const [panel, area, options] = shell.add.mock.calls[0];
      expect((panel as Widget).id).toBe('jp-oidc-panel');
      expect(area).toBe('left');
      expect(options).toEqual({ rank: 850 });
      expect(restorer.add).toHaveBeenCalledWith(panel, 'jupyterlab-oidc');
      await commands.execute(CommandIDs.openPanel);
      expect(shell.activateById).toHaveBeenCalledWith('jp-oidc-panel');
      (panel as Widget).dispose();
      model.dispose();
    });
  });
});

describe('jupyterlab-oidc:status', () => {
  describe('#activate', () => {
    it('should register the status item, hidden while signed out', () => {
      const { app } = fakeApp();
      const model = plugin('jupyterlab-oidc:session').activate(app, null) as IOidcSession;
      const registerStatusItem = jest.fn();
      plugin('jupyterlab-oidc:status').activate(
        app,
        model,
        { registerStatusItem } as unknown as IStatusBar,
        null
      );
      const [id, item] = registerStatusItem.mock.calls[0];
      expect(id).toBe('jupyterlab-oidc:status');
      expect(item.item.id).toBe('jp-oidc-status');
      expect(item.isActive()).toBe(false);
      expect(item.activeStateChanged).toBeDefined();
      item.item.dispose();
      model.dispose();
    });

    it('should do nothing without a status bar', () => {
      const { app } = fakeApp();
      const model = plugin('jupyterlab-oidc:session').activate(app, null) as IOidcSession;
      expect(() => plugin('jupyterlab-oidc:status').activate(app, model, null, null)).not.toThrow();
      model.dispose();
    });
  });
});

describe('jupyterlab-oidc:commands', () => {
  describe('#activate', () => {
    it('should register the commands and their palette entries', () => {
      const { app, commands } = fakeApp();
      const model = plugin('jupyterlab-oidc:session').activate(app, null) as IOidcSession;
      const palette = { addItem: jest.fn(() => ({ dispose: jest.fn() })) };
      plugin('jupyterlab-oidc:commands').activate(app, model, null, palette, null);
      for (const id of [
        CommandIDs.signIn,
        CommandIDs.signOut,
        CommandIDs.refresh,
        CommandIDs.copyToken,
        CommandIDs.insertSnippet
      ]) {
        expect(commands.hasCommand(id)).toBe(true);
      }
      expect(palette.addItem).toHaveBeenCalledTimes(6);
      model.dispose();
    });
  });
});
