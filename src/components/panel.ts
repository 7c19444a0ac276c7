/**
 * The sidebar panel: a JupyterLab `SidePanel` with a header, a toolbar (reload the status,
 * the settings) and the content (`body.tsx`). The same in JupyterLab and Notebook 7.
 */
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { refreshIcon, settingsIcon, SidePanel, ToolbarButton } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Panel, Widget } from '@lumino/widgets';

import { loadTranslation } from '../errors';
import { keyIcon } from '../icons';
import { IOidcSession } from '../tokens';
import { IPanelActions, panelActions } from './actions';
import { OidcPanelBody } from './body';

/** The id of the panel (ILayoutRestorer, `shell.activateById`, UI tests). */
export const PANEL_ID = 'jp-oidc-panel';

/** The sidebar panel of jupyterlab-oidc. */
export class OidcPanel extends SidePanel {
  constructor(options: OidcPanel.IOptions) {
    super({ content: new Panel(), translator: options.translator ?? undefined });
    const trans = loadTranslation(options.translator);
    this._model = options.model;
    const actions = { ...panelActions(options.model, trans), ...options.actions };
    this.id = PANEL_ID;
    this.addClass('jp-oidc-panel');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('OpenID Connect sign-in'));
    this.title.icon = keyIcon;
    this.title.caption = trans.__('OpenID Connect sign-in');
    this.header.addWidget(Private.header(trans));
    this.toolbar.addItem(
      'reload',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__('Reload the sign-in status from the Jupyter server'),
        onClick: () => actions.retry()
      })
    );
    if (options.openSettings) {
      const open = options.openSettings;
      this.toolbar.addItem(
        'settings',
        new ToolbarButton({
          icon: settingsIcon,
          tooltip: trans.__('Sign-in settings'),
          onClick: open
        })
      );
    }
    this.addWidget(new OidcPanelBody({ model: options.model, trans, actions }));
  }

  /** The model this panel renders. */
  get model(): IOidcSession {
    return this._model;
  }

  /** Focus the email field when empty, else the first control. */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    const email = this.node.querySelector<HTMLInputElement>('#jp-oidc-email');
    const target =
      email && !email.value
        ? email
        : this.node.querySelector<HTMLElement>(
            '.jp-oidc-body input, .jp-oidc-body select, .jp-oidc-body button'
          );
    (target ?? this.node).focus();
  }

  private _model: IOidcSession;
}

/** The option types of `OidcPanel`. */
export namespace OidcPanel {
  export interface IOptions {
    model: IOidcSession;
    translator?: ITranslator | null;
    /** Opens the settings of jupyterlab-oidc (a toolbar button when given). */
    openSettings?: () => void;
    /** Replace actions (tests). */
    actions?: Partial<IPanelActions>;
  }
}

namespace Private {
  /** "OPENID CONNECT" with the key, like JupyterLab's own side panels. */
  export function header(trans: TranslationBundle): Widget {
    const node = document.createElement('header');
    node.className = 'jp-oidc-header';
    const icon = document.createElement('span');
    icon.className = 'jp-oidc-header-icon';
    keyIcon.element({ container: icon });
    const title = document.createElement('h2');
    title.className = 'jp-oidc-title';
    title.textContent = trans.__('OpenID Connect');
    node.append(icon, title);
    return new Widget({ node });
  }
}
