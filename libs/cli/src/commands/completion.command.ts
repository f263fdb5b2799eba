import type { Command } from 'commander';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

/** Every command path (`runs list`) with its options, read from the program itself: never out of date. */
function commandTable(program: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const walk = (command: Command, path: string[]): void => {
    const words = command.commands.map((c) => c.name());
    const options = command.options.flatMap((o) => [o.long, o.short].filter((flag): flag is string => flag !== undefined));
    table.set(path.join(' '), [...words, ...options, '--help']);
    for (const child of command.commands) walk(child, [...path, child.name()]);
  };
  walk(program, []);
  return table;
}

const quote = (words: string[]): string => words.join(' ').replace(/'/g, '');

function bashScript(table: Map<string, string[]>): string {
  const cases = [...table.entries()].map(([path, words]) => `    '${path}') words='${quote(words)}' ;;`);
  return `# weft completion for bash: eval "$(weft completion bash)" (e.g. in ~/.bashrc)
_weft_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$word" in -*) ;; *) [ -n "$path" ] && path="$path $word" || path="$word" ;; esac
  done
  local words
  case "$path" in
${cases.join('\n')}
    *) words='' ;;
  esac
  if [ -z "$words" ] || [[ "$cur" != -* && -z "$(compgen -W "$words" -- "$cur")" ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -o default -F _weft_complete weft
`;
}

function zshScript(table: Map<string, string[]>): string {
  return `#compdef weft
# weft completion for zsh: eval "$(weft completion zsh)" (after compinit), or save as _weft in your $fpath
autoload -U +X bashcompinit && bashcompinit
${bashScript(table)}`;
}

/** `weft completion bash|zsh`: a completion script built from the program's own commands and options. */
export function completionCommand(shell: string, program: Command, io: Io): number {
  const table = commandTable(program);
  switch (shell) {
    case 'bash':
      io.write(bashScript(table));
      return EXIT.ok;
    case 'zsh':
      io.write(zshScript(table));
      return EXIT.ok;
    default:
      io.err(`weft completion: unknown shell "${shell}"; expected bash or zsh`);
      return EXIT.invalid;
  }
}
