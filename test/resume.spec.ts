import { RESUME_KEY, SignInMemory } from '../src/resume';

describe('SignInMemory', () => {
  afterEach(() => sessionStorage.clear());

  describe('#remember', () => {
    it('should keep only the state and the environment, in sessionStorage', () => {
      new SignInMemory().remember('s1', 'prod');
      expect(JSON.parse(sessionStorage.getItem(RESUME_KEY)!)).toEqual([
        { state: 's1', environment: 'prod' }
      ]);
      expect(new SignInMemory().has('s1')).toBe(true);
    });
  });

  describe('#forget', () => {
    it('should drop one sign-in, and the key with the last', () => {
      const memory = new SignInMemory();
      memory.remember('s1', 'prod');
      memory.remember('s2', 'dev');
      memory.forget('s1');
      expect(memory.list()).toEqual([{ state: 's2', environment: 'dev' }]);
      memory.forget('s2');
      expect(sessionStorage.getItem(RESUME_KEY)).toBeNull();
    });
  });

  describe('#keepOnly', () => {
    it('should forget the sign-ins the server no longer waits for', () => {
      const memory = new SignInMemory();
      memory.remember('s1', 'prod');
      memory.remember('s2', 'dev');
      memory.keepOnly(['s2', 's3']);
      expect(memory.list().map(e => e.state)).toEqual(['s2']);
    });
  });

  describe('#list', () => {
    it('should ignore what it cannot read', () => {
      sessionStorage.setItem(RESUME_KEY, '{not json');
      expect(new SignInMemory().list()).toEqual([]);
      sessionStorage.setItem(
        RESUME_KEY,
        JSON.stringify([{ state: 1 }, { state: 's', environment: 'prod', token: 'x' }])
      );
      expect(new SignInMemory().list()).toEqual([{ state: 's', environment: 'prod' }]);
    });

    it('should work without storage (disabled by the browser)', () => {
      const memory = new SignInMemory(null);
      memory.remember('s1', 'prod');
      expect(memory.list()).toEqual([]);
    });
  });
});
