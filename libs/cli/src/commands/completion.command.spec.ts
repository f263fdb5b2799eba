import { main } from '../main';
import type { Io } from '../io';

const capture = (): Io & { text: () => string; errors: string[] } => {
  const chunks: string[] = [];
  const errors: string[] = [];
  return { out: (l) => chunks.push(`${l}\n`), err: (l) => errors.push(l), write: (t) => chunks.push(t), isTTY: false, text: () => chunks.join(''), errors };
};

describe('weft completion', () => {
  it('prints a bash script listing every command path with its subcommands and options, read from the program', async () => {
    const io = capture();
    expect(await main(['node', 'weft', 'completion', 'bash'], io)).toBe(0);
    const script = io.text();
    expect(script).toContain('complete -o default -F _weft_complete weft');
    expect(script).toMatch(/''\) words='[^']*\bvalidate\b[^']*\bcompletion\b[^']*\bruns\b/);
    expect(script).toMatch(/'runs list'\) words='[^']*--api[^']*--workflow/);
    expect(script).toMatch(/'run'\) words='[^']*--no-store/);
  });

  it('wraps it for zsh, and refuses other shells with exit 2', async () => {
    const zsh = capture();
    expect(await main(['node', 'weft', 'completion', 'zsh'], zsh)).toBe(0);
    expect(zsh.text()).toMatch(/^#compdef weft\n[\s\S]*bashcompinit/);
    const fish = capture();
    expect(await main(['node', 'weft', 'completion', 'fish'], fish)).toBe(2);
    expect(fish.errors).toEqual(['weft completion: unknown shell "fish"; expected bash or zsh']);
  });
});
