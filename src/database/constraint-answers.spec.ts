import { ConflictException, NotFoundException } from '@nestjs/common';
import { isUniqueViolation, withConstraints } from './constraint-answers';

function queryFailed(code: string): Error {
  return Object.assign(new Error('query failed'), { name: 'QueryFailedError', driverError: Object.assign(new Error('boom'), { code }) });
}

const answers = { unique: () => new ConflictException('taken'), foreignKey: () => new NotFoundException('gone') };

describe('withConstraints', () => {
  it('answers a unique violation with the feature’s answer', async () => {
    await expect(withConstraints(Promise.reject(queryFailed('23505')), answers)).rejects.toThrow(ConflictException);
  });

  it('answers a foreign key violation with the feature’s answer', async () => {
    await expect(withConstraints(Promise.reject(queryFailed('23503')), answers)).rejects.toThrow(NotFoundException);
  });

  it('passes a violation the feature did not name through unchanged, for the global filter', async () => {
    const err = queryFailed('23503');
    await expect(withConstraints(Promise.reject(err), { unique: answers.unique })).rejects.toBe(err);
  });

  it('passes other errors and results through', async () => {
    const err = queryFailed('57014');
    await expect(withConstraints(Promise.reject(err), answers)).rejects.toBe(err);
    await expect(withConstraints(Promise.resolve(7), answers)).resolves.toBe(7);
  });
});

describe('isUniqueViolation', () => {
  it('tells a unique violation from other errors', () => {
    expect([queryFailed('23505'), queryFailed('23503'), new Error('x')].map(isUniqueViolation)).toEqual([true, false, false]);
  });
});
