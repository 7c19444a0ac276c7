/**
 * The comm messages (`protocol.ts`): what a kernel may send, what the frontend answers.
 */
import * as Protocol from '../../src/bridge/protocol';
import { TOKEN } from './fakes';

describe('Protocol', () => {
  describe('#parseRequest', () => {
    it('should read a token_request, null names and the force flag', () => {
      expect(
        Protocol.parseRequest({
          v: 1,
          type: 'token_request',
          id: 'a',
          environment: '',
          min_valid: 0
        })
      ).toEqual({
        type: 'token_request',
        id: 'a',
        environment: null,
        application: null,
        min_valid: 0,
        force: false
      });
    });

    it.each([
      ['min_valid', { min_valid: -1 }],
      ['min_valid', { min_valid: 'soon' }],
      ['environment', { environment: 3 }],
      ['application', { application: ['x'] }]
    ])('should refuse a bad %s with the request id', (_name, fields) => {
      expect(() =>
        Protocol.parseRequest({ v: 1, type: 'token_request', id: 'a', ...fields })
      ).toThrow(expect.objectContaining({ id: 'a', ignore: false }));
    });

    it.each(Protocol.CALLABLE.map(route => [route]))('should accept a call to %s', route => {
      const [method, path] = route.split(' ');
      expect(Protocol.parseRequest({ v: 1, type: 'call', id: 'c', method, path })).toMatchObject({
        method,
        path,
        body: {}
      });
    });

    it.each([
      ['DELETE', 'logout'],
      ['GET', 'token'],
      ['POST', 'kernel/token'],
      ['POST', '../api/kernels'],
      ['POST', 'login?x=1']
    ])('should refuse a call to %s %s', (method, path) => {
      expect(() => Protocol.parseRequest({ v: 1, type: 'call', id: 'c', method, path })).toThrow(
        expect.objectContaining({ id: 'c', ignore: false })
      );
    });
  });

  describe('#tokenUpdate', () => {
    it('should never carry a token on sign_out', () => {
      expect(Protocol.tokenUpdate('sign_out', 'prod', null, TOKEN)).toMatchObject({ token: null });
    });
  });

  describe('FRONTEND', () => {
    it('should name the package version', () => {
      const { name, version } = require('../../package.json');
      expect(Protocol.FRONTEND).toBe(`${name} ${version}`);
    });
  });
});
