import { AnalyticsSchema1795300000100 } from './migrations/1795300000100-analytics-schema.migration';
import { AnalyticsNamespaces1795600000100 } from './migrations/1795600000100-analytics-namespaces.migration';
import { AnalyticsReviews1796960000100 } from './migrations/1796960000100-analytics-reviews.migration';

/** Oldest first. Append new migrations; never edit an applied one. */
export const ANALYTICS_MIGRATIONS = [AnalyticsSchema1795300000100, AnalyticsNamespaces1795600000100, AnalyticsReviews1796960000100];

/** Analytics' own bookkeeping table, so services sharing a database do not see each other's migrations. */
export const ANALYTICS_MIGRATIONS_TABLE = 'analytics_migrations';
