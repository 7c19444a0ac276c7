/**
 * Commands of jupyterlab-oidc: ids, translated labels, argument schemas, palette entries.
 * Each command delegates to the session model or to `actions.ts`.
 */
import type { ICommandPalette } from '@jupyterlab/apputils';
import type { INotebookTracker } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { ReadonlyJSONObject, ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { DisposableSet, IDisposable } from '@lumino/disposable';

import { copyAccessToken, startSignIn } from './actions';
import { keyIcon } from './icons';
import { IOidcSession, ITarget } from './tokens';

/** Command ids of jupyterlab-oidc. */
export namespace CommandIDs {
  export const openPanel = 'oidc:open-panel';
  export const signIn = 'oidc:sign-in';
  export const signOut = 'oidc:sign-out';
  export const refresh = 'oidc:refresh';
  export const copyToken = 'oidc:copy-token';
  export const insertSnippet = 'oidc:insert-snippet';
}

/** The palette category of the commands. */
export function paletteCategory(trans: TranslationBundle): string {
  return trans.__('OpenID Connect');
}

/**
 * A label as the palette shows it: with "(OIDC)", so a palette search for "oidc" matches the
 * label itself, which the palette ranks before every fuzzy or category-only match.
 */
export function paletteLabel(
  args: ReadonlyPartialJSONObject,
  label: string,
  trans: TranslationBundle
): string {
  return args.isPalette ? trans.__('%1 (OIDC)', label) : label;
}

/** Register `oidc:open-panel` (the sidebar plugin owns the panel; schema/plugin.json puts it in the View menu). */
export function addOpenPanelCommand(
  commands: CommandRegistry,
  options: { open: () => void; trans: TranslationBundle }
): IDisposable {
  const { trans } = options;
  return commands.addCommand(CommandIDs.openPanel, {
    // Menus (View) name what it opens; the palette shows it under its category.
    label: args =>
      args.isPalette
        ? paletteLabel(args, trans.__('Open Sign-In Panel'), trans)
        : trans.__('OpenID Connect Sign-In'),
    caption: trans.__('Show the OpenID Connect sign-in panel'),
    icon: args => (args.isPalette ? undefined : keyIcon),
    describedBy: { args: { type: 'object', properties: {} } },
    execute: () => options.open()
  });
}

/** Register the session commands; dispose the answer to remove them. */
export function addCommands(commands: CommandRegistry, options: Commands.IOptions): IDisposable {
  const { model, trans } = options;
  const notebooks = options.notebooks ?? null;
  const set = new DisposableSet();
  const target = (args: ReadonlyPartialJSONObject): ITarget => Private.target(args);
  const hasSession = (args: ReadonlyPartialJSONObject) => model.findSession(target(args)) !== null;
  const name = (args: ReadonlyPartialJSONObject) => Private.name(args, model);

  set.add(
    commands.addCommand(CommandIDs.signIn, {
      label: args =>
        paletteLabel(
          args,
          args.environment
            ? trans.__('Sign In to %1', String(args.environment))
            : trans.__('Sign In…'),
          trans
        ),
      caption: trans.__('Sign in with your OpenID Connect provider in a new tab'),
      describedBy: {
        args: Private.schema({
          loginHint: 'Email of the account to sign in with (default: the last one used).'
        })
      },
      execute: args => {
        const loginHint =
          typeof args.loginHint === 'string' ? args.loginHint : model.preferences.lastEmail;
        if (!loginHint) {
          // Nothing to sign in with: the panel asks for the email.
          return commands.hasCommand(CommandIDs.openPanel)
            ? commands.execute(CommandIDs.openPanel)
            : undefined;
        }
        // The provider window opens now, synchronously; the panel shows the progress.
        const done = startSignIn(model, { ...target(args), loginHint }, trans);
        if (commands.hasCommand(CommandIDs.openPanel)) {
          void commands.execute(CommandIDs.openPanel);
        }
        return done;
      }
    })
  );

  set.add(
    commands.addCommand(CommandIDs.signOut, {
      label: args =>
        paletteLabel(
          args,
          args.environment ? trans.__('Sign Out of %1', name(args)) : trans.__('Sign Out'),
          trans
        ),
      caption: trans.__('Sign out: the Jupyter server revokes and forgets the tokens'),
      describedBy: { args: Private.schema() },
      isEnabled: hasSession,
      execute: args => model.signOut(target(args)).catch(() => undefined)
    })
  );

  set.add(
    commands.addCommand(CommandIDs.refresh, {
      label: args =>
        paletteLabel(
          args,
          args.environment
            ? trans.__('Refresh Access Token for %1', name(args))
            : trans.__('Refresh Access Token'),
          trans
        ),
      caption: trans.__('Get a new access token from the provider now'),
      describedBy: { args: Private.schema() },
      isEnabled: hasSession,
      execute: args => model.refreshSession(target(args)).catch(() => undefined)
    })
  );

  set.add(
    commands.addCommand(CommandIDs.copyToken, {
      label: args =>
        paletteLabel(
          args,
          args.environment
            ? trans.__('Copy Access Token for %1', name(args))
            : trans.__('Copy Access Token'),
          trans
        ),
      caption: trans.__(
        'Copy the access token to the clipboard. It is a secret: anyone who has it can act as you until it expires.'
      ),
      describedBy: { args: Private.schema() },
      isEnabled: hasSession,
      execute: args => copyAccessToken(model, target(args), trans)
    })
  );

  set.add(
    commands.addCommand(CommandIDs.insertSnippet, {
      label: args => paletteLabel(args, trans.__('Insert Access Token Snippet'), trans),
      caption: trans.__('Insert a code cell that gets a fresh access token with get_token()'),
      describedBy: { args: Private.schema() },
      isEnabled: () => notebooks?.currentWidget !== null && notebooks?.currentWidget !== undefined,
      execute: args => {
        const panel = notebooks?.currentWidget;
        const notebook = panel?.content;
        if (!notebook?.model) {
          return;
        }
        const session = model.findSession(target(args));
        const environment =
          Private.text(args.environment) || session?.environment || model.preferredEnvironment;
        const application = Private.text(args.application) || session?.application || '';
        const index = notebook.activeCellIndex + 1;
        notebook.model.sharedModel.insertCell(index, {
          cell_type: 'code',
          source: tokenSnippet(environment, application),
          metadata: {}
        });
        notebook.activeCellIndex = index;
      }
    })
  );

  return set;
}

/** Add every command to the palette, with its palette label (`paletteLabel`). */
export function addToPalette(palette: ICommandPalette, trans: TranslationBundle): IDisposable {
  const category = paletteCategory(trans);
  const set = new DisposableSet();
  for (const command of [
    CommandIDs.openPanel,
    CommandIDs.signIn,
    CommandIDs.signOut,
    CommandIDs.refresh,
    CommandIDs.copyToken,
    CommandIDs.insertSnippet
  ]) {
    set.add(palette.addItem({ command, category, args: { isPalette: true } })); // the "(OIDC)" labels
  }
  return set;
}

/** The "use the token" cell: a fresh token from the kernel helper, never a pasted one. */
export function tokenSnippet(environment: string, application = ''): string {
  const args = [`environment=${Private.pyString(environment)}`];
  if (application) {
    args.push(`application=${Private.pyString(application)}`);
  }
  return [
    'from jupyterlab_oidc import get_token',
    '',
    '# A token valid for at least 60 s; refreshed for you, so call get_token() before each request.',
    `token = get_token(${args.join(', ')})`,
    'headers = {"Authorization": f"{token.token_type} {token.access_token}"}'
  ].join('\n');
}

/** The option types of `addCommands`. */
export namespace Commands {
  export interface IOptions {
    model: IOidcSession;
    trans: TranslationBundle;
    /** For `oidc:insert-snippet` (JupyterLab and Notebook 7). */
    notebooks?: INotebookTracker | null;
  }
}

namespace Private {
  export function text(value: unknown): string {
    return typeof value === 'string' ? value : '';
  }

  export function target(args: ReadonlyPartialJSONObject): ITarget {
    const result: ITarget = {};
    if (text(args.environment)) {
      result.environment = text(args.environment);
    }
    if (typeof args.application === 'string') {
      result.application = args.application || null;
    }
    return result;
  }

  export function name(args: ReadonlyPartialJSONObject, model: IOidcSession): string {
    const environment = text(args.environment);
    const env = model.environments.find(e => e.name === environment);
    const label = env?.display_name || environment;
    return text(args.application) ? `${label} · ${text(args.application)}` : label;
  }

  /** The JSON schema of the arguments: environment, application (+ extra strings). */
  export function schema(extra: Record<string, string> = {}): ReadonlyJSONObject {
    const properties: Record<string, { type: string; description: string }> = {
      environment: {
        type: 'string',
        description: 'Environment name (default: the preferred environment).'
      },
      application: {
        type: 'string',
        description: 'Application (project) within the environment, if any.'
      }
    };
    for (const [key, description] of Object.entries(extra)) {
      properties[key] = { type: 'string', description };
    }
    return { type: 'object', properties };
  }

  /** A Python string literal. */
  export function pyString(value: string): string {
    return JSON.stringify(value);
  }
}
