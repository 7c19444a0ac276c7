/**
 * The messages of the `jupyterlab-oidc` comm, version 1 (docs/kernel-protocol.md, §5):
 * check what a kernel sends, build what the frontend answers.
 *
 * Pure functions over JSON values, the TypeScript twin of
 * `jupyterlab_oidc/kernel/messages.py`. Fields not listed here are ignored.
 */
import { isRecord } from '../errors';
import {
  COMM_PROTOCOL_VERSION,
  COMM_TARGET,
  MSG_CALL,
  MSG_CALL_REPLY,
  MSG_ERROR,
  MSG_HELLO,
  MSG_READY,
  MSG_TOKEN_REPLY,
  MSG_TOKEN_REQUEST,
  MSG_TOKEN_UPDATE,
  ROUTES,
  UPDATE_REASONS
} from '../generated/contract';

/** The comm target every kernel helper opens (generated from `protocol.py`). */
export const TARGET_NAME = COMM_TARGET;

/** The protocol version this frontend speaks (generated from `protocol.py`). */
export const PROTOCOL_VERSION = COMM_PROTOCOL_VERSION;

/** Who answers, as `ready.frontend` tells the kernel (kept equal to package.json by a test). */
export const FRONTEND = 'jupyterlab-oidc 0.1.0';

/** A route of the server extension (`protocol.py`'s route table). */
export type Route = (typeof ROUTES)[number];

/** REST routes under `{base_url}oidc/` a kernel may ask the frontend to call for it (each one of `ROUTES`). */
export const CALLABLE: ReadonlyArray<`${'GET' | 'POST'} ${Route}`> = [
  'GET environments',
  'GET status',
  'POST login',
  'POST await',
  'POST cancel',
  'POST token',
  'POST refresh',
  'POST logout'
];

/** Codes of `error` messages the frontend raises itself (server codes are forwarded as they came). */
export type BridgeErrorCode = 'invalid_request' | 'unavailable' | 'server_unreachable';

/** Why a `token_update` is sent. */
export type UpdateReason = (typeof UPDATE_REASONS)[number];

/** A token as `POST oidc/token` answers it; passed to kernels untouched. */
export type TokenBody = Record<string, unknown> & { access_token: string; expires_at: number };

/** `hello`: the `comm_open` data. */
export interface IHello {
  readonly v: number;
  readonly type: 'hello';
  /** Protocol versions the kernel speaks. */
  readonly versions: ReadonlyArray<number>;
  readonly package: string;
  readonly kernel: Readonly<Record<string, unknown>>;
}

/** `token_request`: a token valid `min_valid` seconds; `force` refreshes first. */
export interface ITokenRequest {
  readonly type: 'token_request';
  readonly id: string;
  readonly environment: string | null;
  readonly application: string | null;
  readonly min_valid: number | null;
  readonly force: boolean;
}

/** `call`: relay one REST call that needs Jupyter credentials. */
export interface ICall {
  readonly type: 'call';
  readonly id: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** A kernel → frontend request (`comm_msg`). */
export type KernelRequest = ITokenRequest | ICall;

/** A frontend → kernel message. */
export type FrontendMessage =
  | { v: 1; type: 'ready'; frontend: string; subshell: boolean; default_environment?: string }
  | { v: 1; type: 'token_reply'; id: string; token: TokenBody }
  | {
      v: 1;
      type: 'token_update';
      reason: UpdateReason;
      environment: string;
      application: string | null;
      token: TokenBody | null;
    }
  | { v: 1; type: 'call_reply'; id: string; status: number; body: unknown }
  | IErrorMessage;

/** `error`: a request could not be answered (without `id`: informational). */
export interface IErrorMessage {
  readonly v: 1;
  readonly type: 'error';
  readonly id?: string;
  readonly error: string;
  readonly message: string;
  readonly [detail: string]: unknown;
}

/**
 * A message that does not follow the protocol. `ignore` messages (unknown version or
 * type) are dropped; the others are answered with `invalid_request`, to `id` when known.
 */
export class ProtocolError extends Error {
  constructor(message: string, options: { id?: string | null; ignore?: boolean } = {}) {
    super(message);
    this.name = 'ProtocolError';
    this.id = options.id ?? null;
    this.ignore = options.ignore ?? false;
  }

  /** The `id` of the request, when it had a usable one. */
  readonly id: string | null;

  /** Whether the message is dropped without an answer. */
  readonly ignore: boolean;
}

/**
 * Check the `comm_open` data. A kernel that lists version 1 in `versions` is accepted
 * whatever its own `v` (a newer kernel may also speak 1).
 */
export function parseHello(data: unknown): IHello {
  if (!isRecord(data) || data.type !== MSG_HELLO) {
    throw new ProtocolError("the comm_open data is not a 'hello'");
  }
  const versions = Array.isArray(data.versions)
    ? data.versions.filter(isInteger)
    : isInteger(data.v)
      ? [data.v]
      : [];
  if (!versions.includes(PROTOCOL_VERSION)) {
    throw new ProtocolError(
      `the kernel speaks protocol versions [${versions.join(', ')}]; this frontend speaks ${PROTOCOL_VERSION}`
    );
  }
  return {
    v: isInteger(data.v) ? data.v : PROTOCOL_VERSION,
    type: MSG_HELLO,
    versions,
    package: typeof data.package === 'string' ? data.package : '',
    kernel: isRecord(data.kernel) ? data.kernel : {}
  };
}

/** Check a kernel → frontend `comm_msg`; throws `ProtocolError`. */
export function parseRequest(data: unknown): KernelRequest {
  if (!isRecord(data)) {
    throw new ProtocolError('a message is a JSON object', { ignore: true });
  }
  if (data.v !== PROTOCOL_VERSION) {
    throw new ProtocolError(`protocol version ${String(data.v)} is not supported`, {
      ignore: true
    });
  }
  if (data.type !== MSG_TOKEN_REQUEST && data.type !== MSG_CALL) {
    throw new ProtocolError(`unknown message type ${JSON.stringify(data.type)}`, { ignore: true });
  }
  if (typeof data.id !== 'string' || !data.id) {
    throw new ProtocolError(`${data.type} needs an 'id'`);
  }
  const id = data.id;
  return data.type === MSG_TOKEN_REQUEST ? parseTokenRequest(id, data) : parseCall(id, data);
}

function parseTokenRequest(id: string, data: Record<string, unknown>): ITokenRequest {
  const minValid = data.min_valid;
  if (
    minValid !== undefined &&
    minValid !== null &&
    !(typeof minValid === 'number' && Number.isFinite(minValid) && minValid >= 0)
  ) {
    throw new ProtocolError("token_request 'min_valid' must be a number of seconds ≥ 0", { id });
  }
  return {
    type: MSG_TOKEN_REQUEST,
    id,
    environment: optionalName(data.environment, 'environment', id),
    application: optionalName(data.application, 'application', id),
    min_valid: typeof minValid === 'number' ? minValid : null,
    force: data.force === true
  };
}

function parseCall(id: string, data: Record<string, unknown>): ICall {
  const { method, path, body } = data;
  if (
    (method !== 'GET' && method !== 'POST') ||
    typeof path !== 'string' ||
    !(CALLABLE as ReadonlyArray<string>).includes(`${method} ${path}`)
  ) {
    throw new ProtocolError(`${String(method)} oidc/${String(path)} cannot be relayed`, { id });
  }
  if (body !== undefined && body !== null && !isRecord(body)) {
    throw new ProtocolError("call 'body' must be a JSON object", { id });
  }
  return { type: MSG_CALL, id, method, path, body: body ?? {} };
}

function optionalName(value: unknown, name: string, id: string): string | null {
  if (value === undefined || value === null || value === '') {
    return null;
  }
  if (typeof value !== 'string') {
    throw new ProtocolError(`token_request '${name}' must be a string or null`, { id });
  }
  return value;
}

/** Whether `body` is a token a kernel accepts (`access_token`, numeric `expires_at`). */
export function isTokenBody(body: unknown): body is TokenBody {
  return (
    isRecord(body) &&
    typeof body.access_token === 'string' &&
    body.access_token !== '' &&
    typeof body.expires_at === 'number' &&
    Number.isFinite(body.expires_at)
  );
}

/** `ready`: the answer to `hello`, sent once the comm's subshell (if any) has started. */
export function ready(options: {
  subshell: boolean;
  defaultEnvironment?: string;
}): FrontendMessage {
  const message: FrontendMessage = {
    v: 1,
    type: MSG_READY,
    frontend: FRONTEND,
    subshell: options.subshell
  };
  if (options.defaultEnvironment) {
    message.default_environment = options.defaultEnvironment;
  }
  return message;
}

/** `token_reply`: the whole `POST oidc/token` body. */
export function tokenReply(id: string, token: TokenBody): FrontendMessage {
  return { v: 1, type: MSG_TOKEN_REPLY, id, token };
}

/** `token_update`: pushed on sign-in, rotation (`refresh`) and sign-out (`token` null). */
export function tokenUpdate(
  reason: UpdateReason,
  environment: string,
  application: string | null,
  token: TokenBody | null
): FrontendMessage {
  return {
    v: 1,
    type: MSG_TOKEN_UPDATE,
    reason,
    environment,
    application,
    token: reason === 'sign_out' ? null : token
  };
}

/** `call_reply`: the relayed call's HTTP status and JSON body. */
export function callReply(id: string, status: number, body: unknown): FrontendMessage {
  return { v: 1, type: MSG_CALL_REPLY, id, status, body: body ?? null };
}

/**
 * `error`. `serverBody` is the server's `{error, message, ...}`, forwarded as it came;
 * without one, `code` and `message` say what went wrong here.
 */
export function error(
  id: string | null,
  code: string,
  message: string,
  serverBody: Readonly<Record<string, unknown>> = {}
): IErrorMessage {
  const { id: _id, v: _v, type: _type, ...details } = serverBody;
  const base = id
    ? { v: 1 as const, type: MSG_ERROR as typeof MSG_ERROR, id }
    : { v: 1 as const, type: MSG_ERROR as typeof MSG_ERROR };
  return { ...details, ...base, error: code, message };
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}
