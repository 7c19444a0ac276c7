/**
 * jupyterlab-oidc: plugins only. Each `activate` wires modules together and never awaits.
 *
 * - `:session` provides `IOidcSession` (the model that follows the server extension);
 * - `:sidebar` adds the sign-in panel and `oidc:open-panel` (in the View menu through
 *   schema/plugin.json, in JupyterLab and Notebook 7);
 * - `:status` adds the status bar item;
 * - `:commands` adds the other commands and their palette entries;
 * - `:kernel-bridge` answers kernels on the `jupyterlab-oidc` comm and pushes token
 *   updates to them (docs/kernel-protocol.md).
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator } from '@jupyterlab/translation';

import { OidcAPI } from './api';
import { KernelBridge } from './bridge/bridge';
import { addCommands, addOpenPanelCommand, addToPalette, CommandIDs } from './commands';
import { OidcPanel } from './components/panel';
import { OidcStatus } from './components/statusbar';
import { pageConfig } from './engines/browser/config';
import { LazyBrowserEngine } from './engines/browser/lazy';
import { loadTranslation } from './errors';
import { OidcSessionModel } from './model';
import { OidcPreferences, SETTINGS_ID } from './preferences';
import { IOidcSession } from './tokens';

export { CommandIDs } from './commands';
export { OidcError } from './errors';
export type { OidcErrorCode } from './errors';
export { IOidcSession } from './tokens';

/** The session model, shared by every other plugin. */
const sessionPlugin: JupyterFrontEndPlugin<IOidcSession> = {
  id: 'jupyterlab-oidc:session',
  description:
    'Follows the OpenID Connect sessions of the jupyterlab-oidc server extension and hands out fresh access tokens.',
  autoStart: true,
  provides: IOidcSession,
  optional: [ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): IOidcSession => {
    const preferences = new OidcPreferences();
    // The one REST client: every other plugin goes through the model.
    // JupyterLite: no server extension, the lite site's page config names the environments,
    // and the browser engine does the sign-in in the page (src/engines/browser, a chunk of
    // its own that other pages never load).
    const lite = pageConfig();
    const api = lite
      ? new LazyBrowserEngine({ config: lite })
      : new OidcAPI({ serverSettings: app.serviceManager.serverSettings });
    const model = new OidcSessionModel({ api, preferences, translator });
    if (settingRegistry) {
      settingRegistry
        .load(SETTINGS_ID)
        .then(settings => preferences.attach(settings))
        .catch(reason =>
          console.warn('jupyterlab-oidc: settings could not be loaded; using defaults.', reason)
        );
    }
    model.start(); // renders "checking…" until the server answers
    return model;
  }
};

/** The sign-in panel in the left sidebar (JupyterLab and Notebook 7). */
const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-oidc:sidebar',
  description: 'Adds the OpenID Connect sign-in panel to the left sidebar.',
  autoStart: true,
  requires: [IOidcSession],
  optional: [ITranslator, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    model: IOidcSession,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const trans = loadTranslation(translator);
    const openSettings = app.commands.hasCommand('settingeditor:open')
      ? () => void app.commands.execute('settingeditor:open', { query: 'OpenID Connect' })
      : undefined;
    const panel = new OidcPanel({ model, translator, openSettings });
    app.shell.add(panel, 'left', { rank: 850 });
    restorer?.add(panel, 'jupyterlab-oidc');
    addOpenPanelCommand(app.commands, { open: () => app.shell.activateById(panel.id), trans });
  }
};

/** "alice@corp.com · prod · 54 min" in the status bar. */
const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-oidc:status',
  description: 'Shows who is signed in, where, and for how long in the status bar.',
  autoStart: true,
  requires: [IOidcSession],
  optional: [IStatusBar, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IOidcSession,
    statusBar: IStatusBar | null,
    translator: ITranslator | null
  ): void => {
    if (!statusBar) {
      return;
    }
    const item = new OidcStatus({
      model,
      translator,
      onOpen: () => void app.commands.execute(CommandIDs.openPanel).catch(() => undefined)
    });
    statusBar.registerStatusItem('jupyterlab-oidc:status', {
      item,
      align: 'left',
      rank: 900,
      isActive: () => item.shouldShow(),
      activeStateChanged: item.activeStateChanged
    });
  }
};

/** Sign in, sign out, refresh, copy token, insert snippet; palette entries. */
const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-oidc:commands',
  description: 'Adds the OpenID Connect commands and their command palette entries.',
  autoStart: true,
  requires: [IOidcSession],
  optional: [ITranslator, ICommandPalette, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    model: IOidcSession,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null
  ): void => {
    const trans = loadTranslation(translator);
    addCommands(app.commands, { model, trans, notebooks });
    if (palette) {
      addToPalette(palette, trans);
    }
  }
};

/** The `jupyterlab-oidc` comm on every notebook's and console's kernel, across restarts. */
const kernelBridgePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-oidc:kernel-bridge',
  description:
    'Answers token requests of notebook and console kernels and pushes token updates to them.',
  autoStart: true,
  requires: [IOidcSession],
  optional: [INotebookTracker, IConsoleTracker],
  activate: (
    app: JupyterFrontEnd,
    session: IOidcSession,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null
  ): void => {
    const bridge = new KernelBridge({ session, server: session });
    for (const tracker of [notebooks, consoles]) {
      if (tracker) {
        bridge.follow(tracker);
      }
    }
    session.disposed.connect(() => bridge.dispose());
  }
};

export default [sessionPlugin, sidebarPlugin, statusPlugin, commandsPlugin, kernelBridgePlugin];
