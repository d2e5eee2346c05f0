/** The mark the OpenAPI builder (src/pipeline/openapi.ts) replaces with the empty schema. */
export const ANY_JSON_MARK = 'x-any-json';

/**
 * For `@ApiProperty({ ...ANY_JSON })`: a property that holds any JSON value, null included. OpenAPI
 * 3.0 has no type for that but the empty schema, which @nestjs/swagger cannot emit (it gives an
 * untyped property `type: object`), so the mark is replaced with it when the document is built.
 */
export const ANY_JSON = { [ANY_JSON_MARK]: true } as const;
