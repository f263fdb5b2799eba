import { describeStoreOnPglite } from '@weft/platform/testing';
import { describeSqlJournalStore } from '../testing/sql-journal.store.cases';
import { openJournalStore } from './sql-journal.store';

describeStoreOnPglite('journal', openJournalStore, describeSqlJournalStore);
