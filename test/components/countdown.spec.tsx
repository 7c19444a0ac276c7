import { act } from 'react';

import { OidcPanelBody } from '../../src/components/body';
import { sessionInfo, statusReply } from '../utils';
import { PanelHarness } from './harness';

describe('Countdown', () => {
  let h: PanelHarness;

  beforeEach(() => {
    h = new PanelHarness();
  });

  afterEach(() => h.dispose());

  it('should re-render alone each second: the panel renders on state changes only', async () => {
    h.api.statusReply = statusReply({ sessions: [sessionInfo({ expires_in: 65 })] });
    await h.ready();
    const body = h.panel.widgets[0] as OidcPanelBody;
    const render = jest.spyOn(body as unknown as { render: () => JSX.Element }, 'render');
    const card = h.$('[data-test="oidc-card"]');
    await h.tick(3000);
    await act(async () => undefined);
    expect(h.$('[data-test="oidc-card-expiry"]')?.textContent).toBe('expires in 1:02');
    expect(render).not.toHaveBeenCalled();
    expect(h.$('[data-test="oidc-card"]')).toBe(card); // same nodes, only the text changed
  });

  it('should stop listening to the clock when unmounted', async () => {
    h.api.statusReply = statusReply({ sessions: [sessionInfo()] });
    await h.ready();
    await h.step(() => h.model.signOut({ environment: 'prod' }));
    await h.tick(2000);
    expect(h.$('[data-test="oidc-card-expiry"]')).toBeNull();
  });
});
