export { runTriggers, type RunTriggersOptions } from './triggers.app';
export { TriggersModule, TriggerHooksModule, triggersParts, type TriggersModuleOptions, type TriggersParts } from './triggers.module';
export { openTriggerStore, SqlTriggerStore } from './persistence/sql-trigger.store';
export { TRIGGERS_MIGRATIONS, TRIGGERS_MIGRATIONS_TABLE } from './persistence/triggers-schema';
export { signWebhook, verifyWebhook, WEBHOOK_PRESETS } from './domain/webhook.util';
