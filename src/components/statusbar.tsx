/**
 * The status bar item: "alice@corp.com · prod · 54 min". Click (or Enter/Space) opens the
 * panel. Shown per the `showStatusBar` setting: while signed in (default), always, never.
 *
 * A `VDomRenderer` on `OidcStatus.Model`, a `VDomModel` that follows the session model and
 * changes (and so re-renders the item) only when the text does.
 */
import { TextItem } from '@jupyterlab/statusbar';
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { VDomModel, VDomRenderer } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { loadTranslation } from '../errors';
import { formatClock, formatRemaining } from '../format';
import { IOidcSession } from '../tokens';

/** The id of the status bar item's node (UI tests). */
export const STATUS_ID = 'jp-oidc-status';

/** The status bar item of jupyterlab-oidc. */
export class OidcStatus extends VDomRenderer<OidcStatus.Model> {
  constructor(options: OidcStatus.IOptions) {
    super(new OidcStatus.Model(options.model, loadTranslation(options.translator)));
    this._onOpen = options.onOpen;
    this.id = STATUS_ID;
    this.addClass('jp-oidc-status');
    this.node.dataset.test = 'oidc-status';
    this.node.setAttribute('role', 'button');
    this.node.tabIndex = 0;
    this.node.addEventListener('click', this);
    this.node.addEventListener('keydown', this);
    this.model.stateChanged.connect(this._describe, this);
    this._describe();
  }

  /** Emitted when the item should be shown or hidden (the status bar's `activeStateChanged`). */
  get activeStateChanged(): ISignal<this, void> {
    return this._activeStateChanged;
  }

  /** Whether the item should show now (the status bar's `isActive`). */
  shouldShow(): boolean {
    return this.model.visible;
  }

  /** The text shown. */
  get text(): string {
    return this.model.text;
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
    const model = this.model;
    super.dispose();
    model.dispose();
    Signal.clearData(this);
  }

  protected render(): JSX.Element {
    return <TextItem source={this.model.text} />;
  }

  /** Title, label and state live on the item's node (the status bar shows the node). */
  private _describe(): void {
    const { title, state, visible } = this.model;
    this.node.title = title;
    this.node.setAttribute('aria-label', title);
    this.node.dataset.state = state;
    if (visible !== this._visible) {
      this._visible = visible;
      this._activeStateChanged.emit();
    }
  }

  private _onOpen: () => void;
  private _visible: boolean | null = null;
  private _activeStateChanged = new Signal<this, void>(this);
}

/** The option types and the model of `OidcStatus`. */
export namespace OidcStatus {
  export interface IOptions {
    model: IOidcSession;
    /** Opens the sign-in panel. */
    onOpen: () => void;
    translator?: ITranslator | null;
  }

  /** What the item shows; `stateChanged` only when it changes. */
  export class Model extends VDomModel {
    constructor(session: IOidcSession, trans: TranslationBundle) {
      super();
      this._session = session;
      this._trans = trans;
      session.stateChanged.connect(this._refresh, this);
      session.ticked.connect(this._refresh, this);
      session.preferences.changed.connect(this._refresh, this);
      this._refresh();
    }

    /** "alice@corp.com · prod · 54 min". */
    get text(): string {
      return this._view.text;
    }

    /** The tooltip and accessible name. */
    get title(): string {
      return this._view.title;
    }

    /** `signed-in`, `expired`, `pending`, `checking` or `signed-out`. */
    get state(): string {
      return this._view.state;
    }

    /** Whether the item should show, per the `showStatusBar` setting. */
    get visible(): boolean {
      return this._view.visible;
    }

    dispose(): void {
      if (this.isDisposed) {
        return;
      }
      this._session.stateChanged.disconnect(this._refresh, this);
      this._session.ticked.disconnect(this._refresh, this);
      this._session.preferences.changed.disconnect(this._refresh, this);
      super.dispose();
    }

    private _refresh(): void {
      const next = Private.describe(this._session, this._trans);
      const view = this._view;
      if (
        next.text !== view.text ||
        next.title !== view.title ||
        next.state !== view.state ||
        next.visible !== view.visible
      ) {
        this._view = next;
        this.stateChanged.emit();
      }
    }

    private _session: IOidcSession;
    private _trans: TranslationBundle;
    private _view: Private.IView = { text: '', title: '', state: '', visible: false };
  }
}

namespace Private {
  export interface IView {
    text: string;
    title: string;
    state: string;
    visible: boolean;
  }

  export function describe(model: IOidcSession, trans: TranslationBundle): IView {
    return { ...describeState(model, trans), visible: shouldShow(model) };
  }

  function shouldShow(model: IOidcSession): boolean {
    switch (model.preferences.showStatusBar) {
      case 'always':
        return true;
      case 'never':
        return false;
      default:
        return model.sessions.length > 0 || model.pending.length > 0;
    }
  }

  function describeState(model: IOidcSession, trans: TranslationBundle): Omit<IView, 'visible'> {
    const session = model.findSession();
    if (session) {
      const left = model.secondsLeft(session.expiresAt);
      const who = session.email || session.name || session.sub;
      const where = session.application
        ? `${session.environment}/${session.application}`
        : session.environment;
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
        text: trans.__(
          'Signing in to %1… %2',
          pending.environment,
          formatClock(model.secondsLeft(pending.expiresAt))
        ),
        title: trans.__(
          'A sign-in to %1 is waiting for the provider. Click to open the sign-in panel.',
          pending.environment
        ),
        state: 'pending'
      };
    }
    if (model.phase === 'checking') {
      return {
        text: trans.__('OIDC…'),
        title: trans.__('Checking sign-in status…'),
        state: 'checking'
      };
    }
    return {
      text: trans.__('Sign in'),
      title: trans.__('Not signed in. Click to open the sign-in panel.'),
      state: 'signed-out'
    };
  }
}
