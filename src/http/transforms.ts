import { Transform } from 'class-transformer';

/**
 * Query strings arrive as text. Only plain decimal digits become numbers (Number() would also take
 * "0x10", "1e3" or " 7 "); anything else stays text and fails the @IsInt / @IsNumber that follows.
 */
export const ToInteger = () => Transform(({ value }) => (typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value));

export const ToDecimal = () =>
  Transform(({ value }) => (typeof value === 'string' && /^-?\d{1,15}(\.\d{1,15})?$/.test(value) ? Number(value) : value));
