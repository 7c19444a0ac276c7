/**
 * A sign-in panel on a session model with a fake REST client, for the component specs:
 * the model, the panel, its actions as mocks, selectors, and steps run under act().
 */
import { act } from 'react';

import { IPanelActions } from '../../src/components/actions';
import { OidcPanel } from '../../src/components/panel';
import { OidcSessionModel } from '../../src/model';
import { OidcPreferences } from '../../src/preferences';
import { attachAndRender, FakeAPI, flushPromises, NOW_S, rerender } from '../utils';

export type MockActions = { [K in keyof IPanelActions]: jest.Mock };

/** Actions that record their calls; `confirmSignOut` says yes. */
export function mockActions(): MockActions {
  return {
    signIn: jest.fn(),
    cancel: jest.fn(),
    confirmSignOut: jest.fn(async () => true),
    signOut: jest.fn(async () => undefined),
    refresh: jest.fn(async () => undefined),
    copyToken: jest.fn(async () => undefined),
    retry: jest.fn(),
    showTokenCheck: jest.fn(),
    showPreflight: jest.fn()
  };
}

/** Set a controlled input's value the way React notices it. */
export function typeInto(input: HTMLInputElement | HTMLSelectElement, value: string): void {
  const proto =
    input instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(input, value);
  input.dispatchEvent(
    new Event(input instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true })
  );
}

/** Click under act(). */
export async function click(node: HTMLElement | null): Promise<void> {
  expect(node).not.toBeNull();
  await act(async () => node!.click());
}

/** One panel per test: create it in `beforeEach`, `dispose()` it in `afterEach`. */
export class PanelHarness {
  constructor() {
    jest.useFakeTimers({ now: NOW_S * 1000 });
    this.api = new FakeAPI();
    this.preferences = new OidcPreferences();
    this.model = new OidcSessionModel({ api: this.api, preferences: this.preferences });
    this.actions = mockActions();
    this.panel = new OidcPanel({ model: this.model, actions: this.actions });
  }

  readonly api: FakeAPI;
  readonly preferences: OidcPreferences;
  readonly model: OidcSessionModel;
  readonly actions: MockActions;
  readonly panel: OidcPanel;

  $<T extends HTMLElement = HTMLElement>(selector: string): T | null {
    return this.panel.node.querySelector<T>(selector);
  }

  $$(selector: string): HTMLElement[] {
    return Array.from(this.panel.node.querySelectorAll<HTMLElement>(selector));
  }

  /** Change the model inside act(), as the long poll or a click would, and re-render. */
  async step(change: () => unknown): Promise<void> {
    await act(async () => {
      await change();
      await flushPromises(10);
    });
    await this.rerender();
  }

  /** Render the panel's content now (its posted update requests, under act()). */
  async rerender(): Promise<void> {
    if (this.panel.isDisposed) {
      return;
    }
    for (const widget of this.panel.widgets) {
      await rerender(widget);
    }
  }

  /** Let the clock run `ms` under act(). */
  async tick(ms: number): Promise<void> {
    await act(async () => {
      jest.advanceTimersByTime(ms);
    });
  }

  /** The server answered; the panel is attached and rendered. */
  async ready(): Promise<void> {
    await this.step(() => this.model.refresh());
    await attachAndRender(this.panel);
  }

  dispose(): void {
    act(() => this.panel.dispose());
    this.model.dispose();
    jest.useRealTimers();
  }
}
