import schema from '../schema/plugin.json';
import { DEFAULT_PREFERENCES, OidcPreferences } from '../src/preferences';
import { FakeSettings } from './utils';

describe('OidcPreferences', () => {
  describe('#constructor', () => {
    it('should start with the schema defaults', () => {
      const preferences = new OidcPreferences();
      expect(preferences.values).toEqual(DEFAULT_PREFERENCES);
      expect(preferences.isLoaded).toBe(false);
    });

    it('should use the same defaults as schema/plugin.json', () => {
      const defaults = Object.fromEntries(
        Object.entries(schema.properties).map(([key, value]) => [
          key,
          (value as { default: unknown }).default
        ])
      );
      expect(defaults).toEqual(DEFAULT_PREFERENCES);
    });
  });

  describe('#attach', () => {
    it('should read the values of the settings', () => {
      const preferences = new OidcPreferences();
      preferences.attach(
        new FakeSettings({
          defaultEnvironment: 'dev',
          lastEmail: 'a@b.c',
          showStatusBar: 'always',
          openMode: 'popup'
        }).asSettings()
      );
      expect(preferences.values).toEqual({
        defaultEnvironment: 'dev',
        lastEmail: 'a@b.c',
        showStatusBar: 'always',
        openMode: 'popup'
      });
      expect(preferences.isLoaded).toBe(true);
    });

    it('should apply changes without a reload and emit changed', () => {
      const preferences = new OidcPreferences();
      const settings = new FakeSettings({ ...DEFAULT_PREFERENCES });
      preferences.attach(settings.asSettings());
      const changed = jest.fn();
      preferences.changed.connect(changed);
      settings.update({ showStatusBar: 'never' });
      expect(preferences.showStatusBar).toBe('never');
      expect(changed).toHaveBeenCalledTimes(1);
      settings.update({ showStatusBar: 'never' });
      expect(changed).toHaveBeenCalledTimes(1);
    });

    it('should fall back to defaults for values of the wrong kind', () => {
      const preferences = new OidcPreferences();
      preferences.attach(
        new FakeSettings({ showStatusBar: 'sometimes', openMode: 3 }).asSettings()
      );
      expect(preferences.showStatusBar).toBe('signed-in');
      expect(preferences.openMode).toBe('tab');
    });
  });

  describe('#setLastEmail', () => {
    it('should write lastEmail to the settings', async () => {
      const preferences = new OidcPreferences();
      const settings = new FakeSettings({ ...DEFAULT_PREFERENCES });
      preferences.attach(settings.asSettings());
      await preferences.setLastEmail(' alice@corp.com ');
      expect(settings.set).toHaveBeenCalledWith('lastEmail', 'alice@corp.com');
      expect(preferences.lastEmail).toBe('alice@corp.com');
    });

    it('should not write an unchanged email', async () => {
      const preferences = new OidcPreferences();
      const settings = new FakeSettings({ ...DEFAULT_PREFERENCES, lastEmail: 'a@b.c' });
      preferences.attach(settings.asSettings());
      await preferences.setLastEmail('a@b.c');
      expect(settings.set).not.toHaveBeenCalled();
    });

    it('should keep the email in memory without settings', async () => {
      const preferences = new OidcPreferences();
      await preferences.setLastEmail('a@b.c');
      expect(preferences.lastEmail).toBe('a@b.c');
    });
  });

  describe('#dispose', () => {
    it('should stop following the settings', () => {
      const preferences = new OidcPreferences();
      const settings = new FakeSettings({});
      preferences.attach(settings.asSettings());
      preferences.dispose();
      preferences.dispose();
      settings.update({ openMode: 'popup' });
      expect(preferences.isDisposed).toBe(true);
      expect(preferences.openMode).toBe('tab');
    });
  });
});
