/**
 * The status bar item: "alice@corp.com · prod · 54 min". Click (or Enter/Space) opens the
 * panel. Shown per the `showStatusBar` setting: while signed in (default), always, never.
 */
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { loadTranslation } from './errors';
import { formatClock, formatRemaining } from './format';
import { IOidcSession } from './tokens';

/** The id of the status bar item's node (UI tests). */
export const STATUS_ID = 'jp-oidc-status';

/** The status bar item of jupyterlab-oidc. */
export class OidcStatus extends Widget {
  constructor(options: OidcStatus.IOptions) {
    super({ node: document.createElement('div') });
    this._model = options.model;
    this._trans = loadTranslation(options.translator);
    this._onOpen = options.onOpen;
    this.id = STATUS_ID;
    this.addClass('jp-oidc-status');
    this.node.dataset.test = 'oidc-status';
    this.node.setAttribute('role', 'button');
    this.node.tabIndex = 0;
    this.node.addEventListener('click', this);
    this.node.addEventListener('keydown', this);
    this._model.stateChanged.connect(this._refresh, this);
    this._model.ticked.connect(this._refresh, this);
    this._model.preferences.changed.connect(this._refresh, this);
    this._refresh();
  }

  /** Emitted when the item should be shown or hidden (the status bar's `activeStateChanged`). */
  get activeStateChanged(): ISignal<this, void> {
    return this._activeStateChanged;
  }

  /** Whether the item should show now (the status bar's `isActive`). */
  shouldShow(): boolean {
    switch (this._model.preferences.showStatusBar) {
      case 'always':
        return true;
      case 'never':
        return false;
      default:
        return this._model.sessions.length > 0 || this._model.pending.length > 0;
    }
  }

  /** The text shown. */
  get text(): string {
    return this.node.textContent ?? '';
  }

  handleEvent(event: Event): void {
    if (event.type === 'click') {
      this._onOpen();
    } else if (event.type === 'keydown') {
      const key = (event as KeyboardEvent).key;
      if (key === 'Enter' || key === ' ') {
        event.preventDefault();
        this._onOpen();
      }
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.node.removeEventListener('click', this);
    this.node.removeEventListener('keydown', this);
    this._model.stateChanged.disconnect(this._refresh, this);
    this._model.ticked.disconnect(this._refresh, this);
    this._model.preferences.changed.disconnect(this._refresh, this);
    super.dispose();
    Signal.clearData(this);
  }

  private _refresh(): void {
    const { text, title, state } = this._describe();
    if (this.node.textContent !== text) {
      this.node.textContent = text;
    }
    this.node.title = title;
    this.node.setAttribute('aria-label', title);
    this.node.dataset.state = state;
    const visible = this.shouldShow();
    if (visible !== this._visible) {
      this._visible = visible;
      this._activeStateChanged.emit();
    }
  }

  private _describe(): { text: string; title: string; state: string } {
    const trans = this._trans;
    const model = this._model;
    const session = model.findSession();
    if (session) {
      const left = model.secondsLeft(session.expiresAt);
      const who = session.email || session.name || session.sub;
      const where = session.application ? `${session.environment}/${session.application}` : session.environment;
      const more = model.sessions.length > 1 ? ` (+${model.sessions.length - 1})` : '';
      return {
        text: `${who} · ${where} · ${formatRemaining(left, trans)}${more}`,
        title: trans.__(
          'Signed in to %1 as %2; the access token expires in %3. Click to open the sign-in panel.',
          where,
          who,
          formatRemaining(left, trans)
        ),
        state: left > 0 ? 'signed-in' : 'expired'
      };
    }
    const pending = model.pending[0];
    if (pending) {
      return {
        text: trans.__('Signing in to %1… %2', pending.environment, formatClock(model.secondsLeft(pending.expiresAt))),
        title: trans.__('A sign-in to %1 is waiting for the provider. Click to open the sign-in panel.', pending.environment),
        state: 'pending'
      };
    }
    if (model.phase === 'checking') {
      return { text: trans.__('OIDC…'), title: trans.__('Checking sign-in status…'), state: 'checking' };
    }
    return {
      text: trans.__('Sign in'),
      title: trans.__('Not signed in. Click to open the sign-in panel.'),
      state: 'signed-out'
    };
  }

  private _model: IOidcSession;
  private _trans: TranslationBundle;
  private _onOpen: () => void;
  private _visible: boolean | null = null;
  private _activeStateChanged = new Signal<this, void>(this);
}

/** The option types of `OidcStatus`. */
export namespace OidcStatus {
  export interface IOptions {
    model: IOidcSession;
    /** Opens the sign-in panel. */
    onOpen: () => void;
    translator?: ITranslator | null;
  }
}
