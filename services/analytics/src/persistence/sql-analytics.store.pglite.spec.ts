import { describeStoreOnPglite } from '@weft/platform/testing';
import { describeSqlAnalyticsStore } from '../testing/sql-analytics.store.cases';
import { openAnalyticsStore } from './sql-analytics.store';

describeStoreOnPglite('analytics', openAnalyticsStore, describeSqlAnalyticsStore);
