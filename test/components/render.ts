/**
 * Render a React element in a widget under act(), and wait for what it fetches.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import { act } from 'react';

import { attachAndRender, flushPromises } from '../utils';

/** A mounted element: its node, and `unmount()`. */
export interface IMounted {
  node: HTMLElement;
  unmount(): void;
}

export async function mount(element: JSX.Element): Promise<IMounted> {
  const widget = ReactWidget.create(element);
  await attachAndRender(widget);
  await settle();
  return { node: widget.node, unmount: () => act(() => widget.dispose()) };
}

/** Let pending promises and renders finish under act(). */
export async function settle(): Promise<void> {
  await act(async () => {
    await flushPromises(10);
  });
}
