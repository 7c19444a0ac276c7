/**
 * The step reports of the id_token check (`tokencheck.ts`): the steps and their titles, the
 * log that collects them (skipping what a failed step leaves unchecked), and the claim steps,
 * which need the decoded payload only. jose's verification stays in `tokencheck.ts`.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import type { JWTPayload } from 'jose';

/** The steps, in order. */
export type CheckStepName =
  | 'structure'
  | 'discovery'
  | 'jwks'
  | 'key'
  | 'signature'
  | 'iss'
  | 'aud'
  | 'exp'
  | 'iat'
  | 'nbf'
  | 'nonce';

/** `skip`: an earlier step this one needs failed. */
export type CheckOutcome = 'pass' | 'fail' | 'skip';

/** One step of the check. */
export interface ICheckStep {
  readonly name: CheckStepName;
  readonly outcome: CheckOutcome;
  /** What was checked, for humans. */
  readonly title: string;
  /** What was found. */
  readonly detail: string;
}

/** The whole check. */
export interface ITokenCheckReport {
  /** True only when every step passed. */
  readonly valid: boolean;
  readonly steps: ReadonlyArray<ICheckStep>;
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  /** SHA-256 JWK thumbprint (RFC 7638) of the key that signed the token. */
  readonly thumbprint: string | null;
}

/** The steps of one check, as they are recorded. */
export interface IStepLog {
  /** Record a step. */
  add: (name: CheckStepName, outcome: CheckOutcome, title: string, detail: string) => void;
  /** Each step's title. */
  titles: Record<CheckStepName, string>;
  /** Skip `from` and every step after it, for `reason`. */
  skipRest: (from: CheckStepName, reason: string) => void;
  /** The report of the steps so far. */
  finish: (extra?: Partial<ITokenCheckReport>) => ITokenCheckReport;
}

/** An empty log of steps. */
export function stepLog(trans: TranslationBundle): IStepLog {
  const steps: ICheckStep[] = [];
  const add = (name: CheckStepName, outcome: CheckOutcome, title: string, detail: string) =>
    steps.push({ name, outcome, title, detail });
  const titles = stepTitles(trans);
  const skipRest = (from: CheckStepName, reason: string) => {
    for (const name of ORDER.slice(ORDER.indexOf(from))) {
      add(name, 'skip', titles[name], reason);
    }
  };
  const finish = (extra: Partial<ITokenCheckReport> = {}): ITokenCheckReport => ({
    valid: steps.length > 0 && steps.every(step => step.outcome === 'pass'),
    steps,
    header: {},
    payload: {},
    thumbprint: null,
    ...extra
  });
  return { add, titles, skipRest, finish };
}

/** The claim steps (iss, aud, exp, iat, nbf, nonce) of `payload`, into `log`. */
export function checkClaims(
  payload: JWTPayload,
  options: { issuer: string; clientId: string; now: number; leeway: number },
  log: IStepLog,
  trans: TranslationBundle
): void {
  const { add, titles } = log;
  const { now, leeway } = options;
  const seconds = Math.floor(now / 1000);
  add(
    'iss',
    payload.iss === options.issuer ? 'pass' : 'fail',
    titles.iss,
    payload.iss === options.issuer
      ? String(payload.iss)
      : trans.__('%1, expected %2', String(payload.iss ?? '-'), options.issuer)
  );
  const audiences =
    typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
  const azp = typeof payload.azp === 'string' ? payload.azp : '';
  if (!audiences.includes(options.clientId)) {
    add(
      'aud',
      'fail',
      titles.aud,
      trans.__(
        '%1 does not contain the client id %2',
        audiences.join(', ') || '-',
        options.clientId
      )
    );
  } else if (audiences.length > 1 && azp !== options.clientId) {
    add(
      'aud',
      'fail',
      titles.aud,
      trans.__('Several audiences, but azp is %1 instead of %2', azp || '-', options.clientId)
    );
  } else {
    add('aud', 'pass', titles.aud, audiences.join(', ') + (azp ? ` · azp ${azp}` : ''));
  }
  if (typeof payload.exp !== 'number') {
    add('exp', 'fail', titles.exp, trans.__('missing'));
  } else if (payload.exp + leeway < seconds) {
    add(
      'exp',
      'fail',
      titles.exp,
      trans.__(
        'Expired %1 s ago (%2). An id_token proves the sign-in; refreshes do not always renew it.',
        seconds - payload.exp,
        time(payload.exp)
      )
    );
  } else {
    add(
      'exp',
      'pass',
      titles.exp,
      trans.__('Valid for %1 s more (%2)', payload.exp - seconds, time(payload.exp))
    );
  }
  if (typeof payload.iat !== 'number') {
    add('iat', 'fail', titles.iat, trans.__('missing'));
  } else if (payload.iat - leeway > seconds) {
    add(
      'iat',
      'fail',
      titles.iat,
      trans.__('Issued in the future (%1): check the clocks.', time(payload.iat))
    );
  } else {
    add('iat', 'pass', titles.iat, time(payload.iat));
  }
  if (payload.nbf === undefined) {
    add('nbf', 'pass', titles.nbf, trans.__('not set'));
  } else if (typeof payload.nbf !== 'number' || payload.nbf - leeway > seconds) {
    add(
      'nbf',
      'fail',
      titles.nbf,
      trans.__(
        'Not valid before %1',
        typeof payload.nbf === 'number' ? time(payload.nbf) : String(payload.nbf)
      )
    );
  } else {
    add('nbf', 'pass', titles.nbf, time(payload.nbf));
  }
  add(
    'nonce',
    typeof payload.nonce === 'string' && payload.nonce ? 'pass' : 'fail',
    titles.nonce,
    typeof payload.nonce === 'string' && payload.nonce
      ? trans.__('Present; the server matched it against the nonce of the sign-in.')
      : trans.__('missing: the token cannot be tied to a sign-in')
  );
}

const ORDER: ReadonlyArray<CheckStepName> = [
  'structure',
  'discovery',
  'jwks',
  'key',
  'signature',
  'iss',
  'aud',
  'exp',
  'iat',
  'nbf',
  'nonce'
];

function stepTitles(trans: TranslationBundle): Record<CheckStepName, string> {
  return {
    structure: trans.__('Structure (header and payload)'),
    discovery: trans.__('Discovery document'),
    jwks: trans.__('Provider keys (JWKS)'),
    key: trans.__('Signing key'),
    signature: trans.__('Signature'),
    iss: trans.__('Issuer (iss)'),
    aud: trans.__('Audience (aud, azp)'),
    exp: trans.__('Expiry (exp)'),
    iat: trans.__('Issued at (iat)'),
    nbf: trans.__('Not before (nbf)'),
    nonce: trans.__('Nonce')
  };
}

function time(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}
