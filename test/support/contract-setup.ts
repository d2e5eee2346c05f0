import { checkDeferredAnswers, checkFetchedAnswers } from './contract';

// Every test file's fetch checks the API's answers against docs/openapi.json (see contract.ts);
// answers a test timed are checked once it is done.
checkFetchedAnswers();
afterEach(() => checkDeferredAnswers());
