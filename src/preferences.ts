/**
 * User preferences (schema/plugin.json) as typed values that apply without a reload.
 *
 * Until the setting registry answers (or when it is not available) the schema defaults
 * apply; every change, from the Settings Editor or from `setLastEmail`, emits `changed`.
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

/** The id of the settings of jupyterlab-oidc (schema/plugin.json). */
export const SETTINGS_ID = 'jupyterlab-oidc:plugin';

/** When the status bar item shows. */
export type StatusBarMode = 'signed-in' | 'always' | 'never';

/** How the provider's sign-in page opens. */
export type OpenMode = 'tab' | 'popup';

/** The values of schema/plugin.json. */
export interface IOidcPreferences {
  defaultEnvironment: string;
  lastEmail: string;
  showStatusBar: StatusBarMode;
  openMode: OpenMode;
}

/** The schema defaults (a test keeps them equal to schema/plugin.json). */
export const DEFAULT_PREFERENCES: Readonly<IOidcPreferences> = Object.freeze({
  defaultEnvironment: '',
  lastEmail: '',
  showStatusBar: 'signed-in',
  openMode: 'tab'
});

/** Typed, live view of the jupyterlab-oidc settings. */
export class OidcPreferences implements IDisposable {
  /** Emitted whenever a value changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** All values. */
  get values(): Readonly<IOidcPreferences> {
    return this._values;
  }

  get defaultEnvironment(): string {
    return this._values.defaultEnvironment;
  }

  get lastEmail(): string {
    return this._values.lastEmail;
  }

  get showStatusBar(): StatusBarMode {
    return this._values.showStatusBar;
  }

  get openMode(): OpenMode {
    return this._values.openMode;
  }

  /** Whether the setting registry's values are in (false: schema defaults). */
  get isLoaded(): boolean {
    return this._settings !== null;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Follow `settings` from now on (replaces any earlier settings). */
  attach(settings: ISettingRegistry.ISettings): void {
    this._settings?.changed.disconnect(this._onSettingsChanged, this);
    this._settings = settings;
    settings.changed.connect(this._onSettingsChanged, this);
    this._onSettingsChanged(settings);
  }

  /** Remember the email of the last sign-in (no write when it did not change). */
  async setLastEmail(email: string): Promise<void> {
    const value = email.trim();
    if (value === this._values.lastEmail) {
      return;
    }
    if (this._settings) {
      await this._settings.set('lastEmail', value);
    } else {
      this._update({ ...this._values, lastEmail: value });
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._settings?.changed.disconnect(this._onSettingsChanged, this);
    this._settings = null;
    Signal.clearData(this);
  }

  private _onSettingsChanged(settings: ISettingRegistry.ISettings): void {
    this._update(Private.read(settings.composite as Record<string, unknown>));
  }

  private _update(values: IOidcPreferences): void {
    const old = this._values;
    if (
      old.defaultEnvironment === values.defaultEnvironment &&
      old.lastEmail === values.lastEmail &&
      old.showStatusBar === values.showStatusBar &&
      old.openMode === values.openMode
    ) {
      return;
    }
    this._values = Object.freeze(values);
    this._changed.emit();
  }

  private _values: Readonly<IOidcPreferences> = DEFAULT_PREFERENCES;
  private _settings: ISettingRegistry.ISettings | null = null;
  private _changed = new Signal<this, void>(this);
  private _isDisposed = false;
}

namespace Private {
  const STATUS_BAR_MODES: ReadonlyArray<StatusBarMode> = ['signed-in', 'always', 'never'];
  const OPEN_MODES: ReadonlyArray<OpenMode> = ['tab', 'popup'];

  /** Typed values from a composite; anything of the wrong type falls back to the default. */
  export function read(composite: Record<string, unknown>): IOidcPreferences {
    const text = (name: keyof IOidcPreferences): string => {
      const value = composite[name];
      return typeof value === 'string' ? value.trim() : DEFAULT_PREFERENCES[name];
    };
    const statusBar = text('showStatusBar') as StatusBarMode;
    const openMode = text('openMode') as OpenMode;
    return {
      defaultEnvironment: text('defaultEnvironment'),
      lastEmail: text('lastEmail'),
      showStatusBar: STATUS_BAR_MODES.includes(statusBar)
        ? statusBar
        : DEFAULT_PREFERENCES.showStatusBar,
      openMode: OPEN_MODES.includes(openMode) ? openMode : DEFAULT_PREFERENCES.openMode
    };
  }
}
