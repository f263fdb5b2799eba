import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useState } from 'react';
import { apiKey, onUnauthorized } from './api/client';
import { Loading, Placeholder } from './components/common';
import { RunsPage } from './pages/RunsPage';
import { Link, match, navigate, useLocation } from './router';

// Pages beyond the runs list load on first use: the graph library, the YAML library and the
// charts stay out of the first page's bundle.
const RunPage = lazy(() => import('./pages/RunPage').then((m) => ({ default: m.RunPage })));
const WorkflowPage = lazy(() => import('./pages/WorkflowPage').then((m) => ({ default: m.WorkflowPage })));
const WorkflowsPage = lazy(() => import('./pages/WorkflowsPage').then((m) => ({ default: m.WorkflowsPage })));
const ReviewsPage = lazy(() => import('./pages/ReviewsPage').then((m) => ({ default: m.ReviewsPage })));
const TriggersPage = lazy(() => import('./pages/TriggersPage').then((m) => ({ default: m.TriggersPage })));
const ExceptionsPage = lazy(() => import('./pages/ExceptionsPage').then((m) => ({ default: m.ExceptionsPage })));
const InsightsPage = lazy(() => import('./pages/InsightsPage').then((m) => ({ default: m.InsightsPage })));

type Theme = 'dark' | 'light';
const THEME_KEY = 'weft.theme';

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === 'dark' || saved === 'light') return saved;
  return window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

const NAV = [
  { to: '/runs', label: 'Runs' },
  { to: '/workflows', label: 'Workflows' },
  { to: '/insights', label: 'Insights' },
  { to: '/reviews', label: 'Reviews' },
  { to: '/exceptions', label: 'Exceptions' },
  { to: '/triggers', label: 'Triggers' },
];

export function App(): React.JSX.Element {
  const { path } = useLocation();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [askKey, setAskKey] = useState(false);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem(THEME_KEY, theme);
  }, [theme]);
  useEffect(() => onUnauthorized(() => setAskKey(true)), []);
  useEffect(() => {
    if (path === '/' || path === '') navigate('/runs', { replace: true });
  }, [path]);

  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/runs" className="brand">
          Weft
        </Link>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <Link key={n.to} to={n.to} aria-current={path.startsWith(n.to) ? 'page' : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <span className="spacer" />
        <button type="button" onClick={() => setAskKey(true)} title="Set the API key for this tab">
          {apiKey.get() ? 'API key ✓' : 'API key'}
        </button>
        <button type="button" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`} data-testid="theme-toggle">
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Route path={path} />
        </Suspense>
      </main>
      {askKey && <KeyPrompt onDone={() => setAskKey(false)} />}
    </div>
  );
}

function Route({ path }: { path: string }): React.JSX.Element {
  let m: Record<string, string> | null;
  if ((m = match('/runs/:id', path))) return <RunPage key={m.id} runId={m.id ?? ''} />;
  if (match('/runs', path)) return <RunsPage />;
  if ((m = match('/workflows/:name', path))) return <WorkflowPage key={m.name} name={m.name ?? ''} />;
  if (match('/workflows', path)) return <WorkflowsPage />;
  if (match('/insights', path)) return <InsightsPage />;
  if ((m = match('/reviews/:id', path))) return <ReviewsPage reviewId={m.id ?? ''} />;
  if (match('/reviews', path)) return <ReviewsPage />;
  if (match('/exceptions', path)) return <ExceptionsPage />;
  if ((m = match('/triggers/:workflow/:trigger', path))) return <TriggersPage selected={{ workflow: m.workflow ?? '', trigger: m.trigger ?? '' }} />;
  if (match('/triggers', path)) return <TriggersPage />;
  return (
    <Placeholder title="Not found">
      No page at <code>{path}</code>. <Link to="/runs">Go to runs</Link>.
    </Placeholder>
  );
}

function KeyPrompt({ onDone }: { onDone: () => void }): React.JSX.Element {
  const client = useQueryClient();
  const [value, setValue] = useState('');
  const save = (e: React.FormEvent): void => {
    e.preventDefault();
    if (value.trim()) apiKey.set(value.trim());
    else apiKey.clear();
    onDone();
    void client.invalidateQueries();
  };
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="key-title" data-testid="key-prompt">
      <form className="card" onSubmit={save}>
        <h2 id="key-title">API key</h2>
        <p>
          This server wants an API key (<code>weft keys create --namespace &lt;name&gt;</code>). It is kept in this tab's session storage only, and sent as{' '}
          <code>Authorization: Bearer</code>, never in a URL.
        </p>
        <input type="password" autoFocus value={value} onChange={(e) => setValue(e.target.value)} placeholder="weft_…" aria-label="API key" autoComplete="off" />
        <div className="row end">
          <button type="button" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Use key
          </button>
        </div>
      </form>
    </div>
  );
}
