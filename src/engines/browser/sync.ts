/**
 * Tab sync of the browser engine: this tab's sessions, announced to the site's other tabs
 * and taken from them over the sessions channel (see `tabs.ts`). The newest record wins: a
 * later sign-in, or the same sign-in's later refresh (`generation`).
 */
import { IChannel, isTabMessage, ISessionRecord, TabMessage } from './tabs';

/** This tab's sessions, kept in step with the other tabs'. */
export class TabSessions {
  constructor(options: TabSessions.IOptions) {
    this._options = options;
    this._sessions = options.sessions;
    this._channel = options.channel;
    this._channel.addEventListener('message', this._onMessage);
  }

  /** Ask the open tabs for their sessions. */
  hello(): void {
    this._channel.postMessage({ t: 'hello' } satisfies TabMessage);
  }

  /** Keep `record` (and tell the other tabs when `announce`). */
  store(record: ISessionRecord, announce: boolean): void {
    this._sessions.set(record.key, record);
    this._options.stored(record);
    if (announce) {
      this._channel.postMessage({ t: 'session', session: record } satisfies TabMessage);
    }
    this._options.changed();
  }

  /** Drop the session `key` (and tell the other tabs when `announce`). */
  forget(key: string, announce: boolean): void {
    const session = this._sessions.get(key);
    this._options.forgotten(key);
    if (!session) {
      return;
    }
    this._sessions.delete(key);
    if (announce) {
      this._channel.postMessage({
        t: 'ended',
        key,
        signed_in_at: session.signed_in_at
      } satisfies TabMessage);
    }
    this._options.changed();
  }

  /** Stop listening, and close the channel. */
  dispose(): void {
    this._channel.removeEventListener('message', this._onMessage);
    this._channel.close();
  }

  private _onMessage = (event: MessageEvent): void => {
    const message: unknown = event.data;
    if (!isTabMessage(message) || this._options.isDisposed()) {
      return;
    }
    if (message.t === 'hello') {
      if (this._sessions.size) {
        this._channel.postMessage({
          t: 'sync',
          sessions: [...this._sessions.values()]
        } satisfies TabMessage);
      }
    } else if (message.t === 'ended') {
      const mine = this._sessions.get(message.key);
      if (mine && mine.signed_in_at <= message.signed_in_at) {
        this.forget(message.key, false);
      }
    } else {
      for (const record of message.t === 'sync' ? message.sessions : [message.session]) {
        const mine = this._sessions.get(record.key);
        const newer =
          !mine ||
          record.signed_in_at > mine.signed_in_at ||
          (record.signed_in_at === mine.signed_in_at && record.generation > mine.generation);
        if (newer && this._options.knows(record.environment)) {
          this.store(record, false);
        }
      }
    }
  };

  private _options: TabSessions.IOptions;
  private _sessions: Map<string, ISessionRecord>;
  private _channel: IChannel;
}

/** The option types of `TabSessions`. */
export namespace TabSessions {
  export interface IOptions {
    /** The sessions channel. */
    channel: IChannel;
    /** The sessions by key (the engine's own map). */
    sessions: Map<string, ISessionRecord>;
    /** Whether `environment` is one of this page's. */
    knows: (environment: string) => boolean;
    /** A record was kept: schedule its refresh. */
    stored: (record: ISessionRecord) => void;
    /** The session `key` ends (or had none): cancel its refresh. */
    forgotten: (key: string) => void;
    /** The sessions changed. */
    changed: () => void;
    isDisposed: () => boolean;
  }
}
