// RFC 9110: auth schemes are case-insensitive, followed by one or more spaces.
const BEARER = /^bearer +(\S+)$/i;
// Our tokens are "pbt_" + 43 base64url characters; anything far longer is not worth hashing.
const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/** The credentials of an `Authorization: Bearer <credentials>` header, or undefined. */
export function bearerCredentials(header: string): string | undefined {
  return BEARER.exec(header)?.[1];
}

/** The token of a bearer header when it can be one of ours, or undefined. */
export function bearerToken(header: string): string | undefined {
  const credentials = bearerCredentials(header);
  return credentials !== undefined && TOKEN.test(credentials) ? credentials : undefined;
}
