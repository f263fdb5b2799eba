// Counts its own evaluations, then fails like a module missing its configuration.
globalThis.__weftThrowsOnLoad = (globalThis.__weftThrowsOnLoad || 0) + 1;
throw new Error('SMTP_URL is not set');
