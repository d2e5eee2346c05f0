import { checkFetchedAnswers } from './contract';

// Every test file's fetch checks the API's answers against docs/openapi.json (see contract.ts).
checkFetchedAnswers();
