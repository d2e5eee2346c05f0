import { STATUS_CODES } from 'node:http';

/** The one JSON error shape every failing request gets. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  requestId: string;
  [extra: string]: unknown;
}

export function errorBody(statusCode: number, message: string, requestId: string, extra?: object): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, requestId, ...extra };
}
