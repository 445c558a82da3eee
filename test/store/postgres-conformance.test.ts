import { postgresStoreFactory } from '../helpers/postgres.ts';
import { describeStoreConformance } from './conformance.ts';

describeStoreConformance('postgres', postgresStoreFactory());
